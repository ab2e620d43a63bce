-- Site load management (issue 10, K): groups of stations sharing one power or current limit
-- (a site, a grid connection), configured through the operator API, and the history of the
-- limits the CSMS gave each EVSE to keep the group under it.
--
-- The group's settings are one typed JSON document (SiteGroup in store/src/site_load.rs):
-- read whole, written whole, never queried by field.
CREATE TABLE site_groups (
    id          TEXT PRIMARY KEY NOT NULL,
    config      TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Every limit given to an EVSE (or withdrawn, limit 0 when its transaction ended), with the
-- station's answer: what the allocation was at any moment can be replayed from here.
CREATE TABLE site_allocations (
    id              INTEGER PRIMARY KEY,
    group_id        TEXT NOT NULL,
    at              TEXT NOT NULL,
    station_id      TEXT NOT NULL,
    evse_id         INTEGER NOT NULL,
    transaction_id  TEXT NOT NULL,
    rate            TEXT NOT NULL,
    unit            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    status          TEXT NOT NULL
);
CREATE INDEX site_allocations_by_group ON site_allocations (group_id, id);
