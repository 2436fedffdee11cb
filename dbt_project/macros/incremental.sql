{#- A model's incremental strategy declared in one call: each macro below sets the model's whole
    config for one of the custom strategies (materialized, incremental_strategy, the keys the
    strategy reads, the hooks it needs and the indexes its statements go through), so that a
    model states only what is its own. Any other keyword (tags, prefer_hash_aggregates, a
    strategy's optional keys such as ratio_columns, a model's own pre_hook or post_hook, more
    indexes) is set as given; the strategy's hooks come before the model's own. The protocol:
    dbt_project/README.md. tests/test_incremental_protocol.py checks every model of a custom
    strategy against it in the parsed manifest. -#}

{#- Strategy `window_replace` (macros/window.sql): the window's rows of window_column (a date;
    with window_grain='hour' a timestamptz, 'month' the first day of a month) are replaced.
    Indexed on window_column, which the delete filters on. -#}
{% macro wfa_incremental_window_replace(window_column=none, window_grain=none, indexes=[]) -%}
    {%- set settings = {'window_column': wfa_required(window_column, 'window_column', 'window_replace')} -%}
    {%- if window_grain is not none -%}
        {%- do settings.update({'window_grain': window_grain}) -%}
    {%- endif -%}
    {{ wfa_incremental_config('window_replace', settings, [], [],
                              [{'columns': [window_column]}] + indexes, kwargs) }}
{%- endmacro %}

{#- Strategy `refresh_replace` (macros/window.sql): the rows of the executions a run
    re-summarises are replaced. Without window_column the rows are exactly the executions (a
    unique index on execution_id); with one, a backfill replaces the window's days, indexed
    too. A logged model (change_log, a name or a list: macros/change_log.sql) drops its logs
    after a full build. -#}
{% macro wfa_incremental_refresh_replace(window_column=none, replace_key=none, change_log=none,
                                         indexes=[]) -%}
    {%- set settings = {} -%}
    {%- set required = [] -%}
    {%- if replace_key is not none -%}
        {%- if replace_key[0] != 'execution_id' -%}
            {{ exceptions.raise_compiler_error(
                "refresh_replace: replace_key must begin with execution_id, not " ~ replace_key) }}
        {%- endif -%}
        {%- do settings.update({'replace_key': replace_key}) -%}
    {%- endif -%}
    {%- if window_column is none -%}
        {%- do required.append({'columns': ['execution_id'], 'unique': true}) -%}
    {%- else -%}
        {%- do settings.update({'window_column': window_column}) -%}
        {%- do required.append({'columns': ['execution_id']}) -%}
        {%- do required.append({'columns': [window_column]}) -%}
    {%- endif -%}
    {{ wfa_incremental_config('refresh_replace', settings, [], [], required + indexes, kwargs,
                              change_log) }}
{%- endmacro %}

{#- Strategy `received_replace` (macros/window.sql): the rows of the events received in the
    run's range, kept to the window by window_column (a date), are replaced. Indexed on
    window_column and (brin, as rows arrive in its order) received_at. A logged model
    (change_log) drops its logs after a full build. -#}
{% macro wfa_incremental_received_replace(window_column=none, change_log=none, indexes=[]) -%}
    {%- set settings = {'window_column': wfa_required(window_column, 'window_column', 'received_replace')} -%}
    {{ wfa_incremental_config('received_replace', settings, [], [],
                              [{'columns': [window_column]}] + indexes
                              + [{'columns': ['received_at'], 'type': 'brin'}],
                              kwargs, change_log) }}
{%- endmacro %}

{#- Strategy `add_changes` (macros/change_log.sql): the model adds up the change log
    change_log, which logged_model writes (its strategy's change_log). A window run first
    makes sure the log exists (it may not, after the logged model's full build); a full build
    creates the unique index on unique_key the additions resolve conflicts on, and drops the
    log. Indexed on window_column. -#}
{% macro wfa_incremental_add_changes(change_log=none, logged_model=none, unique_key=none,
                                     summed_columns=none, window_column=none, indexes=[]) -%}
    {%- set settings = {
        'change_log': wfa_required(change_log, 'change_log', 'add_changes'),
        'unique_key': wfa_required(unique_key, 'unique_key', 'add_changes'),
        'summed_columns': wfa_required(summed_columns, 'summed_columns', 'add_changes'),
        'window_column': wfa_required(window_column, 'window_column', 'add_changes')} -%}
    {%- do wfa_required(logged_model, 'logged_model', 'add_changes') -%}
    {%- set pre_hook = "{{ wfa_ensure_change_log(" ~ wfa_jinja_literal(change_log) ~ ", ref("
                       ~ wfa_jinja_literal(logged_model) ~ ")) if is_incremental() else '' }}" -%}
    {{ wfa_incremental_config('add_changes', settings, [pre_hook],
                              ["{{ wfa_add_changes_full_build() }}"],
                              [{'columns': [window_column]}] + indexes, kwargs) }}
{%- endmacro %}

{#- Strategy `add_counts` (macros/retention_cohorts.sql): the model's rows are differences added
    to the rows of the same unique_key, through a unique index on it. -#}
{% macro wfa_incremental_add_counts(unique_key=none, summed_columns=none, indexes=[]) -%}
    {%- set settings = {
        'unique_key': wfa_required(unique_key, 'unique_key', 'add_counts'),
        'summed_columns': wfa_required(summed_columns, 'summed_columns', 'add_counts')} -%}
    {{ wfa_incremental_config('add_counts', settings, [], [],
                              indexes + [{'columns': unique_key, 'unique': true}], kwargs) }}
{%- endmacro %}

{#- What the declarations share: the config call. A logged model (change_log) also drops its logs
    after a full build, its post-hook. -#}
{% macro wfa_incremental_config(strategy, settings, pre_hooks, post_hooks, indexes, extra,
                                change_log=none) -%}
    {%- set extra = extra.copy() -%}
    {%- set post_hooks = post_hooks + [] -%}
    {%- if change_log -%}
        {%- do settings.update({'change_log': change_log}) -%}
        {%- do post_hooks.append("{{ wfa_drop_change_log_when_full("
                                 ~ wfa_jinja_literal(change_log) ~ ") }}") -%}
    {%- endif -%}
    {%- set model_pre_hooks = extra.pop('pre_hook', []) -%}
    {%- set model_post_hooks = extra.pop('post_hook', []) -%}
    {%- set pre_hooks = pre_hooks + ([model_pre_hooks] if model_pre_hooks is string else model_pre_hooks) -%}
    {%- set post_hooks = post_hooks + ([model_post_hooks] if model_post_hooks is string else model_post_hooks) -%}
    {%- do settings.update({'materialized': 'incremental', 'incremental_strategy': strategy,
                            'indexes': indexes}) -%}
    {%- if pre_hooks -%}{%- do settings.update({'pre_hook': pre_hooks}) -%}{%- endif -%}
    {%- if post_hooks -%}{%- do settings.update({'post_hook': post_hooks}) -%}{%- endif -%}
    {%- do settings.update(extra) -%}
    {{ config(**settings) }}
{%- endmacro %}

{#- A declaration's required argument: the model fails to parse without it. -#}
{% macro wfa_required(value, name, strategy) -%}
    {%- if value is none or value == [] or value == '' -%}
        {{ exceptions.raise_compiler_error(
            "incremental strategy " ~ strategy ~ " needs " ~ name ~ " (dbt_project/README.md)") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- A name, or a list of names, as Jinja source for a hook: 'a' or ['a', 'b']. -#}
{% macro wfa_jinja_literal(value) -%}
    {%- if value is string -%}
        {{ return("'" ~ value ~ "'") }}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for item in value -%}{%- do quoted.append("'" ~ item ~ "'") -%}{%- endfor -%}
    {{ return('[' ~ quoted | join(', ') ~ ']') }}
{%- endmacro %}
