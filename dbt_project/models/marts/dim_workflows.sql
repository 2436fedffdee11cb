-- One row per workflow: the product's workflow snapshot, plus any workflow seen only in events
-- or in step definitions (is_inferred), so that every workflow_id of the facts resolves here.
-- Lifetime figures are cohort-based: every execution enrolled so far, with its status as of
-- this refresh; rates are null for a workflow with no enrolments.
with workflows as (

    select * from {{ ref('stg_raw__workflows') }}

),

executions as (

    select
        account_id,
        workflow_id,
        min(workflow_version) as first_version_enrolled,
        max(workflow_version) as latest_version_enrolled,
        min(enrolled_at) as first_enrolled_at,
        max(enrolled_at) as last_enrolled_at,
        count(enrolled_at) as total_enrollments,
        count(*) filter (
            where enrolled_at is not null and status in ('completed', 'goal_achieved')
        ) as total_completed,
        count(*) filter (
            where enrolled_at is not null and status = 'goal_achieved'
        ) as total_converted
    from {{ ref('int_executions_summarised') }}
    group by 1, 2

),

versions as (

    select
        workflow_id,
        max(workflow_version) as latest_version,
        count(distinct workflow_version) as versions
    from {{ ref('stg_raw__workflow_steps') }}
    group by 1

),

-- workflows known only from their events or step definitions
seen as (

    select workflow_id, account_id from executions
    union
    select distinct workflow_id, account_id from {{ ref('int_step_outcomes_aggregated') }}
    union
    select distinct workflow_id, account_id from {{ ref('int_step_entries_aggregated') }}
    union
    select distinct workflow_id, null::text from {{ ref('stg_raw__workflow_steps') }}

),

all_workflows as (

    select workflow_id, account_id from workflows
    union all
    select workflow_id, min(account_id) from seen
    where not exists (select 1 from workflows where workflows.workflow_id = seen.workflow_id)
    group by 1

),

per_workflow_executions as (

    select
        workflow_id,
        min(first_enrolled_at) as first_enrolled_at,
        max(last_enrolled_at) as last_enrolled_at,
        max(latest_version_enrolled) as latest_version_enrolled,
        sum(total_enrollments) as total_enrollments,
        sum(total_completed) as total_completed,
        sum(total_converted) as total_converted
    from executions
    group by 1

)

select
    all_workflows.workflow_id,
    all_workflows.account_id,
    workflows.workflow_name,
    workflows.owner_user_id,
    workflows.workflow_status,
    workflows.created_at,
    greatest(versions.latest_version, per_workflow_executions.latest_version_enrolled)
        as latest_version,
    coalesce(versions.versions, 0) as defined_versions,
    per_workflow_executions.first_enrolled_at,
    per_workflow_executions.last_enrolled_at,
    coalesce(per_workflow_executions.total_enrollments, 0)::bigint as total_enrollments,
    {{ pct('per_workflow_executions.total_completed',
           'per_workflow_executions.total_enrollments') }}
        as completion_rate,
    {{ pct('per_workflow_executions.total_converted',
           'per_workflow_executions.total_enrollments') }}
        as conversion_rate,
    workflows.workflow_id is null as is_inferred
from all_workflows
left join workflows on all_workflows.workflow_id = workflows.workflow_id
left join versions on all_workflows.workflow_id = versions.workflow_id
left join per_workflow_executions on all_workflows.workflow_id = per_workflow_executions.workflow_id
