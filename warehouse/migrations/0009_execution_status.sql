-- An execution's status and end, from the earliest event of each terminal type (null: it has
-- none). One definition for the marts (int_executions_summarised) and for the API's figures of
-- the events not yet refreshed into them (api/queries/pending.py); docs/metrics.md.
-- The status depends only on which events exist, never on their order:
-- goal_achieved > completed > error > exited > active. The end is the earliest terminal event.
-- Plain SQL, immutable, not strict, no SET: the planner inlines each call into the query that
-- makes it, so a model summarising millions of executions pays no function call per row.
create function platform.execution_status(
    goal_achieved_at timestamptz, completed_at timestamptz,
    failed_at timestamptz, exited_at timestamptz
) returns text
language sql immutable parallel safe
return case
    when goal_achieved_at is not null then 'goal_achieved'
    when completed_at is not null then 'completed'
    when failed_at is not null then 'error'
    when exited_at is not null then 'exited'
    else 'active'
end;

create function platform.execution_ended_at(
    goal_achieved_at timestamptz, completed_at timestamptz,
    failed_at timestamptz, exited_at timestamptz
) returns timestamptz
language sql immutable parallel safe
return least(goal_achieved_at, completed_at, failed_at, exited_at);
