-- EFC contracts and the core-ledger accounts their charge reports debit.
CREATE TABLE efc_contracts (
    contract_key     TEXT PRIMARY KEY,
    data             TEXT NOT NULL,         -- the EfcContract record, JSON
    created_at       TEXT NOT NULL
);
