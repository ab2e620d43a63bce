-- OCPP 1.6J on the same endpoint (issue 18, ADR 0036).

-- The OCPP version of the station's newest connection ('1.6' or '2.0.1'); NULL until it connects.
ALTER TABLE stations ADD COLUMN ocpp_version TEXT;

-- OCPP 1.6 transaction ids: 1.6 has the CSMS allocate an integer transactionId in its
-- StartTransaction.conf, where 2.0.1 has the station name the transaction. The integer is
-- global (AUTOINCREMENT: never reused, even after a delete) and the 2.0.1-shaped core keys the
-- transaction by its decimal text. One row per StartTransaction the station sent: the same
-- start (station, connector, timestamp, idTag) sent again under another message id, e.g.
-- after a reconnect, finds its row and gets the same id.
CREATE TABLE ocpp16_transactions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id    TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    connector_id  INTEGER NOT NULL,
    id_tag        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (station_id, connector_id, started_at, id_tag)
);
