select
    experiment_id,
    workflow_id,
    name as experiment_name,
    started_at,
    ended_at,
    control_variant,
    variants as variant_shares
from {{ source('raw', 'experiments') }}
