-- Bytes per stored message (issue 9): `meter_values_by_evse (station_id, evse_id, timestamp)` is
-- the leading prefix of the unique `meter_values_same_sample` index, which serves every query it
-- served (samples of an EVSE in time order, the previous reading of a series). Each sample paid
-- ~60 bytes for it, ~480 bytes per TransactionEvent with 8 sampled values.
DROP INDEX IF EXISTS meter_values_by_evse;
