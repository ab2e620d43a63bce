-- Block O, display messages: what the CSMS asked each station to show, with the station's
-- answer, and the GetDisplayMessages reports assembled from NotifyDisplayMessages.
--
-- A message by its id (a station keeps one message per id: SetDisplayMessage with a known id
-- replaces it). `status` is `Requested` until the station answers, then its answer
-- (`Accepted`, `Rejected`, `NotSupportedPriority`, …) or why there was none. A message the
-- station cleared (ClearDisplayMessage Accepted, or Unknown: it no longer holds it) keeps its
-- row with `cleared_at` set.
CREATE TABLE IF NOT EXISTS display_messages (
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    priority TEXT NOT NULL,
    state TEXT,
    transaction_id TEXT,
    start_at TEXT,
    end_at TEXT,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    status_info TEXT,
    sent_at TEXT NOT NULL,
    answered_at TEXT,
    cleared_at TEXT,
    PRIMARY KEY (station_id, message_id)
);

-- O03/O04 GetDisplayMessages: the request (requestId allocated by the CSMS), the station's
-- answer, and the NotifyDisplayMessages parts assembled under it.
CREATE TABLE IF NOT EXISTS display_message_reports (
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    request_id INTEGER NOT NULL,
    request TEXT NOT NULL,
    status TEXT,
    complete INTEGER NOT NULL DEFAULT 0,
    requested_at TEXT NOT NULL,
    PRIMARY KEY (station_id, request_id)
);

CREATE TABLE IF NOT EXISTS display_message_report_parts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    request_id INTEGER NOT NULL,
    tbc INTEGER NOT NULL,
    messages TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS display_message_report_parts_by_request
    ON display_message_report_parts (station_id, request_id);
