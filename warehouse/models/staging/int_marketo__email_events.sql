{#- Every email event after a send, one row each, named by what happened. -#}
{%- set kinds = [('delivered', 'email_delivered'), ('opened', 'open_email'), ('clicked', 'click_email'),
                 ('bounced', 'email_bounced'), ('soft_bounced', 'email_bounced_soft'),
                 ('unsubscribed', 'unsubscribe_email')] -%}
{%- for event, table in kinds %}
select '{{ event }}'::text as event_type, activity_id, lead_id, activity_timestamp, campaign_id,
  primary_attribute_value_id as email_template_id, synced_at
from {{ ref('stg_marketo__activity_' ~ table) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
