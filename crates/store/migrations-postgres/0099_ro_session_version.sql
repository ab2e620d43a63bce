-- Ro sessions carry a version so that a node holding a session in memory commits a CCR only if
-- no one else changed the row since (ADR 0046). Existing rows are at version 1.
ALTER TABLE ro_sessions ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
