{#- Every email event after a send, one row each, named by what happened, with the email it names (the
    activity's primary attribute) and that email's template. -#}
{%- set kinds = [('delivered', 'email_delivered'), ('opened', 'open_email'), ('clicked', 'click_email'),
                 ('bounced', 'email_bounced'), ('soft_bounced', 'email_bounced_soft'),
                 ('unsubscribed', 'unsubscribe_email')] -%}
with events as (
{%- for event, table in kinds %}
  select '{{ event }}'::text as event_type, activity_id, lead_id, activity_timestamp, campaign_id,
    primary_attribute_value_id as email_id, synced_at
  from {{ ref('stg_marketo__activity_' ~ table) }}
  {% if not loop.last %}union all{% endif %}
{%- endfor %}
)
select events.event_type, events.activity_id, events.lead_id, events.activity_timestamp, events.campaign_id,
  events.email_id, emails.email_template_id, events.synced_at
from events
left join {{ ref('stg_marketo__email') }} as emails on emails.email_id = events.email_id
