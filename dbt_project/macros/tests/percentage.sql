{#- A rate is a percentage: null (no denominator) or between 0 and 100. -#}
{% test percentage(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 100

{% endtest %}
