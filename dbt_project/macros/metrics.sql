{#- A percentage, unrounded; null when the denominator is zero (never 0, never an error). -#}
{% macro pct(numerator, denominator) -%}
    (({{ numerator }}) * 100.0 / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- A ratio, unrounded; null when the denominator is zero. -#}
{% macro safe_divide(numerator, denominator) -%}
    (({{ numerator }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- The exact sum, as numeric, of a float8 expression multiplied by an integer `factor`
    (e.g. a change log's +1 / -1). Converting a float8 to numeric goes through its text form and
    costs several times the sum itself, so whole values (nearly all of them) are summed as
    bigint and only the others converted; both parts are exact, so a sum kept by difference
    still equals the sum counted whole. 0 when there is no value. -#}
{% macro exact_float_sum(value, factor='1') -%}
    (coalesce(sum({{ factor }} * ({{ value }})::bigint)
        filter (where {{ value }} = trunc({{ value }}) and abs({{ value }}) < 1e15), 0)
     + coalesce(sum({{ factor }} * ({{ value }})::numeric)
        filter (where {{ value }} <> trunc({{ value }}) or abs({{ value }}) >= 1e15), 0))
{%- endmacro %}
