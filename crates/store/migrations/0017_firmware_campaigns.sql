-- L01 rollout campaigns: one firmware to many stations, a few at a time. The campaign row holds
-- what to install and how (JSON `firmware`, concurrency, attempts, timeout); one row per chosen
-- station holds where that station is. Both are written before the step they describe is taken,
-- so a restarted server resumes the campaign where it stood.
CREATE TABLE IF NOT EXISTS firmware_campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    -- Running, Paused, Aborted, Completed.
    state TEXT NOT NULL,
    firmware TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    station_timeout_secs INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS firmware_campaign_stations (
    campaign_id INTEGER NOT NULL REFERENCES firmware_campaigns (id) ON DELETE CASCADE,
    station_id TEXT NOT NULL,
    -- Order in which stations are started.
    position INTEGER NOT NULL,
    -- Pending, InProgress, Installed, Failed, Aborted, Skipped.
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- The UpdateFirmware requestId of the current (or last) attempt.
    request_id INTEGER,
    -- The last FirmwareStatus the station notified (or the answer to UpdateFirmware).
    last_status TEXT,
    reason TEXT,
    started_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, station_id)
);
