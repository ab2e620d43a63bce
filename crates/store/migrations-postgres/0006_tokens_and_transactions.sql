-- idTokens (who may charge) and transactions with every TransactionEvent.

-- PostgreSQL: SQLite's COLLATE NOCASE becomes this ICU collation, case-insensitive (level 2:
-- case ignored, accents not) for equality, ordering and unique keys, like NOCASE on the column
-- (ADR 0047). Created in the migrating schema, so each schema carries its own.
CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE id_tokens (
    id_token        TEXT NOT NULL COLLATE nocase,   -- OCPP idTokens are case-insensitive
    type            TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    expiry          TEXT COLLATE "C",
    group_id_token  TEXT COLLATE "C",
    PRIMARY KEY (id_token, type)
);

CREATE TABLE transactions (
    station_id        TEXT COLLATE "C" NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    transaction_id    TEXT COLLATE "C" NOT NULL,
    evse_id           BIGINT,
    connector_id      BIGINT,
    id_token          TEXT COLLATE "C",
    started_at        TEXT COLLATE "C" NOT NULL,     -- timestamp of the first event seen
    ended_at          TEXT COLLATE "C",
    charging_state    TEXT COLLATE "C",
    stopped_reason    TEXT COLLATE "C",
    last_seq_no       BIGINT NOT NULL,
    events            BIGINT NOT NULL DEFAULT 0,
    -- the first event seen was not Started (the Started event was lost or is still queued)
    started_unseen    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, transaction_id)
);

CREATE TABLE transaction_events (
    station_id      TEXT COLLATE "C" NOT NULL,
    transaction_id  TEXT COLLATE "C" NOT NULL,
    seq_no          BIGINT NOT NULL,
    event_type      TEXT COLLATE "C" NOT NULL,
    trigger_reason  TEXT COLLATE "C" NOT NULL,
    timestamp       TEXT COLLATE "C" NOT NULL,
    offline         BIGINT NOT NULL DEFAULT 0,
    data            TEXT COLLATE "C" NOT NULL,          -- the whole TransactionEventRequest
    received_at     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (station_id, transaction_id, seq_no)
);
