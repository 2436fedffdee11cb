-- One row per user and UTC day with activity: sessions = distinct session_id, actions =
-- user.activity events (logins included), logins = action 'login', active_seconds =
-- sum(duration_ms) / 1000. Incremental: a window run rewrites the window's days.
{{ wfa_incremental_window_replace(window_column='date') }}

select
    account_id,
    user_id,
    activity_date as date,
    count(session_id) as sessions,
    sum(actions)::bigint as actions,
    sum(logins)::bigint as logins,
    sum(duration_ms) / 1000 as active_seconds
from {{ ref('int_user_sessions_summarised') }}
where {{ wfa_when_incremental(wfa_in_window_dates('activity_date')) }}
group by account_id, user_id, activity_date
