-- The device model the CSMS knows of each station (from GetVariables, SetVariables and reports),
-- and the reports it asked for, assembled from their NotifyReport parts.

CREATE TABLE device_model (
    station_id          TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    component           TEXT NOT NULL,
    component_instance  TEXT NOT NULL DEFAULT '',
    evse_id             BIGINT NOT NULL DEFAULT -1,   -- -1: not on an EVSE
    connector_id        BIGINT NOT NULL DEFAULT -1,
    variable            TEXT NOT NULL,
    variable_instance   TEXT NOT NULL DEFAULT '',
    attribute_type      TEXT NOT NULL DEFAULT 'Actual',
    value               TEXT,
    mutability          TEXT,
    source              TEXT NOT NULL,                 -- GetVariables | SetVariables | NotifyReport
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (station_id, component, component_instance, evse_id, connector_id, variable,
                 variable_instance, attribute_type)
);

CREATE TABLE reports (
    station_id    TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    request_id    BIGINT NOT NULL,
    request       TEXT NOT NULL,        -- the GetBaseReport / GetReport request, JSON
    status        TEXT,                 -- the station's answer to it
    complete      BIGINT NOT NULL DEFAULT 0,
    requested_at  TEXT NOT NULL,
    PRIMARY KEY (station_id, request_id)
);

CREATE TABLE report_parts (
    station_id    TEXT NOT NULL,
    request_id    BIGINT NOT NULL,
    seq_no        BIGINT NOT NULL,
    tbc           BIGINT NOT NULL,
    generated_at  TEXT NOT NULL,
    report_data   TEXT NOT NULL,        -- JSON array of ReportDataType
    PRIMARY KEY (station_id, request_id, seq_no)
);
