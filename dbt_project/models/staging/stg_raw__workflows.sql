select
    workflow_id,
    account_id,
    name as workflow_name,
    owner_user_id,
    created_at,
    status as workflow_status
from {{ source('raw', 'workflows') }}
