-- Block K, smart charging: what the CSMS knows each station holds.
--
-- A charging profile the CSMS sent, by its id (a station keeps one profile per id: a second
-- SetChargingProfile with the same id replaces the first, K01.FR.05). `status` is `Requested`
-- until the station answers, then its answer (`Accepted` / `Rejected`) or why there was none.
-- A cleared profile keeps its row with `cleared_at` set.
CREATE TABLE IF NOT EXISTS charging_profiles (
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    profile_id INTEGER NOT NULL,
    evse_id INTEGER NOT NULL,
    stack_level INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    kind TEXT NOT NULL,
    valid_from TEXT,
    valid_to TEXT,
    transaction_id TEXT,
    profile TEXT NOT NULL,
    status TEXT NOT NULL,
    status_info TEXT,
    sent_at TEXT NOT NULL,
    answered_at TEXT,
    cleared_at TEXT,
    PRIMARY KEY (station_id, profile_id)
);

-- K09 GetChargingProfiles: the request (its requestId allocated by the CSMS), the station's
-- answer, and the ReportChargingProfiles parts assembled under it.
CREATE TABLE IF NOT EXISTS charging_profile_reports (
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    request_id INTEGER NOT NULL,
    request TEXT NOT NULL,
    status TEXT,
    complete INTEGER NOT NULL DEFAULT 0,
    requested_at TEXT NOT NULL,
    PRIMARY KEY (station_id, request_id)
);

CREATE TABLE IF NOT EXISTS charging_profile_report_parts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    request_id INTEGER NOT NULL,
    evse_id INTEGER NOT NULL,
    charging_limit_source TEXT NOT NULL,
    tbc INTEGER NOT NULL,
    profiles TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS charging_profile_report_parts_by_request
    ON charging_profile_report_parts (station_id, request_id);

-- K08 GetCompositeSchedule: every request with the station's answer and schedule.
CREATE TABLE IF NOT EXISTS composite_schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id INTEGER NOT NULL,
    duration INTEGER NOT NULL,
    charging_rate_unit TEXT,
    status TEXT NOT NULL,
    status_info TEXT,
    schedule TEXT,
    requested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS composite_schedules_by_station ON composite_schedules (station_id, id);

-- K12/K13 external charging limits, per EVSE (0: the whole station) and source. A cleared
-- limit keeps its row with `cleared_at` set until the source sets a new one.
CREATE TABLE IF NOT EXISTS charging_limits (
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    is_grid_critical INTEGER,
    schedules TEXT,
    notified_at TEXT NOT NULL,
    cleared_at TEXT,
    PRIMARY KEY (station_id, evse_id, source)
);
