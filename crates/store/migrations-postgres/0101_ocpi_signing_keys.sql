-- OCPI B8.5 (issue 12, ADR 0051): the public keys a partner's payloads may be signed with.
-- PUBLISHED rows come from the partner's x-unicharge-signing module and are replaced on every
-- fetch; TRUSTED rows are added by the operator (an enricher such as a hub). Public keys only.
CREATE TABLE ocpi_signing_keys (
    partner_id  BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    source      TEXT COLLATE "C" NOT NULL,
    kid         TEXT COLLATE "C" NOT NULL,
    public_key  TEXT COLLATE "C" NOT NULL,
    label       TEXT COLLATE "C",
    added_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (partner_id, source, kid)
);
