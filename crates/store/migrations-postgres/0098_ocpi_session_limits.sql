-- OCPI session limits (issue 12, B4.2 / B2.4, the x-unicharge-sessionlimits extension module):
-- an MSP caps one of its sessions at the CPO (pre-paid). One row per (partner, session): the
-- latest limits the eMSP set, and what the CPO did when one was reached. `side` says who we
-- are: RECEIVED (a partner eMSP's limits on our session, CPO role; enforced here) or SENT (we,
-- as eMSP, set them on a CPO partner's session). Amounts are exact decimal strings.
CREATE TABLE ocpi_session_limits (
    partner_id        BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    side              TEXT NOT NULL,          -- RECEIVED, SENT
    session_id        TEXT NOT NULL,
    station_id        TEXT,                   -- RECEIVED: the transaction enforced
    transaction_id    TEXT,
    data              TEXT NOT NULL,          -- the SessionLimits object, JSON
    reached           TEXT,                   -- COST, ENERGY, DURATION once reached
    reached_at        TEXT,
    stop_requested_at TEXT,                   -- the last RequestStopTransaction sent
    stop_result       TEXT,                   -- its outcome (Accepted, Rejected, an error)
    last_updated      TEXT NOT NULL,
    PRIMARY KEY (partner_id, side, session_id)
);
-- The enforcer reads the armed limits (RECEIVED, not reached or not stopped yet) often.
CREATE INDEX ocpi_session_limits_armed ON ocpi_session_limits (side, stop_result);
CREATE INDEX ocpi_session_limits_tx ON ocpi_session_limits (station_id, transaction_id);
