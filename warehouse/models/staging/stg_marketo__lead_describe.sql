select
  id as field_id,
  name as field_name,
  {{ marketo_column_name('name') }} as column_name,
  display_name,
  data_type
from ({{ latest_row(source('marketo', 'lead_describe'), ['name']) }}) as fields
