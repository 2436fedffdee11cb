{#- Incremental refreshes recompute a window of UTC days, [wfa_window_start, wfa_window_end]
    (run settings, ISO dates, both inclusive): every mart row dated in the window, and the
    executions behind them from all their raw events. The platform derives the window from the
    events received since the last refresh (warehouse/incremental.py) and then names those
    events too (wfa_received_after / wfa_received_until): only their executions are re-read. A
    backfill or a Dagster partition range gives the window alone, and every execution with an
    event in it is re-read; without a window a run covers every day with events. -#}

{#- A setting of the run: the dbt var `name`, else the environment variable of the same name in
    capitals (WFA_WINDOW_START...). The platform passes the window in the environment: dbt parses
    the whole project again whenever --vars change (about 4 s, more than a small window run's own
    work), and an environment variable read only while executing is not part of the parse. -#}
{% macro wfa_run_setting(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var(name | upper, '') or none -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro wfa_window() -%}
    {%- set start = wfa_run_setting('wfa_window_start') -%}
    {%- set end = wfa_run_setting('wfa_window_end') -%}
    {#- only a window run reads the window (a full build, or a unit test, never queries) -#}
    {%- if (start is none or end is none) and execute and is_incremental() -%}
        {%- set bounds = run_query(
            "select coalesce((min(occurred_at) at time zone 'UTC')::date, date '1970-01-01'),"
            ~ " coalesce((max(occurred_at) at time zone 'UTC')::date, date '1970-01-01')"
            ~ " from " ~ source('raw', 'events')).rows[0] -%}
        {%- set start = start if start is not none else bounds[0] -%}
        {%- set end = end if end is not none else bounds[1] -%}
    {%- endif -%}
    {%- set start = (start or '1970-01-01') | string -%}
    {#- never before the retention horizon: those days' raw events are gone, and recomputing
        them would erase the history the daily marts keep -#}
    {%- if execute and is_incremental() -%}
        {%- set horizon = wfa_retention_horizon() -%}
        {%- if horizon is not none and horizon > start -%}
            {%- set start = horizon -%}
        {%- endif -%}
    {%- endif -%}
    {{ return({'start': start, 'end': (end or '1970-01-01') | string}) }}
{%- endmacro %}

{#- The window's first day, as a SQL date. -#}
{% macro wfa_window_start() -%}
    date '{{ wfa_window()['start'] }}'
{%- endmacro %}

{#- The window's last day, as a SQL date. -#}
{% macro wfa_window_end() -%}
    date '{{ wfa_window()['end'] }}'
{%- endmacro %}

{#- A date column within the window. -#}
{% macro wfa_in_window_dates(column) -%}
    ({{ column }} between {{ wfa_window_start() }} and {{ wfa_window_end() }})
{%- endmacro %}

{#- A timestamptz column within the window's UTC days. -#}
{% macro wfa_in_window_times(column) -%}
    ({{ column }} >= ({{ wfa_window_start() }})::timestamp at time zone 'UTC'
        and {{ column }} < ({{ wfa_window_end() }} + 1)::timestamp at time zone 'UTC')
{%- endmacro %}

{#- A timestamptz column not before the window's first day. -#}
{% macro wfa_since_window_start(column) -%}
    ({{ column }} >= ({{ wfa_window_start() }})::timestamp at time zone 'UTC')
{%- endmacro %}

{#- The executions with at least one event that occurred in the window: their rows (and the
    day rows they feed) are recomputed from all their events, whatever day those fell on. -#}
{% macro wfa_window_execution_ids() -%}
    select distinct execution_id
    from {{ source('raw', 'events') }}
    where execution_id is not null and {{ wfa_in_window_times('occurred_at') }}
{%- endmacro %}

{#- The executions a window run re-summarises from all their events. A run planned from the
    events watermark names the new events (vars wfa_received_after / wfa_received_until,
    timestamps): only the executions of those that occurred in the window changed, so only they
    are re-read, and its cost follows the new events rather than the days they fall on. Any
    other window run (a backfill, a partition) re-reads every execution with an event in it. -#}
{% macro wfa_refresh_execution_ids() -%}
    {%- if wfa_follows_new_events() -%}
    select distinct execution_id
    from {{ source('raw', 'events') }}
    where execution_id is not null
        and {{ wfa_is_new_event('received_at') }}
        and {{ wfa_in_window_times('occurred_at') }}
    {%- else -%}
    {{ wfa_window_execution_ids() }}
    {%- endif -%}
{%- endmacro %}

{#- A received_at column among the new events a run planned from the watermark names. -#}
{% macro wfa_is_new_event(column) -%}
    ({{ column }} > timestamptz '{{ wfa_run_setting('wfa_received_after') }}'
        and {{ column }} <= timestamptz '{{ wfa_run_setting('wfa_received_until') }}')
{%- endmacro %}

{#- Whether this window run was planned from the events watermark and names its new events:
    then the event-grain tables are rewritten where the new events changed them (by execution,
    execution step or event), else day by day. -#}
{% macro wfa_follows_new_events() -%}
    {{ return(is_incremental() and wfa_run_setting('wfa_received_after') is not none
              and wfa_run_setting('wfa_received_until') is not none) }}
{%- endmacro %}

{#- An execution id column among the executions a window run re-summarises. An array, not an
    `in (subquery)`: PostgreSQL then looks the few executions up by index instead of hashing
    them and scanning every event. -#}
{% macro wfa_is_refreshed_execution(column) -%}
    {{ column }} = any(array({{ wfa_refresh_execution_ids() }}))
{%- endmacro %}

{#- Custom incremental strategy `refresh_replace`, for the tables of the executions and their
    steps: a run that follows the new events replaces the rows of the executions it
    re-summarises (all of each one's rows, whatever day they fall on; with config replace_key,
    columns beginning with execution_id, only the rows of the keys it wrote; with config
    change_log, a log's name or a list, both logged: macros/change_log.sql); any other window
    run the rows of its days (config window_column, a date), as `window_replace`, or, for a
    table without one (whose rows are exactly the executions a run re-summarises), again those
    of its executions. -#}
{% macro get_incremental_refresh_replace_sql(arg_dict) -%}
    {%- if wfa_follows_new_events() or config.get('window_column') is none -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = config.get('replace_key', ['execution_id']) -%}
    {%- set predicate -%}
    execution_id = any(array(select distinct execution_id from {{ source }}))
        {%- if key != ['execution_id'] %}
        and ({{ key | join(', ') }}) in (select {{ key | join(', ') }} from {{ source }})
        {%- endif %}
    {%- endset -%}
    {{ wfa_replace_rows(arg_dict, predicate, config.get('change_log')) }}
    {%- else -%}
    {{ get_incremental_window_replace_sql(arg_dict) }}
    {%- endif -%}
{%- endmacro %}

{#- Custom incremental strategy `received_replace`, for tables of one row per event that
    carry its received_at: a run that follows the new events replaces the rows of the events
    received in its range (config window_column, a date, keeps it to the window, as the model
    does), so only the new events are read and written; events it had already stored (the
    plan re-reads a few minutes before the watermark) are replaced, never doubled (with config
    change_log, both logged: macros/change_log.sql). Any other window run replaces the rows of
    its days, as `window_replace`. -#}
{% macro get_incremental_received_replace_sql(arg_dict) -%}
    {%- if wfa_follows_new_events() -%}
    {{ wfa_replace_rows(arg_dict, wfa_is_new_event('received_at') ~ ' and '
                       ~ wfa_in_window_dates(config.require('window_column')),
                       config.get('change_log')) }}
    {%- else -%}
    {{ get_incremental_window_replace_sql(arg_dict) }}
    {%- endif -%}
{%- endmacro %}

{#- Custom incremental strategy `window_replace`: the rows of the window (config window_column,
    a date; with window_grain='hour' a timestamptz; with window_grain='month' the first day of
    a month, every month the window touches) are deleted and the model's rows, which
    are exactly the window's, inserted in one transaction. Unlike delete+insert on a key, rows
    that no longer exist (a day whose last error turned out to be another's) disappear too. -#}
{% macro get_incremental_window_replace_sql(arg_dict) -%}
    {%- set column = config.require('window_column') -%}
    {%- if config.get('window_grain', 'day') == 'hour' -%}
        {%- set predicate = wfa_in_window_times(column) -%}
    {%- elif config.get('window_grain', 'day') == 'month' -%}
        {%- set predicate = column ~ " between date_trunc('month', (" ~ wfa_window_start()
            ~ ")::timestamp)::date and date_trunc('month', (" ~ wfa_window_end()
            ~ ")::timestamp)::date" -%}
    {%- else -%}
        {%- set predicate = wfa_in_window_dates(column) -%}
    {%- endif -%}
    {{ wfa_replace_rows(arg_dict, predicate) }}
{%- endmacro %}

{#- What the custom strategies share: the target's rows matching `predicate` are deleted and the
    model's rows inserted, in the model's one transaction. With log_names (change logs, a name
    or a list: macros/change_log.sql), both are logged in each too: the rows deleted as -1,
    those inserted as +1. -#}
{% macro wfa_replace_rows(arg_dict, predicate, log_names=none) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set logs = [] if not log_names else ([log_names] if log_names is string else log_names) -%}
    {%- if logs -%}
    {%- for name in logs %}
    {{ wfa_ensure_change_log(name, target) }};
    {%- endfor %}
    with removed as (
        delete from {{ target }} where {{ predicate }}
        returning {{ columns }}
    )
    {%- for name in logs[1:] %},
    logged_{{ loop.index }} as (
        insert into {{ wfa_change_log_relation(name) }} ({{ columns }}, change)
        select {{ columns }}, -1 from removed
    )
    {%- endfor %}
    insert into {{ wfa_change_log_relation(logs[0]) }} ({{ columns }}, change)
    select {{ columns }}, -1 from removed;
    {%- for name in logs %}
    insert into {{ wfa_change_log_relation(name) }} ({{ columns }}, change)
    select {{ columns }}, 1 from {{ arg_dict['temp_relation'] }};
    {%- endfor %}
    {%- else %}
    delete from {{ target }} where {{ predicate }};
    {%- endif %}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- In a window run, the series (rows of a dense daily mart with the given key columns) that
    already exist before the window: they have a row on the eve of its first day, because
    every series runs without gaps to the last day with data. With first_date, each comes with
    the window's first day, where it carries on. In a full build there are none: `empty_from`
    (any relation with those columns) gives the empty set its types. -#}
{% macro wfa_series_before_window(key_columns, empty_from, first_date=false) -%}
    {%- if is_incremental() -%}
        select distinct {{ key_columns | join(', ') }}
            {%- if first_date %}, {{ wfa_window_start() }} as first_date{% endif %}
        from {{ this }}
        where date = {{ wfa_window_start() }} - 1
    {%- else -%}
        select {{ key_columns | join(', ') }}
            {%- if first_date %}, null::date as first_date{% endif %}
        from {{ empty_from }} where false
    {%- endif -%}
{%- endmacro %}

{#- The days of a dense series that a run writes: from its first day to the last day with data
    (last_event_date), and in a window run only those inside the window. -#}
{% macro wfa_series_days(first_date, last_event_date) -%}
    {%- if is_incremental() -%}
        {{ days_between('greatest(' ~ first_date ~ ', ' ~ wfa_window_start() ~ ')',
                        'least(' ~ wfa_window_end() ~ ', greatest(' ~ first_date ~ ', '
                        ~ last_event_date ~ '))') }}
    {%- else -%}
        {{ days_between(first_date, 'greatest(' ~ first_date ~ ', ' ~ last_event_date ~ ')') }}
    {%- endif -%}
{%- endmacro %}

{#- A filter that applies only in a window run (a full build reads everything). -#}
{% macro wfa_when_incremental(condition) -%}
    {%- if is_incremental() -%}({{ condition }}){%- else -%}true{%- endif -%}
{%- endmacro %}
