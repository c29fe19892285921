with metrics as (
  {{ email_metrics('campaign_id') }}
),

leads as (
  select campaign_id, count(distinct lead_id) as count_leads_reached
  from {{ ref('activities') }}
  where campaign_id is not null
  group by campaign_id
)

select
  campaigns.*,
  {{ email_metric_columns('metrics') }},
  coalesce(leads.count_leads_reached, 0) as count_leads_reached
from {{ ref('stg_marketo__campaign') }} as campaigns
left join metrics on metrics.key = campaigns.campaign_id
left join leads on leads.campaign_id = campaigns.campaign_id
where not campaigns.is_deleted
