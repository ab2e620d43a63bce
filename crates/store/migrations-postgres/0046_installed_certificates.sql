-- Block M, ISO 15118 certificate management: the certificates the CSMS knows a station holds,
-- by their OCPP hash data. A certificate enters when the station accepts an
-- InstallCertificate (`source` install, with its PEM) or reports it in a
-- GetInstalledCertificateIds answer (`source` reported, hash data only). A DeleteCertificate
-- the station accepted sets `deleted_at`; a later report of the same hash data clears it.
-- The same certificate may be known under several hash algorithms (one row each).
CREATE TABLE IF NOT EXISTS installed_certificates (
    station_id TEXT COLLATE "C" NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    hash_algorithm TEXT COLLATE "C" NOT NULL,
    issuer_name_hash TEXT COLLATE "C" NOT NULL,
    issuer_key_hash TEXT COLLATE "C" NOT NULL,
    serial_number TEXT COLLATE "C" NOT NULL,
    certificate_type TEXT COLLATE "C" NOT NULL,
    certificate TEXT COLLATE "C",
    source TEXT COLLATE "C" NOT NULL,
    seen_at TEXT COLLATE "C" NOT NULL,
    deleted_at TEXT COLLATE "C",
    PRIMARY KEY (station_id, hash_algorithm, issuer_name_hash, issuer_key_hash, serial_number)
);
