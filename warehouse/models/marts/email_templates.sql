{#- One row per email template: every id in the template history and every template an email is built on, with
    its most recent version and the engagement of the emails built on it (sends reach a template through their
    email: a send names an email, the email names its template). -#}
with ids as (
  select email_template_id from {{ ref('stg_marketo__email_template_history') }}
  union
  select email_template_id from {{ ref('stg_marketo__email') }}
  where email_template_id is not null
),

emails as (
  select email_template_id, count(*) as count_emails
  from {{ ref('stg_marketo__email') }}
  where not is_deleted
  group by email_template_id
),

metrics as (
  {{ email_metrics('email_template_id') }}
)

select
  ids.email_template_id,
  latest.email_template_name,
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
  coalesce(emails.count_emails, 0) as count_emails,
  {{ email_metric_columns('metrics') }}
from ids
left join {{ ref('stg_marketo__email_template_history') }} as latest
  on latest.email_template_id = ids.email_template_id and latest.is_most_recent_version
left join emails on emails.email_template_id = ids.email_template_id
left join metrics on metrics.key = ids.email_template_id
