{#- Every combination of the given columns appears at most once: the grain of a model keyed on
    several columns. A null is a value like any other here (GROUP BY puts nulls together), so a
    key column that may be null, such as fct_errors_daily.step_id, is tested as it stands. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as rows_with_this_key
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
