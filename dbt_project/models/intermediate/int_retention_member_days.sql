{{ wfa_incremental_add_counts(
    unique_key=['member_id', 'account_id', 'cohort_type', 'date'],
    summed_columns=['occurrences'],
    indexes=[{'columns': ['date']}]
) }}

-- depends_on: {{ ref('int_retention_counts') }}
-- Each member's active days (macros/retention_cohorts.sql): users, contacts and workflows,
-- with how often each was active that day (occurrences: a contact's or a workflow's
-- enrolments), so that a change log of executions can tell when a day stops being active.
-- Built after int_retention_counts, which reads the days as they stood before this run.
-- Incremental: a window run adds the occurrences that changed in it, as int_retention_counts
-- saved them (compared against this table before the run); a day whose occurrences come to
-- zero goes.
{% if is_incremental() %}
select cohort_type, account_id, member_id, date, occurrences_change as occurrences
from {{ wfa_retention_day_changes_relation() }}
{% else %}
{{ wfa_retention_member_days() }}
{% endif %}
