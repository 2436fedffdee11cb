{#- Per-model session settings, run as a pre-hook inside the model's transaction (`set local`
    lasts until its commit). Models tagged `heavy` aggregate millions of rows into large hash
    tables and get more memory (var wfa_heavy_work_mem). JIT compilation costs more than it
    saves on these plans. Parallel workers are off: dbt already runs several models at once,
    and a parallel partial aggregation by execution does not shrink the rows it passes on (an
    execution's events are spread over all workers), so it only adds work. In a window run,
    models with config prefer_hash_aggregates group by hashing, not by sorting: the planner
    estimates the rows out of a CTE, or through a filter on a computed column, by default
    selectivities (a few hundred where there are a hundred thousand), then sorts them for a
    group aggregate, which took up to twice as long as hashing. A sort with no other plan (a
    window function, a percentile) still happens. A full build keeps the planner's choice: no
    gain was measured there. With prefer_hash_aggregates='new_events', only in a run that
    follows the new events (a backfill's groups could outgrow the hash table's memory). -#}
{% macro wfa_session_settings() -%}
    {%- set heavy = 'heavy' in (model.config.get('tags') or []) -%}
    {%- set work_mem = var('wfa_heavy_work_mem') if heavy else var('wfa_work_mem') -%}
    set local jit = off;
    set local max_parallel_workers_per_gather = 0;
    {%- set prefer_hash = model.config.get('prefer_hash_aggregates') -%}
    {%- if prefer_hash == 'new_events' -%}
        {%- set prefer_hash = wfa_follows_new_events() -%}
    {%- endif -%}
    {%- if prefer_hash and is_incremental() %}
    set local enable_sort = off;
    set local enable_incremental_sort = off;
    {%- endif %}
    set local work_mem = '{{ work_mem }}'
{%- endmacro %}

{#- Fresh planner statistics for a model just built whole. A window run of an incremental model
    leaves them (autovacuum keeps them current): it changes a small share of the rows, and
    sampling a large table costs more than the run's own work. -#}
{% macro wfa_analyze() -%}
    {%- if not is_incremental() -%}
    analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
