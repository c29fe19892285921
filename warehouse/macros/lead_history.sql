{% macro marketo_column_name(expression) -%}
  {#- A Marketo field name as the sync names its column (marketo_stream/schema/names.py) for ordinary names:
      acronyms split before a capitalised word, camelCase split, anything else an underscore, lower case. -#}
  trim(both '_' from lower(regexp_replace(
    regexp_replace(regexp_replace({{ expression }}, '([A-Z]+)([A-Z][a-z])', '\1_\2', 'g'), '([a-z0-9])([A-Z])', '\1_\2', 'g'),
    '[^A-Za-z0-9]+', '_', 'g')))
{%- endmacro %}

{% macro lead_column_type(column) -%}
  {#- The PostgreSQL type of a lead column, to cast the text of Change Data Value activities to it. -#}
  {%- set relation = marketo_relation('lead') -%}
  {%- if relation is not none -%}
    {%- for found in adapter.get_columns_in_relation(relation) -%}
      {%- if found.name == column -%}{{ return(found.data_type) }}{%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return('text') }}
{%- endmacro %}
