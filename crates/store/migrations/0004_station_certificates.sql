-- Certificates the CSMS's certificate authority issued to stations (A02, A03).
CREATE TABLE station_certificates (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id     TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    serial         TEXT NOT NULL,            -- hex
    subject        TEXT NOT NULL,
    not_after      TEXT NOT NULL,
    certificate    TEXT NOT NULL,            -- PEM
    issued_at      TEXT NOT NULL,
    station_status TEXT                      -- the station's CertificateSignedResponse status, or the failure
);
CREATE INDEX station_certificates_by_station ON station_certificates (station_id, seq);
