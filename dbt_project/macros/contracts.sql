{#- The contract check's empty schema, as dbt builds it, without its warning about `numeric`
    columns declared without precision and scale: in PostgreSQL an unconstrained numeric keeps
    every digit (it never rounds), which is exactly what the marts' rates, durations and money
    need (docs/metrics.md: stored unrounded). -#}
{% macro default__get_empty_schema_sql(columns) %}
    {%- set col_err = [] -%}
    select
    {% for i in columns %}
      {%- set col = columns[i] -%}
      {%- if col['data_type'] is not defined -%}
        {%- do col_err.append(col['name']) -%}
      {%- endif -%}
      {% set col_name = adapter.quote(col['name']) if col.get('quote') else col['name'] %}
      {{ cast('null', col['data_type']) }} as {{ col_name }}{{ ", " if not loop.last }}
    {%- endfor -%}
    {%- if (col_err | length) > 0 -%}
      {{ exceptions.column_type_missing(column_names=col_err) }}
    {%- endif -%}
{% endmacro %}
