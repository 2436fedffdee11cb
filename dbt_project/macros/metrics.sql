{#- A percentage, unrounded; null when the denominator is zero (never 0, never an error). -#}
{% macro pct(numerator, denominator) -%}
    (({{ numerator }}) * 100.0 / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- A ratio, unrounded; null when the denominator is zero. -#}
{% macro safe_divide(numerator, denominator) -%}
    (({{ numerator }}) / nullif({{ denominator }}, 0))
{%- endmacro %}
