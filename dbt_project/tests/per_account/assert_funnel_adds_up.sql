-- Why: every execution that entered a step is exactly one of completed, in_progress, converted or dropped_off, and failures are among those who entered.
select account_id, workflow_id, workflow_version, step_id, date
from {{ ref('fct_workflow_step_daily') }}
where entered <> completed + in_progress + converted + dropped_off
    or dropped_off < 0
    or failed > entered
    or completed > entered
