{{ activity_source('activity_open_email') }}
