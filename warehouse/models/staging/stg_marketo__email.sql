{#- One row per email (asset emails.json), renamed: email_template_id is the template the email is built on
    (Marketo's `template`); email_editor_version is Marketo's `version`, the editor generation (1 or 2), not a
    revision. -#}
{%- set relation = source('marketo', 'email') -%}
select
  id as email_id,
  name as email_name,
  description,
  subject,
  status as email_status,
  template as email_template_id,
  version as email_editor_version,
  folder,
  url as email_url,
  workspace as workspace_name,
  operational as is_operational,
  text_only as is_text_only,
  created_at as created_timestamp,
  updated_at as updated_timestamp,
  {{ is_deleted(relation) }} as is_deleted,
  {{ synced_at(relation) }} as synced_at
from ({{ latest_row(relation, ['id']) }}) as emails
