{#- Retention is kept as counts that a window run corrects by difference, so that its cost
    follows what changed, not the history (models int_retention_member_days,
    int_retention_counts, fct_retention_cohorts). -#}

{#- Each member's active days, with how often it was active on each (occurrences): users (a
    day with user.activity: once), contacts (a day with enrolments: how many) and workflows (a
    day with enrolments into it: how many). -#}
{% macro wfa_retention_member_days() -%}
    {{ wfa_retention_user_days(in_window=false) }}
    union all
    select 'contact', account_id, contact_id, {{ utc_date('enrolled_at') }}, count(*)
    from {{ ref('int_executions_summarised') }}
    where contact_id is not null and enrolled_at is not null
    group by 2, 3, 4
    union all
    select 'workflow', account_id, workflow_id, {{ utc_date('enrolled_at') }}, count(*)
    from {{ ref('int_executions_summarised') }}
    where enrolled_at is not null
    group by 2, 3, 4
{%- endmacro %}

{#- The users' active days (each once); with in_window, only the window's. -#}
{% macro wfa_retention_user_days(in_window) -%}
    select distinct 'user'::text as cohort_type, account_id, user_id as member_id,
        activity_date as date, 1::bigint as occurrences
    from {{ ref('int_user_sessions_summarised') }}
    where user_id is not null
        {% if in_window %}and {{ wfa_in_window_dates('activity_date') }}{% endif %}
{%- endmacro %}

{#- The log of the executions int_executions_summarised replaced (-1) and wrote (+1) since the
    retention models last counted them (macros/change_log.sql). -#}
{% macro wfa_retention_execution_changes() -%}
    {{ return(wfa_change_log_relation('int_executions_changes_retention')) }}
{%- endmacro %}

{#- The member days a window run changes: change 1 for a day the member is now active on and
    was not, -1 for one it no longer is, 0 for one it still is, on more or fewer occasions;
    occurrences_change, by how many. Users: the window's days as int_user_sessions_summarised
    has them now against those `stored` (int_retention_member_days) holds (every user event a
    run reads falls in its window). Contacts and workflows: the logged executions, added up
    per enrolment day, against `stored`: their cost follows the changed executions, not the
    window's days. -#}
{% macro wfa_retention_day_changes(stored) -%}
    select
        coalesce(fresh.cohort_type, held.cohort_type) as cohort_type,
        coalesce(fresh.account_id, held.account_id) as account_id,
        coalesce(fresh.member_id, held.member_id) as member_id,
        coalesce(fresh.date, held.date) as date,
        case when held.member_id is null then 1 else -1 end as change,
        case when held.member_id is null then 1 else -1 end as occurrences_change
    from ({{ wfa_retention_user_days(in_window=true) }}) as fresh
    full outer join (
        select cohort_type, account_id, member_id, date
        from {{ stored }}
        where cohort_type = 'user' and {{ wfa_in_window_dates('date') }}
    ) as held
        on fresh.account_id = held.account_id
        and fresh.member_id = held.member_id
        and fresh.date = held.date
    where fresh.member_id is null or held.member_id is null
    union all
    select
        logged.cohort_type,
        logged.account_id,
        logged.member_id,
        logged.date,
        case
            when coalesce(held.occurrences, 0) = 0
                and coalesce(held.occurrences, 0) + logged.occurrences_change > 0 then 1
            when held.occurrences > 0 and held.occurrences + logged.occurrences_change <= 0
                then -1
            else 0
        end,
        logged.occurrences_change
    from (
        select cohort_type, account_id, member_id, date, sum(change) as occurrences_change
        from (
            select 'contact'::text as cohort_type, account_id, contact_id as member_id,
                {{ utc_date('enrolled_at') }} as date, change
            from {{ wfa_retention_execution_changes() }}
            where contact_id is not null and enrolled_at is not null
            union all
            select 'workflow', account_id, workflow_id, {{ utc_date('enrolled_at') }}, change
            from {{ wfa_retention_execution_changes() }}
            where enrolled_at is not null
        ) as logged_days
        {%- set horizon = wfa_retention_horizon() %}
        {%- if horizon is not none %}
        -- (a purged day's members are history: nothing is taken from it or added to it)
        where date >= date '{{ horizon }}'
        {%- endif %}
        group by 1, 2, 3, 4
        having sum(change) <> 0
    ) as logged
    left join {{ stored }} as held
        on held.member_id = logged.member_id
        and held.account_id = logged.account_id
        and held.cohort_type = logged.cohort_type
        and held.date = logged.date
{%- endmacro %}

{#- The table of the member days a window run changes (wfa_retention_day_changes), found once
    per run: int_retention_counts saves them before counting from them, and
    int_retention_member_days, built after it, applies the same changes. -#}
{% macro wfa_retention_day_changes_relation() -%}
    {{ return(wfa_change_log_relation('int_retention_day_changes')) }}
{%- endmacro %}

{#- Pre-hook of int_retention_counts: in a window run, the day changes saved for this run, and
    the executions' log they came from emptied (in the model's transaction). A full build
    drops both: int_retention_member_days is then rebuilt whole too, and a window run of it
    alone fails instead of applying stale changes. -#}
{% macro wfa_retention_save_day_changes() -%}
    {%- set changes = wfa_retention_day_changes_relation() -%}
    {%- if is_incremental() -%}
    create table if not exists {{ changes }} (
        cohort_type text, account_id text, member_id text, date date, change integer,
        occurrences_change bigint);
    truncate {{ changes }};
    {{ wfa_ensure_change_log('int_executions_changes_retention',
                             ref('int_executions_summarised')) }};
    insert into {{ changes }} (cohort_type, account_id, member_id, date, change,
                               occurrences_change)
    {{ wfa_retention_day_changes(wfa_retention_stored_days()) }};
    truncate {{ wfa_retention_execution_changes() }};
    analyze {{ changes }}
    {%- else -%}
    drop table if exists {{ changes }};
    drop table if exists {{ wfa_retention_execution_changes() }}
    {%- endif -%}
{%- endmacro %}

{#- The member days relation a window run of the retention models compares with (its previous
    state: int_retention_member_days is rebuilt after int_retention_counts). -#}
{% macro wfa_retention_stored_days() -%}
    {%- set stored = adapter.get_relation(this.database, this.schema, 'int_retention_member_days') -%}
    {%- if stored is none and execute -%}
        {{ exceptions.raise_compiler_error(
            "int_retention_member_days is missing: run a full refresh of the retention models") }}
    {%- endif -%}
    {{ return(stored) }}
{%- endmacro %}

{#- What the members of `days` (a relation or CTE: cohort_type, account_id, member_id, date,
    distinct) add to the retention counts, times `sign`: one row per member and period it was
    active in (retained), and one under the period it was last active in (last_active), keyed
    by grain (day, week, month), cohort (the period of its first active day) and period
    number. One sort by member (byte order, "C", is all a partition needs); every value is
    computed once per member day (offset 0: the six rows below would otherwise each compute
    them again, which took half of this query's time). -#}
{% macro wfa_retention_contributions(days, sign) -%}
    select
        indexed.cohort_type,
        indexed.account_id,
        contribution.grain,
        contribution.cohort_start,
        contribution.period_number,
        {{ sign }} * contribution.retained as retained,
        {{ sign }} * contribution.last_active as last_active
    from (
        select
            cohort_type,
            account_id,
            previous_date is null as is_first_row,
            first_date,
            date - first_date as day_number,
            last_date - first_date as last_day_number,
            {{ week_start_of(week_index('first_date')) }} as first_week_start,
            {{ week_index('date') }} - {{ week_index('first_date') }} as week_number,
            {{ week_index('last_date') }} - {{ week_index('first_date') }} as last_week_number,
            {{ week_index('previous_date') }} is distinct from {{ week_index('date') }}
                as is_first_of_week,
            {{ month_start_of(month_index('first_date')) }} as first_month_start,
            {{ month_index('date') }} - {{ month_index('first_date') }} as month_number,
            {{ month_index('last_date') }} - {{ month_index('first_date') }} as last_month_number,
            {{ month_index('previous_date') }} is distinct from {{ month_index('date') }}
                as is_first_of_month
        from (
            select
                cohort_type,
                account_id,
                date,
                first_value(date) over member_timeline as first_date,
                last_value(date) over member_timeline as last_date,
                lag(date) over member_timeline as previous_date
            from {{ days }}
            window member_timeline as (
                partition by member_id collate "C", account_id collate "C", cohort_type
                order by date
                rows between unbounded preceding and unbounded following
            )
        ) as ordered
        offset 0
    ) as indexed
    -- a member counts once in each period it was active in (on its first active day of that
    -- period), and once, on its first row, under the period it was last active in
    cross join lateral (values
        ('day', indexed.first_date, indexed.day_number, 1, 0, true),
        ('week', indexed.first_week_start, indexed.week_number, 1, 0, indexed.is_first_of_week),
        ('month', indexed.first_month_start, indexed.month_number, 1, 0,
            indexed.is_first_of_month),
        ('day', indexed.first_date, indexed.last_day_number, 0, 1, indexed.is_first_row),
        ('week', indexed.first_week_start, indexed.last_week_number, 0, 1, indexed.is_first_row),
        ('month', indexed.first_month_start, indexed.last_month_number, 0, 1,
            indexed.is_first_row)
    ) as contribution (grain, cohort_start, period_number, retained, last_active, applies)
    where contribution.applies
{%- endmacro %}

{#- Custom incremental strategy `add_counts`: the model's rows are differences, added to the
    target's rows of the same key (config unique_key, a list; summed_columns, a list); a row
    whose sums all come to zero goes, as if it had never been counted. -#}
{% macro get_incremental_add_counts_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = config.require('unique_key') -%}
    {%- set sums = config.require('summed_columns') -%}
    {{ wfa_add_rows(target, source, keys, sums) }};
    delete from {{ target }} as counts
    using {{ source }} as changes
    where {% for column in keys %}counts.{{ column }} = changes.{{ column }} and {% endfor %}
        {%- for column in sums %} counts.{{ column }} = 0{% if not loop.last %} and{% endif %}{% endfor %}
{%- endmacro %}

{#- The rows of `source` added to those of `target` with the same `keys` (a unique index on
    them resolves the conflicts), column by column of `sums`; rows of new keys inserted. Each
    of `ratios` (column: [numerator, denominator], two of `sums`) is computed again from the
    added sums (null over a zero denominator); each of `least` becomes the least of the two
    values; `kept` are left as they are. A new row brings its own of all of these. -#}
{% macro wfa_add_rows(target, source, keys, sums, ratios={}, least=[], kept=[]) -%}
    {%- set columns = keys + sums + (ratios.keys() | list) + least + kept -%}
    {%- set assignments = [] -%}
    {%- for column in sums -%}
        {%- do assignments.append(column ~ ' = ' ~ target.identifier ~ '.' ~ column
                                  ~ ' + excluded.' ~ column) -%}
    {%- endfor -%}
    {%- for column, parts in ratios.items() -%}
        {%- do assignments.append(column ~ ' = (' ~ target.identifier ~ '.' ~ parts[0]
            ~ ' + excluded.' ~ parts[0] ~ ') / nullif(' ~ target.identifier ~ '.' ~ parts[1]
            ~ ' + excluded.' ~ parts[1] ~ ', 0)') -%}
    {%- endfor -%}
    {%- for column in least -%}
        {%- do assignments.append(column ~ ' = least(' ~ target.identifier ~ '.' ~ column
                                  ~ ', excluded.' ~ column ~ ')') -%}
    {%- endfor -%}
    insert into {{ target }} ({{ columns | join(', ') }})
    select {{ columns | join(', ') }} from {{ source }}
    on conflict ({{ keys | join(', ') }}) do update set
        {{ assignments | join(',\n        ') }}
{%- endmacro %}
