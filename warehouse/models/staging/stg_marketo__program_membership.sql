{%- set relation = source('marketo', 'program_membership') -%}
select
  lead_id,
  program_id,
  progression_status,
  progression_status_type,
  membership_date as membership_timestamp,
  reached_success as has_reached_success,
  reached_success_date as reached_success_timestamp,
  acquired_by as is_acquired_by,
  is_exhausted,
  stream,
  nurture_cadence,
  updated_at as updated_timestamp,
  {{ is_deleted(relation) }} as is_deleted
from ({{ latest_row(relation, ['lead_id', 'program_id']) }}) as memberships
