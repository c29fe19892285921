{% macro email_metrics(key) -%}
  {#- Email activity counts per value of `key` (lead_id, campaign_id, email_id or email_template_id), counted from
      the sends and events themselves, and the sends opened and clicked (unique opens and clicks) from email_sends.
      A send or event reaches its template through its email (the email table's `template`). -#}
  select key, sum(count_sends)::bigint as count_sends, sum(count_deliveries)::bigint as count_deliveries,
    sum(count_opens)::bigint as count_opens, sum(count_clicks)::bigint as count_clicks,
    sum(count_bounces)::bigint as count_bounces, sum(count_soft_bounces)::bigint as count_soft_bounces,
    sum(count_unsubscribes)::bigint as count_unsubscribes,
    sum(count_unique_opens)::bigint as count_unique_opens, sum(count_unique_clicks)::bigint as count_unique_clicks
  from (
    select {{ key }} as key,
      1 as count_sends, 0 as count_deliveries, 0 as count_opens, 0 as count_clicks, 0 as count_bounces,
      0 as count_soft_bounces, 0 as count_unsubscribes, 0 as count_unique_opens, 0 as count_unique_clicks
    from {{ ref('email_sends') }}
    union all
    select {{ key }},
      0, (event_type = 'delivered')::int, (event_type = 'opened')::int, (event_type = 'clicked')::int,
      (event_type = 'bounced')::int, (event_type = 'soft_bounced')::int, (event_type = 'unsubscribed')::int, 0, 0
    from {{ ref('int_marketo__email_events') }}
    union all
    select {{ key }}, 0, 0, 0, 0, 0, 0, 0, was_opened::int, was_clicked::int
    from {{ ref('email_sends') }}
  ) as counted
  where key is not null
  group by key
{%- endmacro %}

{% macro email_metric_columns(alias) -%}
  {%- for name in ['sends', 'deliveries', 'opens', 'clicks', 'bounces', 'soft_bounces', 'unsubscribes',
                   'unique_opens', 'unique_clicks'] %}
  coalesce({{ alias }}.count_{{ name }}, 0) as count_{{ name }}{% if not loop.last %},{% endif %}
  {%- endfor %}
{%- endmacro %}
