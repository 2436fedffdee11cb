select
    account_id,
    name as account_name,
    plan,
    timezone,
    monthly_budget_usd::numeric as monthly_budget_usd,
    created_at
from {{ source('raw', 'accounts') }}
