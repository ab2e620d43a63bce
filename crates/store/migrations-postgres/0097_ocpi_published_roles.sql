-- OCPI roles published to each partner (issue 12, B8.2 "publish an updated list of roles").
-- What our last credentials PUT (or the registration) told the partner about our roles, so a
-- change of the configuration (a party removed, renamed, its role changed) or of the partner's
-- parties is published once, at start or when the operator makes it, and retried until the
-- partner took it. `roles` is the CredentialsRole list as JSON; `last_error` is set while the
-- partner has not taken the latest list.
CREATE TABLE ocpi_published_roles (
    partner_id    BIGINT PRIMARY KEY REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    roles         TEXT COLLATE "C" NOT NULL,
    published_at  TEXT COLLATE "C" NOT NULL,
    last_error    TEXT COLLATE "C"
);
