{{ config(
    tags=['heavy'],
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='execution_id',
    indexes=[{'columns': ['execution_id'], 'unique': true}, {'columns': ['enrolled_at']}]
) }}

-- One row per execution (one enrollment of one contact in one workflow version) with its
-- status as of this refresh, its durations, and the steps it completed or failed and what
-- they cost (its step.completed / step.failed events: one per step reached). Incremental: a
-- window run rewrites the executions it re-summarises (macros/window.sql).
with executions as (

    select * from {{ ref('int_executions_summarised') }}
    -- every execution re-summarised, by execution_id alone: in a backfill one may have only
    -- step events in the window, its enrolment and end (last_event_at) before it
    {% if is_incremental() %}
    where {{ wfa_is_refreshed_execution('execution_id') }}
    {% endif %}

),

step_outcomes as (

    select
        execution_id,
        account_id,
        workflow_id,
        workflow_version,
        count(*) filter (where not is_failure) as steps_completed,
        count(*) filter (where is_failure) as steps_failed,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd
    from {{ ref('int_step_outcomes_extracted') }}
    {% if is_incremental() %}
    where {{ wfa_is_refreshed_execution('execution_id') }}
    {% endif %}
    group by 1, 2, 3, 4

)

-- an execution whose step events arrived before any of its execution-level events is already
-- known (active, not yet enrolled), and its steps and costs count
select
    coalesce(executions.execution_id, step_outcomes.execution_id) as execution_id,
    coalesce(executions.account_id, step_outcomes.account_id) as account_id,
    coalesce(executions.workflow_id, step_outcomes.workflow_id) as workflow_id,
    coalesce(executions.workflow_version, step_outcomes.workflow_version) as workflow_version,
    executions.contact_id,
    executions.enrollment_source,
    executions.trigger_type,
    executions.experiment_id,
    executions.variant,
    executions.enrolled_at,
    executions.ended_at,
    coalesce(executions.status, 'active') as status,
    executions.exit_reason,
    {{ seconds_between('executions.enrolled_at', 'executions.ended_at') }} as duration_seconds,
    executions.goal_achieved_at,
    {{ seconds_between('executions.enrolled_at', 'executions.goal_achieved_at') }}
        as time_to_conversion_seconds,
    executions.goal_value_usd,
    coalesce(step_outcomes.steps_completed, 0) as steps_completed,
    coalesce(step_outcomes.steps_failed, 0) as steps_failed,
    coalesce(step_outcomes.credits, 0) as credits,
    coalesce(step_outcomes.cost_usd, 0) as cost_usd
from executions
full outer join step_outcomes
    on executions.execution_id = step_outcomes.execution_id
