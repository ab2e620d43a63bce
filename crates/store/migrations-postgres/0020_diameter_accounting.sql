-- Diameter Rf accounting records (issue 13): one row per ACR the CDF acknowledged, committed
-- before the ACA. (session_id, record_number) is the record's identity (TS 32.299 §6.1.3.3):
-- a retransmission that slips past the in-memory duplicate checks (e.g. after a restart)
-- cannot create a second row.
CREATE TABLE diameter_accounting_records (
    session_id      TEXT COLLATE "C" NOT NULL,
    record_number   BIGINT NOT NULL,
    record_type     BIGINT NOT NULL,   -- 1 EVENT, 2 START, 3 INTERIM, 4 STOP
    origin_host     TEXT COLLATE "C" NOT NULL,
    origin_realm    TEXT COLLATE "C" NOT NULL,
    received_at     TEXT COLLATE "C" NOT NULL,
    data            TEXT COLLATE "C" NOT NULL,      -- the decoded ACR fields, JSON
    PRIMARY KEY (session_id, record_number)
);
CREATE INDEX diameter_accounting_by_time ON diameter_accounting_records (received_at);
