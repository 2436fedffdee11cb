-- A first load into an empty raw.events builds its secondary indexes once, after the rows are
-- in, instead of inserting into them row by row (warehouse/ingestion/deferred_indexes.py). Their
-- definitions wait here meanwhile, so that `wfa db migrate` (and `wfa db up`) rebuilds any
-- index that a load stopped half-way left out.
create table platform.deferred_indexes (
    index_name   text        primary key,
    definition   text        not null,
    deferred_at  timestamptz not null default now()
);
