-- Diameter Rf accounting sessions (issue 13): one row per Session-Id, kept up to date in the
-- same transaction as each accounting record, so the operator API lists sessions without
-- scanning every record. state is OPEN until a STOP or EVENT record (or the supervision timer)
-- closes it; closed_reason says which.
CREATE TABLE diameter_accounting_sessions (
    session_id            TEXT COLLATE "C" PRIMARY KEY,
    origin_host           TEXT COLLATE "C" NOT NULL,
    origin_realm          TEXT COLLATE "C" NOT NULL,
    subscription_id_type  TEXT COLLATE "C",            -- END_USER_E164, END_USER_IMSI, …
    subscription_id_data  TEXT COLLATE "C",
    service_context_id    TEXT COLLATE "C",
    first_record_number   BIGINT NOT NULL,
    last_record_number    BIGINT NOT NULL,
    records               BIGINT NOT NULL,
    state                 TEXT COLLATE "C" NOT NULL,   -- OPEN, CLOSED
    closed_reason         TEXT COLLATE "C",            -- STOP_RECORD, EVENT_RECORD, SUPERVISION_TIMEOUT
    started_at            TEXT COLLATE "C" NOT NULL,
    last_record_at        TEXT COLLATE "C" NOT NULL
);
CREATE INDEX diameter_accounting_sessions_by_time ON diameter_accounting_sessions (last_record_at);

-- Sessions of records stored before this table existed.
INSERT INTO diameter_accounting_sessions
SELECT session_id,
       MIN(origin_host),
       MIN(origin_realm),
       MIN(data::jsonb #>> '{subscriptionIds,0,type}'),
       MIN(data::jsonb #>> '{subscriptionIds,0,data}'),
       MIN(data::jsonb ->> 'serviceContextId'),
       MIN(record_number),
       MAX(record_number),
       COUNT(*),
       CASE WHEN bool_or(record_type IN (1, 4)) THEN 'CLOSED' ELSE 'OPEN' END,
       CASE WHEN bool_or(record_type = 4) THEN 'STOP_RECORD'
            WHEN bool_or(record_type = 1) THEN 'EVENT_RECORD' END,
       MIN(received_at),
       MAX(received_at)
FROM diameter_accounting_records
GROUP BY session_id;
