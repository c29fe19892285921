with campaigns as (
  select program_id, count(*) as count_campaigns,
    {%- for name in ['sends', 'deliveries', 'opens', 'clicks', 'bounces', 'soft_bounces', 'unsubscribes',
                     'unique_opens', 'unique_clicks'] %}
    sum(count_{{ name }})::bigint as count_{{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
  from {{ ref('campaigns') }}
  where program_id is not null
  group by program_id
),

members as (
  select program_id, count(*) as count_members,
    count(*) filter (where has_reached_success) as count_members_reached_success
  from {{ ref('stg_marketo__program_membership') }}
  where not is_deleted
  group by program_id
)

select
  programs.*,
  coalesce(campaigns.count_campaigns, 0) as count_campaigns,
  {{ email_metric_columns('campaigns') }},
  coalesce(members.count_members, 0) as count_members,
  coalesce(members.count_members_reached_success, 0) as count_members_reached_success
from {{ ref('stg_marketo__program') }} as programs
left join campaigns on campaigns.program_id = programs.program_id
left join members on members.program_id = programs.program_id
where not programs.is_deleted
