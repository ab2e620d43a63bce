-- A top-up re-authorizes the open credit-control sessions of one account (RAR, issue 14):
-- found by index instead of scanning every open session.
CREATE INDEX ro_sessions_open_by_account ON ro_sessions (account_id, state);
