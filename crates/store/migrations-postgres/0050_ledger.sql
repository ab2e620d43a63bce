-- The core ledger (unicharge_core::ledger): accounts with a floor, their open reservations, and
-- every movement with the reference of what caused it. Amounts are exact decimal text, never
-- REAL. (account_id, reference) is unique: a retried operation is applied once.

CREATE TABLE ledger_accounts (
    id          TEXT PRIMARY KEY,
    unit        TEXT NOT NULL,          -- money:EUR | time | volume | distance | events | service:<id>
    floor       TEXT NOT NULL,
    balance     TEXT NOT NULL,          -- top-ups − debits − commits
    reserved    TEXT NOT NULL,          -- sum of open reservations
    seq         BIGINT NOT NULL,       -- movements applied
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE ledger_reservations (
    account_id  TEXT NOT NULL REFERENCES ledger_accounts(id) ON DELETE CASCADE,
    reservation TEXT NOT NULL,
    amount      TEXT NOT NULL,
    PRIMARY KEY (account_id, reservation)
);

CREATE TABLE ledger_movements (
    account_id  TEXT NOT NULL REFERENCES ledger_accounts(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    reference   TEXT NOT NULL,
    kind        TEXT NOT NULL,          -- topUp | debit | reserve | commit | release | setFloor
    amount      TEXT NOT NULL,
    shortfall   TEXT NOT NULL,
    balance_after TEXT NOT NULL,
    at          TEXT NOT NULL,
    data        TEXT NOT NULL,          -- the Movement, JSON
    PRIMARY KEY (account_id, seq),
    UNIQUE (account_id, reference)
);
