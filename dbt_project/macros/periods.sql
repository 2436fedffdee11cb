{#- Period arithmetic on UTC dates, in integers (no time zone, no numeric). Weeks are ISO
    weeks (Monday to Sunday): 1900-01-01 was a Monday, so whole weeks since then number them.
    Months are numbered year * 12 + month - 1. -#}

{% macro week_index(date_expr) -%}
    ((({{ date_expr }}) - date '1900-01-01') / 7)
{%- endmacro %}

{% macro week_start_of(index_expr) -%}
    (date '1900-01-01' + 7 * ({{ index_expr }}))
{%- endmacro %}

{% macro month_index(date_expr) -%}
    (date_part('year', ({{ date_expr }})::timestamp)::integer * 12
        + date_part('month', ({{ date_expr }})::timestamp)::integer - 1)
{%- endmacro %}

{% macro month_start_of(index_expr) -%}
    make_date(({{ index_expr }}) / 12, ({{ index_expr }}) % 12 + 1, 1)
{%- endmacro %}
