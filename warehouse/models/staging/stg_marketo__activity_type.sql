select
  id as activity_type_id,
  name as activity_type_name,
  description,
  api_name,
  api_name is not null and api_name <> '' as is_custom
from ({{ latest_row(source('marketo', 'activity_type'), ['id']) }}) as types
