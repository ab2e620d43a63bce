-- Indexes for the operator views (web UI): pages and counts over 100,000 stations without
-- scanning every row.
CREATE INDEX stations_by_last_seen ON stations (last_seen_at);
CREATE INDEX stations_by_created ON stations (created_at);
CREATE INDEX connectors_by_status ON connectors (status, station_id);
CREATE INDEX transactions_by_start ON transactions (started_at);
CREATE INDEX transactions_open ON transactions (started_at) WHERE ended_at IS NULL;
