{%- set relation = source('marketo', 'campaign') -%}
select
  id as campaign_id,
  name as campaign_name,
  type as campaign_type,
  description,
  program_id,
  program_name,
  workspace_name,
  created_at as created_timestamp,
  updated_at as updated_timestamp,
  coalesce(is_active, active) as is_active,
  status as campaign_status,
  {{ is_deleted(relation) }} as is_deleted
from ({{ latest_row(relation, ['id']) }}) as campaigns
