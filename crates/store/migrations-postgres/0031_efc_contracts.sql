-- EFC contracts and the core-ledger accounts their charge reports debit.
CREATE TABLE efc_contracts (
    contract_key     TEXT COLLATE "C" PRIMARY KEY,
    data             TEXT COLLATE "C" NOT NULL,         -- the EfcContract record, JSON
    created_at       TEXT COLLATE "C" NOT NULL
);
