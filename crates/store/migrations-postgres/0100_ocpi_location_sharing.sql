-- OCPI B1.5: the CPO approves or not the sharing of a location's data on behalf of its owner
-- (issue 12, ADR 0049). A row overrides the default (shared) for one location: for every
-- partner (partner_id 0) or for one partner (its id, which wins over the location-wide row).
-- The Locations Sender (GET and pushes) and the pseudonymised session feeds honour it.
CREATE TABLE ocpi_location_sharing (
    country_code  TEXT COLLATE "C" NOT NULL,
    party_id      TEXT COLLATE "C" NOT NULL,
    location_id   TEXT COLLATE "C" NOT NULL,
    partner_id    BIGINT NOT NULL DEFAULT 0,
    approved      BIGINT NOT NULL,
    reason        TEXT COLLATE "C",
    updated_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (country_code, party_id, location_id, partner_id)
);
