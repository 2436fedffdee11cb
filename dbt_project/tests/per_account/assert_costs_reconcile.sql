-- Why: every cost is dated once by its own event, so each account's workflow, step and cost marts must add up to the same credits and cost_usd as its step events themselves (over the days whose detail retention kept: before them the marts keep what the purge deleted).
-- Shown in Dagster as a check of the mart it guards (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'fct_cost_daily'}}}) }}
with totals as (

    select account_id, 'step events' as source, sum(credits) as credits,
        sum(cost_usd) as cost_usd
    from {{ ref('int_step_outcomes_extracted') }}
    where {{ wfa_detail_kept('occurred_date') }}
    group by 1
    union all
    select account_id, 'fct_workflow_daily', sum(credits), sum(cost_usd)
    from {{ ref('fct_workflow_daily') }}
    where {{ wfa_detail_kept('date') }}
    group by 1
    union all
    select account_id, 'fct_workflow_step_daily', sum(credits), sum(cost_usd)
    from {{ ref('fct_workflow_step_daily') }}
    where {{ wfa_detail_kept('date') }}
    group by 1
    union all
    select account_id, 'fct_cost_daily', sum(credits), sum(cost_usd)
    from {{ ref('fct_cost_daily') }}
    where {{ wfa_detail_kept('date') }}
    group by 1

),

-- every source of every account: an account absent from one source has a total of 0 there
compared as (

    select accounts.account_id, sources.source,
        coalesce(totals.credits, 0) as credits, coalesce(totals.cost_usd, 0) as cost_usd
    from (select distinct account_id from totals) as accounts
    cross join (select distinct source from totals) as sources
    left join totals using (account_id, source)

)

select compared.*
from compared
join compared as events
    on events.account_id = compared.account_id and events.source = 'step events'
where compared.credits <> events.credits or compared.cost_usd <> events.cost_usd
