{#- Time helpers. Every date in the marts is a UTC day and every hour a UTC hour, whatever the
    session's time zone: occurred_at may carry any offset, it is an instant. -#}

{% macro utc_date(ts) -%}
    (({{ ts }}) at time zone 'UTC')::date
{%- endmacro %}

{% macro utc_hour(ts) -%}
    date_trunc('hour', {{ ts }}, 'UTC')
{%- endmacro %}

{#- Seconds from one instant to another, as numeric: microseconds kept exactly. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    (extract(epoch from {{ end_ts }}) - extract(epoch from {{ start_ts }}))
{%- endmacro %}

{#- A timestamptz as sortable text (UTC, microseconds), for picking the earliest of a set of
    values in one aggregate pass (see earliest_values()). -#}
{% macro sortable_ts(ts) -%}
    to_char({{ ts }} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
{%- endmacro %}

{#- One row per day from start_date to end_date (inclusive), as `date`, computed on timestamp
    without time zone so that the session's time zone (and its DST changes) plays no part. -#}
{% macro days_between(start_date, end_date) -%}
    generate_series(({{ start_date }})::timestamp, ({{ end_date }})::timestamp, interval '1 day')
{%- endmacro %}
