-- OCPI initial / incremental pull and scheduled credentials rotation (issue 12 item 1, B8.1).

-- eMSP role: the last complete pull of one Sender module (locations, tariffs, sessions, cdrs) of
-- a CPO partner. `date_from` is what the next incremental pull asks for (the start of this pull,
-- less an overlap for clock skew): kept here so a restart does not pull everything again.
CREATE TABLE ocpi_sync (
    partner_id  BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    module      TEXT COLLATE "C" NOT NULL,
    date_from   TEXT COLLATE "C" NOT NULL,
    synced_at   TEXT COLLATE "C" NOT NULL,     -- when the pull ended
    objects     BIGINT NOT NULL,  -- objects the pull read
    stored      BIGINT NOT NULL,  -- of those, new or changed (written to ocpi_received)
    PRIMARY KEY (partner_id, module)
);

-- Credentials rotation (B8.1): who registered, when the partner's current token for us was
-- issued, and a new token sent in a credentials PUT the partner has not acknowledged yet. That
-- pending token is accepted next to the current one (the partner may call our versions with it
-- while it handles the PUT); only its SHA-256 is kept, like every token we only verify.
CREATE TABLE ocpi_credentials_rotation (
    partner_id          BIGINT PRIMARY KEY REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    initiated_by_us     BIGINT NOT NULL,  -- 1: we POSTed the registration, so we send the PUT
    issued_at           TEXT COLLATE "C" NOT NULL,
    pending_token_hash  TEXT COLLATE "C" UNIQUE,
    pending_since       TEXT COLLATE "C",
    last_error          TEXT COLLATE "C"
);
