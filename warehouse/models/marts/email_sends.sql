{#- One row per email send. An event (delivery, open, click, bounce, unsubscribe) belongs to the latest send of
    the same email to the same lead at or before it.
    A send names an email (its primary attribute); the email names its template (`template` of emails.json). The
    template version is the one in force when the email was sent: of the template's history, the latest row whose
    status is approved and whose updated_at is at or before the send's activity_timestamp. An approved revision's
    updated_at is when it was approved, so that is the approval time; drafts are never sent and are left out. A
    send earlier than every approved revision the sync has seen has no version (null).
    Incremental: sends published since the last build, the sends that events published since then belong to,
    and the sends of emails and templates published since then are built again. -#}
{{ config(materialized='incremental', unique_key='email_send_id', on_schema_change='append_new_columns',
          indexes=[{'columns': ['email_send_id'], 'unique': true}]) }}
with sends as (
  select * from {{ ref('stg_marketo__activity_send_email') }}
),

matched as (
  select events.*, send.activity_id as email_send_id
  from {{ ref('int_marketo__email_events') }} as events
  join lateral (
    select s.activity_id from sends as s
    where s.lead_id = events.lead_id and s.primary_attribute_value_id = events.email_id
      and s.activity_timestamp <= events.activity_timestamp
    order by s.activity_timestamp desc, s.activity_id desc
    limit 1
  ) as send on true
),

{% if is_incremental() %}
touched as (
  select activity_id as email_send_id from sends where synced_at >= {{ incremental_since('synced_at') }}
  union
  select email_send_id from matched where synced_at >= {{ incremental_since('synced_at') }}
  union
  select sends.activity_id from sends
  join {{ ref('stg_marketo__email') }} as emails on emails.email_id = sends.primary_attribute_value_id
  where emails.synced_at >= {{ incremental_since('synced_at') }}
    or emails.email_template_id in (
      select email_template_id from {{ ref('stg_marketo__email_template_history') }}
      where synced_at >= {{ incremental_since('synced_at') }})
),
{% endif %}

rolled_up as (
  select
    email_send_id,
    {%- for event, name in [('delivered', 'deliveries'), ('opened', 'opens'), ('clicked', 'clicks'),
                            ('bounced', 'bounces'), ('soft_bounced', 'soft_bounces'), ('unsubscribed', 'unsubscribes')] %}
    count(*) filter (where event_type = '{{ event }}') as count_{{ name }},
    min(activity_timestamp) filter (where event_type = '{{ event }}') as first_{{ event }}_timestamp,
    {%- endfor %}
    max(synced_at) as events_synced_at
  from matched
  group by email_send_id
)

select
  sends.activity_id as email_send_id,
  sends.activity_id,
  sends.activity_timestamp,
  sends.activity_type_id,
  sends.lead_id,
  sends.primary_attribute_value_id as email_id,
  emails.email_name,
  emails.email_template_id,
  sends.primary_attribute_value_id,
  sends.primary_attribute_value,
  sends.campaign_id,
  (sends.attributes ->> 'campaign_run_id')::bigint as campaign_run_id,
  (sends.attributes ->> 'choice_number')::bigint as choice_number,
  (sends.attributes ->> 'step_id')::bigint as step_id,
  {%- for name in ['deliveries', 'opens', 'clicks', 'bounces', 'soft_bounces', 'unsubscribes'] %}
  coalesce(rolled_up.count_{{ name }}, 0) as count_{{ name }},
  {%- endfor %}
  {%- for event, flag in [('delivered', 'delivered'), ('opened', 'opened'), ('clicked', 'clicked'),
                          ('bounced', 'bounced'), ('unsubscribed', 'unsubscribed')] %}
  rolled_up.first_{{ event }}_timestamp is not null as was_{{ flag }},
  rolled_up.first_{{ event }}_timestamp,
  {%- endfor %}
  campaigns.campaign_name,
  campaigns.campaign_type,
  campaigns.program_id,
  programs.program_name,
  versions.email_template_history_id,
  versions.email_template_name,
  versions.email_template_version,
  versions.inferred_version as email_template_inferred_version,
  greatest(sends.synced_at, rolled_up.events_synced_at) as synced_at
from sends
left join rolled_up on rolled_up.email_send_id = sends.activity_id
left join {{ ref('stg_marketo__campaign') }} as campaigns on campaigns.campaign_id = sends.campaign_id
left join {{ ref('stg_marketo__program') }} as programs on programs.program_id = campaigns.program_id
left join {{ ref('stg_marketo__email') }} as emails on emails.email_id = sends.primary_attribute_value_id
left join lateral (
  select h.* from {{ ref('stg_marketo__email_template_history') }} as h
  where h.email_template_id = emails.email_template_id and lower(h.email_template_status) = 'approved'
    and h.updated_timestamp <= sends.activity_timestamp
  order by h.updated_timestamp desc
  limit 1
) as versions on true
{% if is_incremental() %}
where sends.activity_id in (select email_send_id from touched)
{% endif %}
