{#- The values carried by the earliest row of a group, in the same single aggregate pass:
    the minimum of text arrays [time, tie-breaker, value1, value2, ...] is the array of the
    earliest row (ties broken by the tie-breaker, e.g. event_id), so element 3 is value1,
    element 4 value2, and so on. Cheaper than an ordered aggregate, which would force the
    whole group-by to sort. Values must be text (cast them back after indexing). -#}
{% macro earliest_values(ts, tiebreak, values, condition) -%}
    min(array[{{ sortable_ts(ts) }}, {{ tiebreak }}, {{ values | join(', ') }}])
        filter (where {{ condition }})
{%- endmacro %}
