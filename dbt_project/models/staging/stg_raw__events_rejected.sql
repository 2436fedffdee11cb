select
    rejected_id,
    load_id,
    source_file,
    line_number,
    raw_line,
    reason as rejection_reason,
    rejected_at
from {{ source('raw', 'events_rejected') }}
