-- Tenancy on write (docs/guarantees.md): every workflow and every execution belongs to one
-- account, and an event that names another account's workflow or execution is rejected.
-- A workflow's owner is the account raw.workflows gives it (the product's reference data), else
-- the account that first sent an event of it; an execution's is the account and workflow of its
-- first event. warehouse/ingestion/ownership.py claims and checks them for the loader and the API.
create table raw.workflow_owners (
    workflow_id  text        primary key,
    account_id   text        not null,
    decided_by   text        not null check (decided_by in ('reference', 'first_event')),
    decided_at   timestamptz not null default now()
);

create table raw.execution_owners (
    execution_id  text primary key,
    account_id    text not null,
    workflow_id   text not null
);

-- Reference data decides, whichever way it is loaded.
create function raw.workflow_owner_from_reference() returns trigger
language plpgsql as $$
begin
    insert into raw.workflow_owners (workflow_id, account_id, decided_by)
    values (new.workflow_id, new.account_id, 'reference')
    on conflict (workflow_id) do update
        set account_id = excluded.account_id, decided_by = 'reference', decided_at = now()
        where (raw.workflow_owners.account_id, raw.workflow_owners.decided_by)
              is distinct from (excluded.account_id, 'reference');
    return null;
end
$$;

create trigger workflow_owner_from_reference
after insert or update of account_id on raw.workflows
for each row execute function raw.workflow_owner_from_reference();

-- The owners of what is stored already.
insert into raw.workflow_owners (workflow_id, account_id, decided_by)
select workflow_id, account_id, 'reference' from raw.workflows;

insert into raw.workflow_owners (workflow_id, account_id, decided_by)
select distinct on (workflow_id) workflow_id, account_id, 'first_event'
from raw.events
where workflow_id is not null
order by workflow_id, received_at, event_id
on conflict (workflow_id) do nothing;

insert into raw.execution_owners (execution_id, account_id, workflow_id)
select distinct on (e.execution_id) e.execution_id, e.account_id, e.workflow_id
from raw.events e
join raw.workflow_owners w on w.workflow_id = e.workflow_id and w.account_id = e.account_id
where e.execution_id is not null
order by e.execution_id, e.received_at, e.event_id;

-- Events stored before ownership was checked that name another account's workflow, or an
-- execution of another account or workflow, are set aside into raw.events_rejected with their
-- reason, as the loader would have: they failed the marts' checks and stopped every refresh.
with foreign_events as (
    select e.event_id,
           case when w.account_id <> e.account_id
                then format('workflow_id %L belongs to another account', e.workflow_id)
                when x.account_id <> e.account_id
                then format('execution_id %L belongs to another account', e.execution_id)
                else format('execution_id %L belongs to workflow %L, not %L', e.execution_id,
                            x.workflow_id, e.workflow_id)
           end as reason
    from raw.events e
    join raw.workflow_owners w on w.workflow_id = e.workflow_id
    left join raw.execution_owners x on x.execution_id = e.execution_id
    where w.account_id <> e.account_id
       or x.account_id <> e.account_id
       or x.workflow_id <> e.workflow_id
),
moved as (
    delete from raw.events e using foreign_events f where e.event_id = f.event_id
    returning e.*, f.reason
)
insert into raw.events_rejected (source_file, line_number, raw_line, reason)
select 'migration:0008_tenancy', 0,
       (to_jsonb(moved) - 'reason' - 'received_at')::text, reason
from moved;

-- A load's state, so a load that was killed is known as such: 'running' while its process
-- holds the backend `backend_pid`; 'done'; 'failed' (it stopped before its end: the counts are
-- those of the chunks it committed, which hold exactly the rows it stored).
alter table raw.load_batches
    add column status      text    not null default 'done'
        check (status in ('running', 'done', 'failed', 'truncated')),
    add column backend_pid integer,
    add column error       text;
alter table raw.load_batches alter column status set default 'running';

-- A file's rejected line is kept once: loading the file again counts it again but does not
-- store it a second time. API requests (source 'api:<key id>') number their events per request.
delete from raw.events_rejected later
using raw.events_rejected earlier
where later.source_file not like 'api:%'
  and (later.source_file, later.line_number, md5(later.raw_line))
      = (earlier.source_file, earlier.line_number, md5(earlier.raw_line))
  and later.rejected_id > earlier.rejected_id;
create unique index events_rejected_file_line_idx
    on raw.events_rejected (source_file, line_number, md5(raw_line))
    where source_file not like 'api:%';

-- Accounts whose data fails one of the marts' per-account checks (quality/quarantine.py):
-- their checks warn instead of stopping every account's refresh. '' stands for failing rows
-- that name no account.
create table platform.quarantined_accounts (
    account_id    text        primary key,
    checks        text[]      not null,
    failing_rows  bigint      not null,
    detected_at   timestamptz not null default now()
);
