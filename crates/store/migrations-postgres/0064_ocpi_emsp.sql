-- OCPI eMSP role (issue 12, ADR 0039): what CPO partners push to our Receiver endpoints, the
-- commands we send them, and the tokens of our own eMSP parties.

-- Locations, tariffs, sessions and CDRs received from a CPO partner, the OCPI object as JSON,
-- kept per partner and per CPO party (the country_code / party_id of the URL), so two CPOs
-- with the same object id never overwrite each other. A CDR is inserted once: a retransmitted
-- POST finds the row and is answered as the first was.
CREATE TABLE ocpi_received (
    partner_id    BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    module        TEXT COLLATE "C" NOT NULL,      -- locations, tariffs, sessions, cdrs
    country_code  TEXT COLLATE "C" NOT NULL,
    party_id      TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,      -- Location.id, Tariff.id, Session.id, CDR.id
    data          TEXT COLLATE "C" NOT NULL,
    last_updated  TEXT COLLATE "C" NOT NULL,      -- the object's last_updated
    received_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (partner_id, module, country_code, party_id, id)
);
CREATE INDEX ocpi_received_module ON ocpi_received (module, last_updated);

-- Commands we sent to a CPO partner's Commands Receiver. `id` is the last segment of the
-- response_url we gave, where the asynchronous CommandResult arrives.
CREATE TABLE ocpi_commands_sent (
    id            TEXT COLLATE "C" PRIMARY KEY,
    partner_id    BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    command       TEXT COLLATE "C" NOT NULL,      -- START_SESSION, STOP_SESSION, …
    request       TEXT COLLATE "C" NOT NULL,      -- the command object we POSTed, JSON
    response      TEXT COLLATE "C",               -- the CommandResponse, JSON (None: the CPO did not answer)
    result        TEXT COLLATE "C",               -- the CommandResult, JSON, once it arrived
    created_at    TEXT COLLATE "C" NOT NULL,
    result_at     TEXT COLLATE "C"
);
CREATE INDEX ocpi_commands_sent_partner ON ocpi_commands_sent (partner_id, created_at);

-- Tokens of our own eMSP parties (Tokens Sender, pushed to CPO partners, real-time
-- authorization), the OCPI Token object as JSON.
CREATE TABLE ocpi_own_tokens (
    country_code  TEXT COLLATE "C" NOT NULL,
    party_id      TEXT COLLATE "C" NOT NULL,
    uid           TEXT COLLATE "C" NOT NULL,
    type          TEXT COLLATE "C" NOT NULL,
    data          TEXT COLLATE "C" NOT NULL,
    last_updated  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (country_code, party_id, uid, type)
);
CREATE INDEX ocpi_own_tokens_uid ON ocpi_own_tokens (uid);
