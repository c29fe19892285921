{#- Every activity of every type (custom types too: the tables are found, not listed), with the columns all
    activities share and the rest as JSON. Incremental on the time the sync published each row. -#}
{{ config(materialized='incremental', unique_key='activity_id', on_schema_change='append_new_columns',
          indexes=[{'columns': ['activity_id'], 'unique': true}, {'columns': ['lead_id']}]) }}
with unioned as (
  {{ union_activities(since=incremental_since() if is_incremental() else none) }}
)
select distinct on (unioned.activity_id)
  unioned.activity_id,
  unioned.lead_id,
  unioned.activity_timestamp,
  unioned.activity_type_id,
  types.activity_type_name,
  unioned.campaign_id,
  unioned.primary_attribute_value_id,
  unioned.primary_attribute_value,
  unioned.source_table,
  unioned.attributes,
  unioned.synced_at
from unioned
left join {{ ref('stg_marketo__activity_type') }} as types using (activity_type_id)
order by unioned.activity_id, unioned.synced_at desc nulls last
