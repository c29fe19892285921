{{ activity_source('activity_unsubscribe_email') }}
