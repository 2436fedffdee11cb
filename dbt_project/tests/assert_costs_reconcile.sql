-- Why: every cost is dated once by its own event, so the workflow, step and cost marts must add up to the same credits and cost_usd as the step events themselves (over the days whose detail retention kept: before them the marts keep what the purge deleted).
-- Shown in Dagster as a check of the mart it guards (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'fct_cost_daily'}}}) }}
with totals as (

    -- (a sum over no rows is null: as 0, a warehouse without any cost still adds up)
    select 'step events' as source, coalesce(sum(credits), 0) as credits,
        coalesce(sum(cost_usd), 0) as cost_usd
    from {{ ref('int_step_outcomes_extracted') }}
    where {{ wfa_detail_kept('occurred_date') }}
    union all
    select 'fct_workflow_daily', coalesce(sum(credits), 0), coalesce(sum(cost_usd), 0)
    from {{ ref('fct_workflow_daily') }}
    where {{ wfa_detail_kept('date') }}
    union all
    select 'fct_workflow_step_daily', coalesce(sum(credits), 0), coalesce(sum(cost_usd), 0)
    from {{ ref('fct_workflow_step_daily') }}
    where {{ wfa_detail_kept('date') }}
    union all
    select 'fct_cost_daily', coalesce(sum(credits), 0), coalesce(sum(cost_usd), 0)
    from {{ ref('fct_cost_daily') }}
    where {{ wfa_detail_kept('date') }}

)

select *
from totals
where credits is distinct from (select credits from totals where source = 'step events')
    or cost_usd is distinct from (select cost_usd from totals where source = 'step events')
