-- The running aggregate of each transaction's metering (issue 8: running cost is O(1) per
-- TransactionEvent): what rating needs, updated in the same commit as the event or sample that
-- changes it, so pricing reads one row instead of the transaction's whole series.
-- Decimals are exact text; durations are whole seconds plus nanoseconds (exact, truncated to
-- seconds only when rated).
CREATE TABLE metered_usage (
    station_id          TEXT COLLATE "C" NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    transaction_id      TEXT COLLATE "C" NOT NULL,
    -- the billing register (Energy.Active.Import.Register, no phase, at the outlet)
    first_reading_at    TEXT COLLATE "C",
    first_reading_wh    TEXT COLLATE "C",
    last_reading_at     TEXT COLLATE "C",
    last_reading_wh     TEXT COLLATE "C",
    energy_wh           TEXT COLLATE "C" NOT NULL DEFAULT '0',
    energy_backwards    BIGINT NOT NULL DEFAULT 0,
    -- plug-state changes (chargingState of the TransactionEvents)
    first_change_at     TEXT COLLATE "C",
    last_change_at      TEXT COLLATE "C",
    last_change_state   TEXT COLLATE "C",           -- Charging | Idle | Unplugged
    last_change_seq_no  BIGINT,
    charging_secs       BIGINT NOT NULL DEFAULT 0,
    charging_nanos      BIGINT NOT NULL DEFAULT 0,
    idle_secs           BIGINT NOT NULL DEFAULT 0,
    idle_nanos          BIGINT NOT NULL DEFAULT 0,
    -- 1: not computed yet from the stored series (transactions stored before this table);
    -- rebuilt from the rows by the next write that touches the transaction.
    stale               BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, transaction_id)
);

INSERT INTO metered_usage (station_id, transaction_id, stale)
    SELECT station_id, transaction_id, 1 FROM transactions;
