-- Meter values stored compactly (issue 9): one row per meterValue — the samples a station took
-- at one instant on one EVSE for one transaction — with its sampledValues packed into a JSON
-- array (see sqlite/meter_readings.rs for the format), instead of one row and two index entries
-- per sampledValue. A TransactionEvent with 8 sampled values cost ~2.5 KB in meter_values and
-- its indexes; as one packed row it is a few hundred bytes.
--
-- `billing` marks rows holding a reading of the billing register (what the transaction's
-- metered usage is rebuilt from); transaction_id '' is "outside a transaction".
CREATE TABLE meter_readings (
    id              INTEGER PRIMARY KEY,
    station_id      TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    evse_id         INTEGER NOT NULL,
    transaction_id  TEXT NOT NULL DEFAULT '',
    timestamp       TEXT NOT NULL,
    billing         INTEGER NOT NULL DEFAULT 0,
    samples         TEXT NOT NULL
);
-- The same instant of the same EVSE and transaction is the same row (samples merged into it);
-- it also serves "the samples of a transaction in time order".
CREATE UNIQUE INDEX meter_readings_key ON meter_readings
    (station_id, transaction_id, timestamp, evse_id);
-- "The latest samples of a station" (operator API) without a transaction filter.
CREATE INDEX meter_readings_by_time ON meter_readings (station_id, timestamp);

-- Existing samples move over with their names spelled out (the reader accepts names as well
-- as the codes new rows use), in arrival order.
INSERT INTO meter_readings (station_id, evse_id, transaction_id, timestamp, billing, samples)
SELECT station_id, evse_id, COALESCE(transaction_id, ''), timestamp,
       MAX(measurand = 'Energy.Active.Import.Register' AND phase = ''
           AND location IN ('', 'Outlet') AND wh IS NOT NULL),
       json_group_array(json_array(measurand, context, phase, location, unit, multiplier,
                                   value, wh, signed + 2 * energy_backwards, source,
                                   signed_data))
FROM (SELECT * FROM meter_values ORDER BY id)
GROUP BY station_id, evse_id, COALESCE(transaction_id, ''), timestamp
ORDER BY MIN(id);

DROP TABLE meter_values;
