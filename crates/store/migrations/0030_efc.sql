-- ISO 17575-1 road-usage charging (EFC): OBEs and their keys, received charge reports with the
-- exact response given (retransmissions are answered with it), the usage statements as charge
-- records, and account updates queued by the operator.

CREATE TABLE efc_obes (
    obe_key          TEXT PRIMARY KEY,      -- "<manufacturerId>:<equipmentObuId hex>"
    mac_key          BLOB,                  -- HMAC-SHA-256 key; NULL = no authentication
    require_auth     INTEGER NOT NULL DEFAULT 0,
    data             TEXT NOT NULL,         -- the EfcObe record, JSON
    created_at       TEXT NOT NULL
);

CREATE TABLE efc_reports (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    obe_key          TEXT NOT NULL,
    contract_key     TEXT NOT NULL,
    counter          INTEGER,               -- chargeReportCounter (v1 transactionCounter)
    mileage          INTEGER,
    mileage_unit     INTEGER,
    account_status   INTEGER,
    time_of_report   TEXT,
    counter_gap      INTEGER,               -- reports missing before this one (NULL = none)
    violations       TEXT NOT NULL,         -- JSON array of rule violations found
    request          BLOB NOT NULL,         -- the frame as received
    response         BLOB NOT NULL,         -- the frame answered
    received_at      TEXT NOT NULL
);
CREATE INDEX efc_reports_by_obe ON efc_reports (obe_key, id);
CREATE INDEX efc_reports_by_counter ON efc_reports (obe_key, counter);

-- One row per usage statement: what was charged (the EFC charge record).
CREATE TABLE efc_charge_records (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id           INTEGER NOT NULL REFERENCES efc_reports(id) ON DELETE CASCADE,
    obe_key             TEXT NOT NULL,
    contract_key        TEXT NOT NULL,
    usage_statement_id  INTEGER,
    fee_excl_vat        INTEGER,
    vat                 INTEGER,
    fee_unit            TEXT,
    period_begin        TEXT,
    period_end          TEXT,
    distance            INTEGER,
    distance_unit       INTEGER,
    data                TEXT NOT NULL        -- the EfcChargeRecord, JSON
);
CREATE INDEX efc_charge_records_by_obe ON efc_charge_records (obe_key, id);

CREATE TABLE efc_updates (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    obe_key          TEXT NOT NULL,
    data             TEXT NOT NULL,         -- the EfcQueuedUpdate, JSON
    created_at       TEXT NOT NULL,
    done_at          TEXT
);
CREATE INDEX efc_updates_pending ON efc_updates (obe_key, done_at, id);
