-- The device model the CSMS knows of each station (from GetVariables, SetVariables and reports),
-- and the reports it asked for, assembled from their NotifyReport parts.

CREATE TABLE device_model (
    station_id          TEXT COLLATE "C" NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    component           TEXT COLLATE "C" NOT NULL,
    component_instance  TEXT COLLATE "C" NOT NULL DEFAULT '',
    evse_id             BIGINT NOT NULL DEFAULT -1,   -- -1: not on an EVSE
    connector_id        BIGINT NOT NULL DEFAULT -1,
    variable            TEXT COLLATE "C" NOT NULL,
    variable_instance   TEXT COLLATE "C" NOT NULL DEFAULT '',
    attribute_type      TEXT COLLATE "C" NOT NULL DEFAULT 'Actual',
    value               TEXT COLLATE "C",
    mutability          TEXT COLLATE "C",
    source              TEXT COLLATE "C" NOT NULL,                 -- GetVariables | SetVariables | NotifyReport
    updated_at          TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (station_id, component, component_instance, evse_id, connector_id, variable,
                 variable_instance, attribute_type)
);

CREATE TABLE reports (
    station_id    TEXT COLLATE "C" NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    request_id    BIGINT NOT NULL,
    request       TEXT COLLATE "C" NOT NULL,        -- the GetBaseReport / GetReport request, JSON
    status        TEXT COLLATE "C",                 -- the station's answer to it
    complete      BIGINT NOT NULL DEFAULT 0,
    requested_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (station_id, request_id)
);

CREATE TABLE report_parts (
    station_id    TEXT COLLATE "C" NOT NULL,
    request_id    BIGINT NOT NULL,
    seq_no        BIGINT NOT NULL,
    tbc           BIGINT NOT NULL,
    generated_at  TEXT COLLATE "C" NOT NULL,
    report_data   TEXT COLLATE "C" NOT NULL,        -- JSON array of ReportDataType
    PRIMARY KEY (station_id, request_id, seq_no)
);
