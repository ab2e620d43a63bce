-- OCPI Tariffs (issue 12): core tariffs carry no change time, but an OCPI Tariff needs a
-- `last_updated` that only moves when the tariff changes (date filters, pushes). We keep a
-- fingerprint (SHA-256 of the tariff's JSON) per tariff id and the time it was last seen to
-- change.
CREATE TABLE ocpi_tariff_versions (
    tariff_id     TEXT COLLATE "C" PRIMARY KEY,
    fingerprint   TEXT COLLATE "C" NOT NULL,
    last_updated  TEXT COLLATE "C" NOT NULL
);
