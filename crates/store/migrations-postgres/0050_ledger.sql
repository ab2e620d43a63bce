-- The core ledger (unicharge_core::ledger): accounts with a floor, their open reservations, and
-- every movement with the reference of what caused it. Amounts are exact decimal text, never
-- REAL. (account_id, reference) is unique: a retried operation is applied once.

CREATE TABLE ledger_accounts (
    id          TEXT COLLATE "C" PRIMARY KEY,
    unit        TEXT COLLATE "C" NOT NULL,          -- money:EUR | time | volume | distance | events | service:<id>
    floor       TEXT COLLATE "C" NOT NULL,
    balance     TEXT COLLATE "C" NOT NULL,          -- top-ups − debits − commits
    reserved    TEXT COLLATE "C" NOT NULL,          -- sum of open reservations
    seq         BIGINT NOT NULL,       -- movements applied
    label       TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE ledger_reservations (
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES ledger_accounts(id) ON DELETE CASCADE,
    reservation TEXT COLLATE "C" NOT NULL,
    amount      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account_id, reservation)
);

CREATE TABLE ledger_movements (
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES ledger_accounts(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    reference   TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,          -- topUp | debit | reserve | commit | release | setFloor
    amount      TEXT COLLATE "C" NOT NULL,
    shortfall   TEXT COLLATE "C" NOT NULL,
    balance_after TEXT COLLATE "C" NOT NULL,
    at          TEXT COLLATE "C" NOT NULL,
    data        TEXT COLLATE "C" NOT NULL,          -- the Movement, JSON
    PRIMARY KEY (account_id, seq),
    UNIQUE (account_id, reference)
);
