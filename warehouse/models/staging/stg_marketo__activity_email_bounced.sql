{{ activity_source('activity_email_bounced') }}
