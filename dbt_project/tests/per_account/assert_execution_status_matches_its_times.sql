-- Why: the status, ended_at and goal_achieved_at come from the same events, so they must agree (active means not ended, goal_achieved means a goal time, nothing ends after its goal).
select account_id, execution_id
from {{ ref('fct_executions') }}
where (status = 'active') <> (ended_at is null)
    or (status = 'goal_achieved') <> (goal_achieved_at is not null)
    or ended_at > goal_achieved_at
    or (duration_seconds is null) <> (enrolled_at is null or ended_at is null)
