{#- A change log lets a count downstream follow the rows a window run changed rather than re-count
    the window's days, whose rows grow with the history's density, not with the new events.
    The logged model (config change_log: a table name, or a list, one log for each model that
    counts from it) appends, in a run that follows the new events (int_executions_summarised:
    in every window run), the rows it replaces (change -1) and those it writes (change 1); a
    model counting from it (strategy `add_changes`, or the retention models) adds them up and
    empties its log in the same transaction. A full build of the logged model drops its logs:
    what they held is then part of the rebuilt table, which the counting models re-count in the
    same full refresh. -#}

{#- A change log: a table of the intermediate schema, whichever model reads it. -#}
{% macro wfa_change_log_relation(name) -%}
    {{ return(api.Relation.create(database=this.database,
                                  schema=generate_schema_name('intermediate', none),
                                  identifier=name)) }}
{%- endmacro %}

{#- Post-hook of a logged model: a full build drops its logs (a name or a list; see above). -#}
{% macro wfa_drop_change_log_when_full(log_names) -%}
    {%- if not is_incremental() -%}
    {%- for name in ([log_names] if log_names is string else log_names) %}
    drop table if exists {{ wfa_change_log_relation(name) }};
    {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#- The change log `log_name` of the model `logged` (a relation), created empty when there is
    none (nothing logged since the logged model's last full build). dbt's cache of relations
    does not see a table a model of the same run created, so the log is never looked up but
    created if missing: by the logged model before it writes, by the counting model's pre-hook
    before it reads. -#}
{% macro wfa_ensure_change_log(log_name, logged) -%}
    create table if not exists {{ wfa_change_log_relation(log_name) }} as
        select *, 0::smallint as change from {{ logged }} where false
{%- endmacro %}

{#- Custom incremental strategy `add_changes`, for counts kept from a change log (config
    change_log, the log's name; unique_key, a list; summed_columns, a list; window_column, a
    date or a timestamptz, indexed; optional: ratio_columns, each the ratio of two summed
    columns, as a map of [numerator, denominator]; least_columns, kept as the least value
    added; kept_columns, values of the key that a new row brings). The model's rows are the
    log's changes added up per key, and, in a window run that does not follow the new events
    (a backfill, a partition), also the window's days counted again whole (the logged model
    then rewrote those days without logging; not with recount_window=false, for a log written
    by every window run). Such a run first deletes the window's rows; then every row is added to the
    target's row of its key (a unique index with nulls not distinct, as keys may hold nulls),
    its ratios computed again from the sums; rows whose sums all come to zero go; the log is
    emptied. -#}
{% macro get_incremental_add_changes_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = config.require('unique_key') -%}
    {%- set sums = config.require('summed_columns') -%}
    {%- set window_column = config.require('window_column') -%}
    {%- if config.get('recount_window', true) and not wfa_follows_new_events() %}
    delete from {{ target }} where {{ wfa_in_window_dates(window_column) }};
    {%- endif %}
    {{ wfa_add_rows(target, source, keys, sums, config.get('ratio_columns', {}),
                    config.get('least_columns', []), config.get('kept_columns', [])) }};
    delete from {{ target }}
    where {{ window_column }} = any(array(select distinct {{ window_column }} from {{ source }}))
        {%- for column in sums %}
        and coalesce({{ column }}, 0) = 0
        {%- endfor %};
    truncate {{ wfa_change_log_relation(config.require('change_log')) }}
{%- endmacro %}

{#- The rows of a change log (date_column, a date) that a counting model adds up: in a run that
    counts the window's days again whole, only those of other days; never those before the
    retention horizon (a purged day's counts are gone with its details: nothing is added
    back). -#}
{% macro wfa_logged_changes_to_add(date_column) -%}
    true
    {%- if not wfa_follows_new_events() %}
    and not {{ wfa_in_window_dates(date_column) }}
    {%- endif %}
    {%- set horizon = wfa_retention_horizon() %}
    {%- if horizon is not none %}
    and {{ date_column }} >= date '{{ horizon }}'
    {%- endif %}
{%- endmacro %}

{#- Post-hook of a model of strategy `add_changes`: after a full build, the unique index its
    additions resolve conflicts on (config unique_key), with nulls not distinct, since a key
    column may hold nulls; and the log goes, as everything in it is now counted. -#}
{% macro wfa_add_changes_full_build() -%}
    {%- if not is_incremental() -%}
    create unique index on {{ this }} ({{ config.require('unique_key') | join(', ') }})
        nulls not distinct;
    drop table if exists {{ wfa_change_log_relation(config.require('change_log')) }}
    {%- endif -%}
{%- endmacro %}
