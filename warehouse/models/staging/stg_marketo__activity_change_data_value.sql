{{ activity_source('activity_change_data_value') }}
