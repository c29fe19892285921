{#- The current leads with their email engagement and program memberships. Deleted leads are absent
    (kafka.delete_mode tombstone) or present with is_deleted true and their other columns null (soft). -#}
with memberships as (
  select lead_id, count(*) as count_program_memberships,
    array_agg(program_id order by program_id) as program_ids,
    count(*) filter (where has_reached_success) as count_programs_reached_success
  from {{ ref('stg_marketo__program_membership') }}
  where not is_deleted
  group by lead_id
),

metrics as (
  {{ email_metrics('lead_id') }}
)

select
  leads.*,
  {{ email_metric_columns('metrics') }},
  coalesce(memberships.count_program_memberships, 0) as count_program_memberships,
  coalesce(memberships.count_programs_reached_success, 0) as count_programs_reached_success,
  coalesce(memberships.program_ids, array[]::bigint[]) as program_ids
from {{ ref('stg_marketo__lead') }} as leads
left join metrics on metrics.key = leads.lead_id
left join memberships on memberships.lead_id = leads.lead_id
