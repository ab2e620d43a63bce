-- OCPI session limits (issue 12, B4.2 / B2.4, the x-unicharge-sessionlimits extension module):
-- an MSP caps one of its sessions at the CPO (pre-paid). One row per (partner, session): the
-- latest limits the eMSP set, and what the CPO did when one was reached. `side` says who we
-- are: RECEIVED (a partner eMSP's limits on our session, CPO role; enforced here) or SENT (we,
-- as eMSP, set them on a CPO partner's session). Amounts are exact decimal strings.
CREATE TABLE ocpi_session_limits (
    partner_id        BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    side              TEXT COLLATE "C" NOT NULL,          -- RECEIVED, SENT
    session_id        TEXT COLLATE "C" NOT NULL,
    station_id        TEXT COLLATE "C",                   -- RECEIVED: the transaction enforced
    transaction_id    TEXT COLLATE "C",
    data              TEXT COLLATE "C" NOT NULL,          -- the SessionLimits object, JSON
    reached           TEXT COLLATE "C",                   -- COST, ENERGY, DURATION once reached
    reached_at        TEXT COLLATE "C",
    stop_requested_at TEXT COLLATE "C",                   -- the last RequestStopTransaction sent
    stop_result       TEXT COLLATE "C",                   -- its outcome (Accepted, Rejected, an error)
    last_updated      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (partner_id, side, session_id)
);
-- The enforcer reads the armed limits (RECEIVED, not reached or not stopped yet) often.
CREATE INDEX ocpi_session_limits_armed ON ocpi_session_limits (side, stop_result);
CREATE INDEX ocpi_session_limits_tx ON ocpi_session_limits (station_id, transaction_id);
