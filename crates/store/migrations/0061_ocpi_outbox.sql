-- OCPI push outbox (issue 12, ADR 0038): every object we, as Sender, must push to a partner's
-- Receiver endpoint (EVSE status, sessions, CDRs, tariffs) is written here first and delivered
-- by a worker that retries with backoff until the partner accepts it. A row is rendered for
-- one partner in the version it negotiated, so a retry sends exactly what was first tried.

CREATE TABLE ocpi_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,  -- delivery order
    partner_id       INTEGER NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    module           TEXT NOT NULL,      -- OCPI module id: locations, sessions, cdrs, tariffs
    object_key       TEXT NOT NULL,      -- the object pushed (rows of one key go out in order)
    method           TEXT NOT NULL,      -- PUT, PATCH, POST, DELETE
    path             TEXT NOT NULL,      -- appended to the partner's Receiver endpoint URL
    body             TEXT,               -- the OCPI object (or PATCH fields), JSON
    ocpi_from        TEXT,               -- OCPI-from party, CC*PID (our party owning the object)
    ocpi_to          TEXT,               -- OCPI-to party, CC*PID (the partner's role)
    status           TEXT NOT NULL,      -- PENDING, DELIVERED
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,   -- Unix milliseconds: compared as a number
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
-- What the worker looks for: pending rows that are due, oldest first.
CREATE INDEX ocpi_outbox_pending ON ocpi_outbox (status, next_attempt_ms, id);
CREATE INDEX ocpi_outbox_object ON ocpi_outbox (partner_id, object_key, id);
-- A CDR is POSTed to a partner once: enqueueing it again (a replayed fact, a start-up sweep)
-- is ignored, so it is never billed twice.
CREATE UNIQUE INDEX ocpi_outbox_once ON ocpi_outbox (partner_id, module, object_key)
    WHERE method = 'POST';
