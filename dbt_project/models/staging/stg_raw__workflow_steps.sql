select
    workflow_id,
    workflow_version,
    step_id,
    step_order,
    step_type,
    step_name,
    action_type
from {{ source('raw', 'workflow_steps') }}
