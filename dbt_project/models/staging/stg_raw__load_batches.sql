select
    load_id,
    source_file,
    target_table,
    rows_read,
    loaded as rows_loaded,
    duplicates as rows_duplicate,
    rejected as rows_rejected,
    started_at,
    finished_at
from {{ source('raw', 'load_batches') }}
