{%- set relation = source('marketo', 'lead') -%}
with latest as (
  {{ latest_row(relation, ['id']) }}
)
select
  id as lead_id,
  created_at as created_timestamp,
  updated_at as updated_timestamp,
  unsubscribed as is_unsubscribed,
  {{ is_deleted(relation) }} as is_deleted,
  {{ synced_at(relation) }} as synced_at,
  {{ columns_except(relation, ['id', 'created_at', 'updated_at', 'unsubscribed', '__deleted', '_synced_at']) }}
from latest
