-- A02/A03 with certificateType V2GCertificate: the CSMS's V2G sub-CA signs SECC certificates
-- too; each issued certificate says which kind it is (OCPP CertificateSigningUseEnumType).
ALTER TABLE station_certificates
    ADD COLUMN certificate_type TEXT COLLATE "C" NOT NULL DEFAULT 'ChargingStationCertificate';
