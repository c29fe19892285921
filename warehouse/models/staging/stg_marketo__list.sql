{%- set relation = source('marketo', 'list') -%}
select
  id as list_id,
  name as list_name,
  description,
  program_name,
  workspace_name,
  created_at as created_timestamp,
  updated_at as updated_timestamp,
  {{ is_deleted(relation) }} as is_deleted
from ({{ latest_row(relation, ['id']) }}) as lists
