select
    user_id,
    account_id,
    role as user_role,
    created_at
from {{ source('raw', 'users') }}
