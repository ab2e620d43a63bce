-- The money path: meter values, local authorization lists, remote starts, reservations,
-- tariffs and charge records (issue 4).

-- What a transaction was started by and charged with. The tariff is fixed when the
-- transaction is first seen: a tariff edited mid-session does not change its price.
ALTER TABLE transactions ADD COLUMN id_token_type TEXT;
ALTER TABLE transactions ADD COLUMN group_id_token TEXT;
ALTER TABLE transactions ADD COLUMN remote_start_id INTEGER;
ALTER TABLE transactions ADD COLUMN reservation_id INTEGER;
ALTER TABLE transactions ADD COLUMN tariff_id TEXT;

-- One sampledValue each, from MeterValues or from a TransactionEvent's meterValue.
-- phase/location are '' when absent so the UNIQUE key catches a sample sent twice.
CREATE TABLE meter_values (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id      TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    evse_id         INTEGER NOT NULL,
    transaction_id  TEXT,
    timestamp       TEXT NOT NULL,
    context         TEXT NOT NULL,
    measurand       TEXT NOT NULL,
    phase           TEXT NOT NULL DEFAULT '',
    location        TEXT NOT NULL DEFAULT '',
    unit            TEXT,
    multiplier      INTEGER NOT NULL DEFAULT 0,
    value           TEXT NOT NULL,          -- exact decimal text as reported
    wh              TEXT,                   -- energy registers converted to Wh (decimal text)
    signed          INTEGER NOT NULL DEFAULT 0,
    signed_data     TEXT,                   -- signedMeterValue JSON
    source          TEXT NOT NULL,          -- MeterValues | TransactionEvent
    energy_backwards INTEGER NOT NULL DEFAULT 0,
    UNIQUE (station_id, evse_id, timestamp, measurand, phase, location, context)
);
CREATE INDEX meter_values_by_transaction ON meter_values (station_id, transaction_id, timestamp);
CREATE INDEX meter_values_by_evse ON meter_values (station_id, evse_id, timestamp);

-- The local authorization list the CSMS wants each station to hold (D01/D02).
CREATE TABLE local_lists (
    station_id      TEXT PRIMARY KEY REFERENCES stations(id) ON DELETE CASCADE,
    version         INTEGER NOT NULL,       -- version of the list below, as last sent
    station_version INTEGER,                -- what the station last reported (GetLocalListVersion)
    last_status     TEXT,                   -- the station's last SendLocalList answer
    updated_at      TEXT NOT NULL
);
CREATE TABLE local_list_entries (
    station_id      TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    id_token        TEXT NOT NULL COLLATE NOCASE,
    type            TEXT NOT NULL,
    PRIMARY KEY (station_id, id_token, type)
);

-- RequestStartTransaction: the id is the remoteStartId sent to the station.
CREATE TABLE remote_starts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id      TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    id_token        TEXT NOT NULL,
    id_token_type   TEXT NOT NULL,
    evse_id         INTEGER,
    status          TEXT NOT NULL,          -- Requested, then the station's answer
    transaction_id  TEXT,
    created_at      TEXT NOT NULL
);

-- ReserveNow: the id is the reservation id sent to the station.
CREATE TABLE reservations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id      TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    evse_id         INTEGER,
    connector_type  TEXT,
    id_token        TEXT NOT NULL,
    id_token_type   TEXT NOT NULL,
    group_id_token  TEXT,
    expires_at      TEXT NOT NULL,
    status          TEXT NOT NULL,
    transaction_id  TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE tariffs (
    id              TEXT PRIMARY KEY,
    data            TEXT NOT NULL,          -- the core Tariff, JSON
    updated_at      TEXT NOT NULL
);
CREATE TABLE tariff_assignments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tariff_id       TEXT NOT NULL REFERENCES tariffs(id) ON DELETE CASCADE,
    scope           TEXT NOT NULL,          -- the core TariffScope, JSON
    created_at      TEXT NOT NULL
);

-- One charge record per transaction; the key makes a retransmitted Ended harmless.
CREATE TABLE charge_records (
    id              TEXT PRIMARY KEY,
    station_id      TEXT NOT NULL,
    transaction_id  TEXT NOT NULL,
    currency        TEXT,
    total_incl_vat  TEXT,
    data            TEXT NOT NULL,          -- the core ChargeRecord, JSON
    created_at      TEXT NOT NULL
);
CREATE INDEX charge_records_by_time ON charge_records (created_at);

-- Status reports of long-running station work: FirmwareStatusNotification (L01),
-- LogStatusNotification (N01), PublishFirmwareStatusNotification (L03).
CREATE TABLE station_notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id      TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,          -- the action: FirmwareStatusNotification, …
    status          TEXT NOT NULL,
    request_id      INTEGER,
    data            TEXT NOT NULL,          -- the whole request, JSON
    received_at     TEXT NOT NULL
);
CREATE INDEX station_notices_by_station ON station_notices (station_id, id);
