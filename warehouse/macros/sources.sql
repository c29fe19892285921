{#- Where the Connect sink's tables are, and what to do when one does not exist (yet). -#}

{% macro marketo_identifier(table) -%}
  {{ return(var('marketo_table_prefix') ~ '_' ~ table) }}
{%- endmacro %}

{% macro marketo_relation(table) -%}
  {#- The relation of a sink table, or none: an activity type nobody performed has no table. -#}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {{ return(adapter.get_relation(database=target.database, schema=var('marketo_source_schema'),
                                 identifier=marketo_identifier(table))) }}
{%- endmacro %}

{% macro has_column(relation, name) -%}
  {%- if relation is none -%}{{ return(false) }}{%- endif -%}
  {%- for column in adapter.get_columns_in_relation(relation) -%}
    {%- if column.name == name -%}{{ return(true) }}{%- endif -%}
  {%- endfor -%}
  {{ return(false) }}
{%- endmacro %}

{% macro is_deleted(relation, alias='') -%}
  {#- __deleted exists when the sync ran with kafka.delete_mode soft or both; otherwise deleted rows are gone. -#}
  {%- if has_column(relation, '__deleted') -%}coalesce({{ alias }}"__deleted", false){%- else -%}false{%- endif -%}
{%- endmacro %}

{% macro synced_at(relation, alias='') -%}
  {#- _synced_at: when the sync published the row (absent from tables made by releases before it). -#}
  {%- if has_column(relation, '_synced_at') -%}{{ alias }}"_synced_at"{%- else -%}null::timestamp{%- endif -%}
{%- endmacro %}

{% macro columns_except(relation, excluded, alias='') -%}
  {#- Every column of the relation but the excluded ones, quoted: Marketo field names can be SQL words. -#}
  {%- set kept = [] -%}
  {%- for column in adapter.get_columns_in_relation(relation) -%}
    {%- if column.name not in excluded -%}{%- do kept.append(alias ~ adapter.quote(column.name)) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(kept | join(',\n    ')) }}
{%- endmacro %}

{% macro latest_row(relation, key, order='"_synced_at" desc nulls last') -%}
  {#- One row per key: the sink upserts by key, so this only matters for tables read from elsewhere. -#}
  select distinct on ({{ key | join(', ') }}) *
  from {{ relation }}
  order by {{ key | join(', ') }}{% if has_column(relation, '_synced_at') %}, {{ order }}{% endif %}
{%- endmacro %}
