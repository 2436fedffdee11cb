-- A window run re-reads the user.activity events of its days (int_user_sessions_summarised):
-- about 3% of the events. Through the occurred_at index it would fetch every event of those
-- days to keep 3 in 100; this partial index holds only theirs.
create index events_user_activity_idx on raw.events (occurred_at) where event_type = 'user.activity';
