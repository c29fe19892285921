{%- set relation = source('marketo', 'program') -%}
select
  id as program_id,
  name as program_name,
  type as program_type,
  channel,
  status as program_status,
  description,
  workspace,
  url,
  sfdc_id,
  sfdc_name,
  created_at as created_timestamp,
  updated_at as updated_timestamp,
  start_date as start_timestamp,
  end_date as end_timestamp,
  {{ is_deleted(relation) }} as is_deleted
from ({{ latest_row(relation, ['id']) }}) as programs
