{#- Activities: one table per activity type (custom types included), found in the information schema. -#}

{% macro activity_tables() -%}
  {#- The activity tables the sink made, sorted: every `<prefix>_activity_*` but the type catalogue. -#}
  {%- if not execute -%}{{ return([]) }}{%- endif -%}
  {%- set prefix = var('marketo_table_prefix') ~ '_activity_' -%}
  {%- set found = run_query(
      "select table_name from information_schema.tables where table_schema = '" ~ var('marketo_source_schema')
      ~ "' and left(table_name, " ~ (prefix | length) ~ ") = '" ~ prefix ~ "' and table_name <> '"
      ~ var('marketo_table_prefix') ~ "_activity_type' order by table_name") -%}
  {{ return(found.columns[0].values() | list) }}
{%- endmacro %}

{% macro activity_columns(relation, source_table) -%}
  {#- The columns every activity has, renamed as the marts name them, and the rest as one JSON object. -#}
  marketo_guid::text as activity_id,
    lead_id::bigint as lead_id,
    activity_date as activity_timestamp,
    activity_type_id::bigint as activity_type_id,
    campaign_id::bigint as campaign_id,
    primary_attribute_value_id::bigint as primary_attribute_value_id,
    primary_attribute_value::text as primary_attribute_value,
    '{{ source_table }}'::text as source_table,
    to_jsonb(t) - array['marketo_guid', 'lead_id', 'activity_date', 'activity_type_id', 'campaign_id',
      'primary_attribute_value_id', 'primary_attribute_value', '_synced_at', '__deleted'] as attributes,
    {{ synced_at(relation, 't.') }} as synced_at
{%- endmacro %}

{% macro union_activities(since=none) -%}
  {%- set tables = activity_tables() -%}
  {%- if tables | length == 0 %}
  select null::text as activity_id, null::bigint as lead_id, null::timestamp as activity_timestamp,
    null::bigint as activity_type_id, null::bigint as campaign_id, null::bigint as primary_attribute_value_id,
    null::text as primary_attribute_value, null::text as source_table, null::jsonb as attributes,
    null::timestamp as synced_at
  where false
  {%- endif %}
  {%- for table in tables %}
  {%- set relation = adapter.get_relation(database=target.database, schema=var('marketo_source_schema'), identifier=table) %}
  select {{ activity_columns(relation, table[(var('marketo_table_prefix') | length) + 1:]) }}
  from {{ relation }} as t
  {%- if since is not none and has_column(relation, '_synced_at') %}
  where t."_synced_at" >= {{ since }}
  {%- endif %}
  {% if not loop.last %}union all{% endif %}
  {%- endfor %}
{%- endmacro %}

{% macro activity_source(table) -%}
  {#- One activity table for a staging model, or an empty one of the same shape when the type never occurred. -#}
  {%- set relation = marketo_relation(table) -%}
  {%- if relation is none %}
  select null::text as activity_id, null::bigint as lead_id, null::timestamp as activity_timestamp,
    null::bigint as activity_type_id, null::bigint as campaign_id, null::bigint as primary_attribute_value_id,
    null::text as primary_attribute_value, null::text as source_table, null::jsonb as attributes,
    null::timestamp as synced_at
  where false
  {%- else %}
  select distinct on (activity_id) * from (
    select {{ activity_columns(relation, table) }}
    from {{ relation }} as t
  ) as activities
  order by activity_id, synced_at desc nulls last
  {%- endif %}
{%- endmacro %}

{% macro incremental_since(column='synced_at') -%}
  {#- Rows published since the newest this model holds, less a lookback for sinks that write late. -#}
  (select coalesce(max({{ column }}), '-infinity'::timestamp) - interval '{{ var("incremental_lookback_hours") }} hours'
   from {{ this }})
{%- endmacro %}
