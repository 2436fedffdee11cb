-- One row per step of a workflow version: its definition, plus any step seen only in events
-- (is_inferred, definition columns null), so that every step of the funnel resolves here.
with definitions as (

    select * from {{ ref('stg_raw__workflow_steps') }}

),

seen as (

    select distinct account_id, workflow_id, workflow_version, step_id
    from {{ ref('fct_workflow_step_daily') }}

),

all_steps as (

    select workflow_id, workflow_version, step_id, min(account_id) as seen_account_id
    from (
        select workflow_id, workflow_version, step_id, null::text as account_id from definitions
        union all
        select workflow_id, workflow_version, step_id, account_id from seen
    ) as steps
    group by 1, 2, 3

),

workflows as (

    select workflow_id, account_id from {{ ref('stg_raw__workflows') }}

),

step_counts as (

    select workflow_id, workflow_version, count(*) as version_steps
    from definitions
    group by 1, 2

)

select
    all_steps.workflow_id,
    all_steps.workflow_version,
    all_steps.step_id,
    coalesce(workflows.account_id, all_steps.seen_account_id) as account_id,
    definitions.step_order,
    definitions.step_type,
    definitions.step_name,
    definitions.action_type,
    definitions.step_order = step_counts.version_steps as is_last_step,
    definitions.step_id is null as is_inferred
from all_steps
left join definitions
    on all_steps.workflow_id = definitions.workflow_id
    and all_steps.workflow_version = definitions.workflow_version
    and all_steps.step_id = definitions.step_id
left join workflows on all_steps.workflow_id = workflows.workflow_id
left join step_counts
    on all_steps.workflow_id = step_counts.workflow_id
    and all_steps.workflow_version = step_counts.workflow_version
