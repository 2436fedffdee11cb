-- Why: every account and workflow a fact mart names must resolve in dim_accounts and dim_workflows, so a BI join from a fact to its dimension never drops a row.
-- Shown in Dagster as a check of dim_workflows: the dimensions are rebuilt after the incremental facts, so the check runs once both are new (a relationships test on each fact would run before).
{{ config(meta={'dagster': {'ref': {'name': 'dim_workflows'}}}) }}
with named as (

    {% for fact in ['fct_executions', 'fct_workflow_daily', 'fct_workflow_step_daily',
                    'fct_action_daily', 'fct_executions_hourly', 'fct_errors_daily',
                    'fct_cost_daily'] %}
    select distinct '{{ fact }}' as fact, account_id, workflow_id from {{ ref(fact) }}
    union all
    {% endfor %}
    select distinct 'fct_user_activity_daily', account_id, null::text
    from {{ ref('fct_user_activity_daily') }}

)

select named.*
from named
left join {{ ref('dim_accounts') }} as accounts on named.account_id = accounts.account_id
left join {{ ref('dim_workflows') }} as workflows on named.workflow_id = workflows.workflow_id
where accounts.account_id is null
    or (named.workflow_id is not null and workflows.workflow_id is null)
