-- OCPI HubClientInfo (issue 12, B8.4): what a hub partner tells us about the parties connected
-- to it (CONNECTED, OFFLINE, PLANNED, SUSPENDED), the OCPI ClientInfo object as JSON, per hub.
CREATE TABLE ocpi_client_info (
    partner_id    BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    country_code  TEXT NOT NULL,
    party_id      TEXT NOT NULL,
    data          TEXT NOT NULL,
    last_updated  TEXT NOT NULL,
    PRIMARY KEY (partner_id, country_code, party_id)
);
