-- OCPI HubClientInfo (issue 12, B8.4): what a hub partner tells us about the parties connected
-- to it (CONNECTED, OFFLINE, PLANNED, SUSPENDED), the OCPI ClientInfo object as JSON, per hub.
CREATE TABLE ocpi_client_info (
    partner_id    BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    country_code  TEXT COLLATE "C" NOT NULL,
    party_id      TEXT COLLATE "C" NOT NULL,
    data          TEXT COLLATE "C" NOT NULL,
    last_updated  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (partner_id, country_code, party_id)
);
