{#- One row per version of an email template, with the span it was in force: from its update to the next. -#}
{%- set relation = source('marketo', 'email_template_history') -%}
with versions as (
  select * from ({{ latest_row(relation, ['id', 'updated_at']) }}) as rows
  where not {{ is_deleted(relation) }}
)
select
  id::text || ':' || (extract(epoch from updated_at) * 1000)::bigint::text as email_template_history_id,
  id as email_template_id,
  name as email_template_name,
  description,
  status as email_template_status,
  folder,
  url as email_template_url,
  workspace as workspace_name,
  version as email_template_version,
  created_at as created_timestamp,
  updated_at as updated_timestamp,
  updated_at as valid_from,
  lead(updated_at) over (partition by id order by updated_at) as valid_to,
  row_number() over (partition by id order by updated_at) as inferred_version,
  lead(updated_at) over (partition by id order by updated_at) is null as is_most_recent_version,
  count(*) over (partition by id) as total_count_of_versions,
  {{ synced_at(relation) }} as synced_at
from versions
