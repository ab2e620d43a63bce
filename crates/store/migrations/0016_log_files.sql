-- N01 log uploads to unicharge itself: one row per file a station uploaded to the URL a GetLog
-- (without an operator-given remoteLocation) carried. The content lives under the data
-- directory (`path`, relative to the files directory), written and fsynced before this row and
-- before the station's upload is answered.
CREATE TABLE IF NOT EXISTS log_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    request_id INTEGER NOT NULL,
    -- The name the station gave it (multipart filename or the URL's last segment), if any.
    filename TEXT,
    content_type TEXT,
    size INTEGER NOT NULL,
    -- Hex SHA-256 of the content as received.
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_files_by_station ON log_files (station_id, id);
