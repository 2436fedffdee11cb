-- The span of the data: the first and last UTC day on which any event occurred (the dense
-- daily marts run to last_event_date). A plain aggregate over the events: it depends on no
-- other model, so the daily marts need not wait for the long one-pass aggregations.
select
    {{ utc_date('min(occurred_at)') }} as first_event_date,
    {{ utc_date('max(occurred_at)') }} as last_event_date
from {{ ref('stg_raw__events') }}
