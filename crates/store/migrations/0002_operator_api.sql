-- Operator API keys (only salted hashes of the secrets) and the per-station command log.

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY NOT NULL,   -- public part of the key, used to find it
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'read-only')),
    salt          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,               -- hex SHA-256(salt || secret)
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);

-- Every CSMS-initiated call: what was sent and what came back.
CREATE TABLE commands (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id    TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    action        TEXT NOT NULL,
    request       TEXT NOT NULL,
    outcome       TEXT NOT NULL,               -- result | call_error | timeout | not_connected | invalid_response | closed
    response      TEXT,                        -- CALLRESULT payload or CALLERROR {code, description, details}
    requested_by  TEXT,                        -- API key id or "csms"
    sent_at       TEXT NOT NULL,
    completed_at  TEXT NOT NULL
);
CREATE INDEX commands_by_station ON commands (station_id, seq);
