{{ wfa_incremental_window_replace(window_column='activity_date', tags=['heavy']) }}

-- One row per user session and UTC day (a session that spans midnight counts on both days).
with activity as (

    select account_id, user_id, session_id, action, duration_ms, occurred_at
    from {{ ref('stg_raw__events') }}
    where event_type = 'user.activity'
        and {{ wfa_when_incremental(wfa_in_window_times('occurred_at')) }}

)

select
    account_id,
    user_id,
    session_id,
    {{ utc_date('occurred_at') }} as activity_date,
    count(*) as actions,
    count(*) filter (where action = 'login') as logins,
    coalesce(sum(duration_ms), 0) as duration_ms,
    min(occurred_at) as first_activity_at,
    max(occurred_at) as last_activity_at
from activity
group by 1, 2, 3, 4
