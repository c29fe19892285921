{#- One row per email: every email the email table lists and every email an activity names (a send, or an open
    or click of an email Marketo no longer lists), with its template and its engagement. -#}
with ids as (
  select email_id from {{ ref('stg_marketo__email') }}
  union
  select primary_attribute_value_id from {{ ref('stg_marketo__activity_send_email') }}
  where primary_attribute_value_id is not null
  union
  select email_id from {{ ref('int_marketo__email_events') }}
  where email_id is not null
),

named_by_sends as (
  select distinct on (primary_attribute_value_id) primary_attribute_value_id as email_id,
    primary_attribute_value as email_name
  from {{ ref('stg_marketo__activity_send_email') }}
  order by primary_attribute_value_id, activity_timestamp desc
),

metrics as (
  {{ email_metrics('email_id') }}
)

select
  ids.email_id,
  coalesce(emails.email_name, named_by_sends.email_name) as email_name,
  emails.email_template_id,
  emails.email_status,
  emails.email_editor_version,
  emails.subject,
  emails.folder,
  emails.email_url,
  emails.workspace_name,
  emails.created_timestamp,
  emails.updated_timestamp,
  coalesce(emails.is_deleted, false) as is_deleted,
  emails.email_id is not null as is_listed,
  {{ email_metric_columns('metrics') }}
from ids
left join {{ ref('stg_marketo__email') }} as emails on emails.email_id = ids.email_id
left join named_by_sends on named_by_sends.email_id = ids.email_id
left join metrics on metrics.key = ids.email_id
