-- A05: the security profile a station is being moved to. It becomes the profile the station
-- must offer only once the station has connected at it (a station that falls back to its old
-- network slot is not locked out).
ALTER TABLE stations ADD COLUMN pending_security_profile BIGINT;
-- E14: the station answered GetTransactionStatus that a transaction the CSMS still holds open is
-- not ongoing and nothing of it is queued: the Ended event is lost. Surfaced to the operator and
-- no longer asked about on every reconnection.
ALTER TABLE transactions ADD COLUMN station_forgot_at TEXT COLLATE "C";
-- Stored answers are pruned by age.
CREATE INDEX IF NOT EXISTS answers_by_age ON answers (answered_at);
