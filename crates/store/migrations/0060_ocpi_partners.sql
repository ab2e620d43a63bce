-- OCPI roaming (issue 12): the platforms we roam with, which of our parties each is registered
-- with, the location data operators add to stations, and the tokens eMSPs push.

-- A partner platform. `incoming_token_hash` is the SHA-256 (hex) of the token the partner calls
-- us with (token A before registration, then the token we issued: C, or B when we registered
-- with them); we only verify it, so only its hash is kept. `outgoing_token_sealed` is the token
-- we call the partner with (their B or C): it must stay usable, so it is sealed (AES-256-GCM)
-- under the key file `ocpi.key` in the data directory, not kept in clear in the database.
CREATE TABLE ocpi_partners (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT NOT NULL,
    status                TEXT NOT NULL,          -- PENDING, REGISTERED, UNREGISTERED
    incoming_token_hash   TEXT UNIQUE,
    outgoing_token_sealed TEXT,
    version               TEXT,                   -- negotiated OCPI version
    versions_url          TEXT,                   -- the partner's versions endpoint
    endpoints             TEXT NOT NULL DEFAULT '[]',  -- their version details endpoints, JSON
    roles                 TEXT NOT NULL DEFAULT '[]',  -- their CredentialsRole list, JSON
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

-- Which of our own parties (country_code, party_id) a partner is registered with: what it may
-- read and write. A partner sees nothing of the parties not listed here.
CREATE TABLE ocpi_partner_parties (
    partner_id    INTEGER NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    country_code  TEXT NOT NULL,
    party_id      TEXT NOT NULL,
    PRIMARY KEY (partner_id, country_code, party_id)
);

-- A charging location of one of our CPO parties: what the operator adds (address,
-- coordinates, opening times, facilities, connector details) as JSON; EVSEs come from stations.
CREATE TABLE ocpi_locations (
    country_code  TEXT NOT NULL,
    party_id      TEXT NOT NULL,
    id            TEXT NOT NULL,
    data          TEXT NOT NULL,
    last_updated  TEXT NOT NULL,
    PRIMARY KEY (country_code, party_id, id)
);

-- The stations of a location (a station is in one location at most).
CREATE TABLE ocpi_location_stations (
    station_id    TEXT PRIMARY KEY,
    country_code  TEXT NOT NULL,
    party_id      TEXT NOT NULL,
    location_id   TEXT NOT NULL,
    FOREIGN KEY (country_code, party_id, location_id)
        REFERENCES ocpi_locations(country_code, party_id, id) ON DELETE CASCADE
);
CREATE INDEX ocpi_location_stations_location
    ON ocpi_location_stations (country_code, party_id, location_id);

-- Tokens an eMSP pushed (Tokens receiver) or sent with a START_SESSION command, the OCPI
-- object as JSON. The CSMS's own token list gets the matching idToken for authorization.
CREATE TABLE ocpi_tokens (
    country_code  TEXT NOT NULL,
    party_id      TEXT NOT NULL,
    uid           TEXT NOT NULL,
    type          TEXT NOT NULL,
    partner_id    INTEGER REFERENCES ocpi_partners(id) ON DELETE SET NULL,
    data          TEXT NOT NULL,
    last_updated  TEXT NOT NULL,
    PRIMARY KEY (country_code, party_id, uid, type)
);
CREATE INDEX ocpi_tokens_uid ON ocpi_tokens (uid);
