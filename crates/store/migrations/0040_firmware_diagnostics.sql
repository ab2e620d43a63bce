-- Blocks L (firmware) and N (diagnostics): requests the CSMS sends under a requestId that the
-- station follows up on with notifications or report parts.
--
-- `kind` is the OCPP action that opened the request (UpdateFirmware, PublishFirmware, GetLog,
-- GetMonitoringReport, CustomerInformation). `answer` is the station's answer to it (or why
-- there was none); `status` the latest status the station notified under the requestId
-- (FirmwareStatusNotification, LogStatusNotification, …); `complete` is set by the last part
-- of a report (tbc false) or by a final status.
CREATE TABLE IF NOT EXISTS tracked_requests (
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    request_id INTEGER NOT NULL,
    request TEXT NOT NULL,
    answer TEXT,
    status TEXT,
    complete INTEGER NOT NULL DEFAULT 0,
    requested_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (station_id, kind, request_id)
);

-- What the station sent under a tracked request, in arrival order: a status notification
-- (`status` set) or a report part (`data` set, `tbc` true while more follow).
CREATE TABLE IF NOT EXISTS tracked_request_parts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    request_id INTEGER NOT NULL,
    seq_no INTEGER,
    tbc INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    data TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tracked_request_parts_by_request
    ON tracked_request_parts (station_id, kind, request_id);

-- N02–N06: the variable monitors a station holds, as the CSMS learnt them (from a
-- SetVariableMonitoring the station accepted, or from a NotifyMonitoringReport). A monitor the
-- station cleared keeps its row with `cleared_at` set.
CREATE TABLE IF NOT EXISTS variable_monitors (
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    monitor_id INTEGER NOT NULL,
    component TEXT NOT NULL,
    component_instance TEXT,
    evse_id INTEGER,
    connector_id INTEGER,
    variable TEXT NOT NULL,
    variable_instance TEXT,
    monitor_type TEXT NOT NULL,
    value REAL NOT NULL,
    severity INTEGER NOT NULL,
    transaction_only INTEGER NOT NULL DEFAULT 0,
    origin TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    cleared_at TEXT,
    PRIMARY KEY (station_id, monitor_id)
);
