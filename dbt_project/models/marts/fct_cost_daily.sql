-- Cost by workflow, action type and UTC day, dense from the series' first day with data (below)
-- to the last day with data in the warehouse: the step.completed / step.failed events of action
-- steps, each dated by its own UTC day. A step that is not an action (trigger, condition,
-- wait, goal, or a step missing from its version's definition) appears under a null
-- action_type, and only on days it carried credits or a cost, so that the costs here add up to
-- every cost in the warehouse. executions = the action executions (step events) of the day;
-- cost_per_execution = cost_usd / executions, null when there were none. A series (workflow,
-- action type) starts on its first day with data. Incremental: a window run rewrites the
-- window's days (macros/window.sql).
{{ wfa_incremental_window_replace(window_column='date') }}

with outcomes as (

    select
        account_id,
        workflow_id,
        case when step_type = 'action' then action_type end as action_type,
        occurred_date as date,
        outcomes,
        credits,
        cost_usd
    from {{ ref('int_step_outcomes_aggregated') }}
    where ((step_type = 'action' and action_type is not null)
        or credits <> 0
        or cost_usd <> 0)
        and {{ wfa_when_incremental(wfa_in_window_dates('occurred_date')) }}

),

daily as (

    select
        account_id,
        workflow_id,
        action_type,
        date,
        sum(outcomes) as executions,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd
    from outcomes
    group by 1, 2, 3, 4

),

-- one that began before the window runs on
series as (

    select account_id, workflow_id, action_type, min(first_date) as first_date
    from (
        select account_id, workflow_id, action_type, min(date) as first_date
        from daily
        group by 1, 2, 3
        union all
        {{ wfa_series_before_window(['account_id', 'workflow_id', 'action_type'], 'daily',
                                    first_date=true) }}
    ) as firsts
    group by 1, 2, 3

),

spine as (

    select series.account_id, series.workflow_id, series.action_type, day::date as date
    from series
    cross join {{ ref('int_event_dates_bounded') }} as bounds
    cross join lateral {{ wfa_series_days('series.first_date', 'bounds.last_event_date') }} as day

),

combined as (

    select account_id, workflow_id, action_type, date,
        sum(executions) as executions, sum(credits) as credits, sum(cost_usd) as cost_usd
    from (
        select account_id, workflow_id, action_type, date, executions, credits, cost_usd
        from daily
        union all
        select account_id, workflow_id, action_type, date, 0, 0, 0
        from spine
    ) as keyed
    group by 1, 2, 3, 4

)

select
    account_id,
    workflow_id,
    action_type,
    date,
    credits,
    cost_usd,
    executions::bigint as executions,
    {{ safe_divide('cost_usd', 'executions') }} as cost_per_execution
from combined
