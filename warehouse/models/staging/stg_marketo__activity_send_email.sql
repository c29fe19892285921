{{ activity_source('activity_send_email') }}
