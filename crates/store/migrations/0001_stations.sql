-- The station registry, what stations report about themselves, and the answers they were given.

CREATE TABLE stations (
    id                 TEXT PRIMARY KEY NOT NULL,
    security_profile   INTEGER NOT NULL CHECK (security_profile BETWEEN 1 AND 3),
    password_hash      TEXT,
    registration       TEXT NOT NULL DEFAULT 'Accepted',
    model              TEXT,
    vendor_name        TEXT,
    serial_number      TEXT,
    firmware_version   TEXT,
    last_boot_at       TEXT,
    last_boot_reason   TEXT,
    last_boot_status   TEXT,
    last_seen_at       TEXT,
    connected          INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL
);

-- One row per connector, from StatusNotification (EVSE id 0 is the station itself in OCPP).
CREATE TABLE connectors (
    station_id    TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    evse_id       INTEGER NOT NULL,
    connector_id  INTEGER NOT NULL,
    status        TEXT NOT NULL,
    status_at     TEXT NOT NULL,
    PRIMARY KEY (station_id, evse_id, connector_id)
);

-- NotifyEvent: one row per EventDataType.
CREATE TABLE events (
    seq                      INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id               TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    generated_at             TEXT NOT NULL,
    report_seq_no            INTEGER NOT NULL,
    event_id                 INTEGER NOT NULL,
    timestamp                TEXT NOT NULL,
    trigger                  TEXT NOT NULL,
    event_notification_type  TEXT NOT NULL,
    component                TEXT NOT NULL,
    evse_id                  INTEGER,
    connector_id             INTEGER,
    variable                 TEXT NOT NULL,
    actual_value             TEXT NOT NULL,
    cleared                  INTEGER,
    data                     TEXT NOT NULL
);
CREATE INDEX events_by_station ON events (station_id, seq);

-- SecurityEventNotification.
CREATE TABLE security_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id   TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    timestamp    TEXT NOT NULL,
    tech_info    TEXT,
    received_at  TEXT NOT NULL
);
CREATE INDEX security_events_by_station ON security_events (station_id, seq);

-- The answer given to each state-changing CALL, so that a retransmitted CALL (same station,
-- message id, action and payload) gets the same answer and is not applied twice.
CREATE TABLE answers (
    station_id    TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    action        TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    response      TEXT NOT NULL,
    answered_at   TEXT NOT NULL,
    PRIMARY KEY (station_id, message_id)
);
