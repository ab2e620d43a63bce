-- OCPI eMSP role (issue 12, ADR 0039): what CPO partners push to our Receiver endpoints, the
-- commands we send them, and the tokens of our own eMSP parties.

-- Locations, tariffs, sessions and CDRs received from a CPO partner, the OCPI object as JSON,
-- kept per partner and per CPO party (the country_code / party_id of the URL), so two CPOs
-- with the same object id never overwrite each other. A CDR is inserted once: a retransmitted
-- POST finds the row and is answered as the first was.
CREATE TABLE ocpi_received (
    partner_id    BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    module        TEXT NOT NULL,      -- locations, tariffs, sessions, cdrs
    country_code  TEXT NOT NULL,
    party_id      TEXT NOT NULL,
    id            TEXT NOT NULL,      -- Location.id, Tariff.id, Session.id, CDR.id
    data          TEXT NOT NULL,
    last_updated  TEXT NOT NULL,      -- the object's last_updated
    received_at   TEXT NOT NULL,
    PRIMARY KEY (partner_id, module, country_code, party_id, id)
);
CREATE INDEX ocpi_received_module ON ocpi_received (module, last_updated);

-- Commands we sent to a CPO partner's Commands Receiver. `id` is the last segment of the
-- response_url we gave, where the asynchronous CommandResult arrives.
CREATE TABLE ocpi_commands_sent (
    id            TEXT PRIMARY KEY,
    partner_id    BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    command       TEXT NOT NULL,      -- START_SESSION, STOP_SESSION, …
    request       TEXT NOT NULL,      -- the command object we POSTed, JSON
    response      TEXT,               -- the CommandResponse, JSON (None: the CPO did not answer)
    result        TEXT,               -- the CommandResult, JSON, once it arrived
    created_at    TEXT NOT NULL,
    result_at     TEXT
);
CREATE INDEX ocpi_commands_sent_partner ON ocpi_commands_sent (partner_id, created_at);

-- Tokens of our own eMSP parties (Tokens Sender, pushed to CPO partners, real-time
-- authorization), the OCPI Token object as JSON.
CREATE TABLE ocpi_own_tokens (
    country_code  TEXT NOT NULL,
    party_id      TEXT NOT NULL,
    uid           TEXT NOT NULL,
    type          TEXT NOT NULL,
    data          TEXT NOT NULL,
    last_updated  TEXT NOT NULL,
    PRIMARY KEY (country_code, party_id, uid, type)
);
CREATE INDEX ocpi_own_tokens_uid ON ocpi_own_tokens (uid);
