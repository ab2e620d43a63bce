-- OCPP 1.6 StartTransaction carries no remoteStartId: the CSMS links it to the open remote
-- start of the same station and idTag (issue 18). This index keeps that lookup off a scan.
CREATE INDEX remote_starts_open ON remote_starts (station_id, id_token, transaction_id);
