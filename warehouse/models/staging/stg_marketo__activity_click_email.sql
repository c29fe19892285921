{{ activity_source('activity_click_email') }}
