{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['cohort_type', 'account_id', 'member_id', 'date'],
    indexes=[{'columns': ['date']}, {'columns': ['member_id', 'account_id', 'cohort_type']}]
) }}

-- depends_on: {{ ref('int_retention_counts') }}
-- Each member's active days (macros/retention_cohorts.sql): users, contacts and workflows.
-- Built after int_retention_counts, which reads the days as they stood before this run.
-- Incremental: a window run adds and removes the days that changed in it, as
-- int_retention_counts saved them (compared against this table before the run).
{% if is_incremental() %}
select cohort_type, account_id, member_id, date, change
from {{ wfa_retention_day_changes_relation() }}
{% else %}
{{ wfa_retention_member_days(in_window=false) }}
{% endif %}
