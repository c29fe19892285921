{#- One row per lead per day (vars lead_history_start_date .. lead_history_end_date, from the day the lead was
    created), with the value each column of var lead_history_columns held at the end of that day: the new value of
    the last Change Data Value activity on that column by then; before its first one, that activity's old value;
    after its last one, and for columns never changed, the lead's current value. -#}
{%- set tracked = var('lead_history_columns') -%}
{%- set end_date = var('lead_history_end_date') -%}
with days as (
  select day::date as date_day
  from generate_series('{{ var("lead_history_start_date") }}'::date,
    {% if end_date %}'{{ end_date }}'::date{% else %}(now() at time zone 'utc')::date{% endif %}, interval '1 day') as day
),

leads as (
  select * from {{ ref('stg_marketo__lead') }} where not is_deleted
),

changes as (
  select
    changes.lead_id,
    fields.column_name,
    changes.activity_timestamp,
    changes.attributes ->> 'old_value' as old_value,
    changes.attributes ->> 'new_value' as new_value,
    row_number() over per_column as change_number,
    lead(changes.activity_timestamp) over per_column as next_timestamp
  from {{ ref('stg_marketo__activity_change_data_value') }} as changes
  join {{ ref('stg_marketo__lead_describe') }} as fields on fields.field_id = changes.primary_attribute_value_id
  where fields.column_name in ({% for column in tracked %}'{{ column }}'{% if not loop.last %}, {% endif %}{% endfor %})
  window per_column as (partition by changes.lead_id, fields.column_name
                        order by changes.activity_timestamp, changes.activity_id)
),

spans as (
  select lead_id, column_name, '-infinity'::timestamp as valid_from, activity_timestamp as valid_to, old_value as value
  from changes where change_number = 1
  union all
  select changes.lead_id, changes.column_name, changes.activity_timestamp, coalesce(changes.next_timestamp, 'infinity'),
    case when changes.next_timestamp is not null then changes.new_value
    else case changes.column_name
      {%- for column in tracked %}
      when '{{ column }}' then leads.{{ adapter.quote(column) }}::text
      {%- endfor %}
    end end
  from changes join leads on leads.lead_id = changes.lead_id
)

select
  md5(leads.lead_id::text || ':' || days.date_day::text) as lead_history_id,
  days.date_day,
  leads.lead_id,
  {%- for column in tracked %}
  (case when span{{ loop.index }}.lead_id is not null then span{{ loop.index }}.value
   else leads.{{ adapter.quote(column) }}::text end)::{{ lead_column_type(column) }} as {{ adapter.quote(column) }}
  {%- if not loop.last %},{% endif %}
  {%- endfor %}
from leads
join days on days.date_day >= leads.created_timestamp::date
{%- for column in tracked %}
left join spans as span{{ loop.index }}
  on span{{ loop.index }}.lead_id = leads.lead_id and span{{ loop.index }}.column_name = '{{ column }}'
  and span{{ loop.index }}.valid_from < days.date_day + interval '1 day'
  and span{{ loop.index }}.valid_to >= days.date_day + interval '1 day'
{%- endfor %}
