{#- One row per email: every id in the template history and every email an activity names (a send, or an open
    or click whose send Marketo no longer keeps), with its most recent version and its engagement. -#}
with ids as (
  select email_template_id from {{ ref('stg_marketo__email_template_history') }}
  union
  select primary_attribute_value_id from {{ ref('stg_marketo__activity_send_email') }}
  where primary_attribute_value_id is not null
  union
  select email_template_id from {{ ref('int_marketo__email_events') }}
  where email_template_id is not null
),

named_by_sends as (
  select distinct on (primary_attribute_value_id) primary_attribute_value_id as email_template_id,
    primary_attribute_value as email_name
  from {{ ref('stg_marketo__activity_send_email') }}
  order by primary_attribute_value_id, activity_timestamp desc
),

metrics as (
  {{ email_metrics('email_template_id') }}
)

select
  ids.email_template_id,
  coalesce(latest.email_template_name, named_by_sends.email_name) as email_template_name,
  latest.email_template_history_id,
  latest.email_template_status,
  latest.email_template_version,
  latest.inferred_version,
  latest.total_count_of_versions,
  latest.description,
  latest.folder,
  latest.email_template_url,
  latest.workspace_name,
  latest.created_timestamp,
  latest.updated_timestamp,
  latest.valid_from,
  latest.valid_to,
  latest.email_template_id is not null as has_history,
  {{ email_metric_columns('metrics') }}
from ids
left join {{ ref('stg_marketo__email_template_history') }} as latest
  on latest.email_template_id = ids.email_template_id and latest.is_most_recent_version
left join named_by_sends on named_by_sends.email_template_id = ids.email_template_id
left join metrics on metrics.key = ids.email_template_id
