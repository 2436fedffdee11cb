-- Why: "on" can never exceed "on or after", which can never exceed the cohort; period 0 is the cohort itself; and "on or after" can only shrink as periods pass.
select account_id, cohort_type, grain, cohort_start, period_number
from (
    select
        *,
        lag(retained_unbounded) over (
            partition by account_id, cohort_type, grain, cohort_start order by period_number
        ) as previous_unbounded
    from {{ ref('fct_retention_cohorts') }}
) as cohorts
where retained > retained_unbounded
    or retained_unbounded > cohort_size
    or (period_number = 0 and (retained <> cohort_size or retained_unbounded <> cohort_size))
    or retained_unbounded > previous_unbounded
