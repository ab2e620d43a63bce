-- A sample is the same sample only within the same transaction: the Ended reading of one
-- session and the Started reading of the next on the same EVSE may carry the same timestamp,
-- measurand and context, and the second must not be ignored as a duplicate (its energy would go
-- unbilled). SQLite cannot change a table constraint, so the table is rebuilt with the
-- duplicate key as an index that includes the transaction (none counts as '').
CREATE TABLE meter_values_rebuilt (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id      TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    evse_id         INTEGER NOT NULL,
    transaction_id  TEXT,
    timestamp       TEXT NOT NULL,
    context         TEXT NOT NULL,
    measurand       TEXT NOT NULL,
    phase           TEXT NOT NULL DEFAULT '',
    location        TEXT NOT NULL DEFAULT '',
    unit            TEXT,
    multiplier      INTEGER NOT NULL DEFAULT 0,
    value           TEXT NOT NULL,
    wh              TEXT,
    signed          INTEGER NOT NULL DEFAULT 0,
    signed_data     TEXT,
    source          TEXT NOT NULL,
    energy_backwards INTEGER NOT NULL DEFAULT 0
);
INSERT INTO meter_values_rebuilt
    SELECT id, station_id, evse_id, transaction_id, timestamp, context, measurand, phase,
           location, unit, multiplier, value, wh, signed, signed_data, source, energy_backwards
    FROM meter_values;
DROP TABLE meter_values;
ALTER TABLE meter_values_rebuilt RENAME TO meter_values;
CREATE UNIQUE INDEX meter_values_same_sample ON meter_values
    (station_id, evse_id, timestamp, measurand, phase, location, context, COALESCE(transaction_id, ''));
CREATE INDEX meter_values_by_transaction ON meter_values (station_id, transaction_id, timestamp);
CREATE INDEX meter_values_by_evse ON meter_values (station_id, evse_id, timestamp);
