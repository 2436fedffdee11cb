-- One row per account: the product's account snapshot, plus any account seen only in events
-- or in the workflows and users snapshots (is_inferred, attributes null), so that every
-- account_id of the facts resolves here.
with accounts as (

    select * from {{ ref('stg_raw__accounts') }}

),

seen as (

    select distinct account_id from {{ ref('int_executions_summarised') }}
    union
    select distinct account_id from {{ ref('int_step_outcomes_aggregated') }}
    union
    select distinct account_id from {{ ref('int_step_entries_aggregated') }}
    union
    select distinct account_id from {{ ref('int_user_sessions_summarised') }}
    union
    select distinct account_id from {{ ref('stg_raw__workflows') }}
    union
    select distinct account_id from {{ ref('stg_raw__users') }}

),

workflows as (

    select account_id, count(*) as workflows
    from {{ ref('stg_raw__workflows') }}
    group by 1

),

users as (

    select account_id, count(*) as users
    from {{ ref('stg_raw__users') }}
    group by 1

),

all_accounts as (

    select account_id from accounts
    union
    select account_id from seen

)

select
    all_accounts.account_id,
    accounts.account_name,
    accounts.plan,
    accounts.timezone,
    accounts.monthly_budget_usd,
    accounts.created_at,
    coalesce(workflows.workflows, 0) as workflows,
    coalesce(users.users, 0) as users,
    accounts.account_id is null as is_inferred
from all_accounts
left join accounts on all_accounts.account_id = accounts.account_id
left join workflows on all_accounts.account_id = workflows.account_id
left join users on all_accounts.account_id = users.account_id
