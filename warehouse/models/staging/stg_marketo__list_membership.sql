{%- set relation = source('marketo', 'list_membership') -%}
select
  list_id,
  lead_id,
  created_at as created_timestamp,
  updated_at as updated_timestamp,
  {{ is_deleted(relation) }} as is_deleted
from ({{ latest_row(relation, ['list_id', 'lead_id']) }}) as memberships
