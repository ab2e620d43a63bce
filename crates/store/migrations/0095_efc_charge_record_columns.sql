-- EFC charge records as columns only, found by their report; one index fewer on efc_reports.
-- Why (docs/adr/0043-efc-report-batching.md): every charge report writes these rows, and at
-- thousands of reports per second the JSON copy of each charge record and the indexes keyed by
-- OBE (each insert dirties a random page of them) were most of what the writer wrote.
--
-- * `data` (the EfcChargeRecord as JSON) repeated the columns; its four other fields become
--   columns. Readers (API, CLI, web UI) read the columns.
-- * The index by (obe_key, id) served no query; reports' charge records are read by report_id,
--   which had no index (a full scan per report listed).
-- * efc_reports_by_counter is dropped: a report by counter (an old report retransmitted) is
--   looked up among the OBE's latest reports through efc_reports_by_obe.

CREATE TABLE efc_charge_records_v2 (
    id                  INTEGER PRIMARY KEY,
    report_id           INTEGER NOT NULL REFERENCES efc_reports(id) ON DELETE CASCADE,
    obe_key             TEXT NOT NULL,
    contract_key        TEXT NOT NULL,
    usage_statement_id  INTEGER,
    fee_excl_vat        INTEGER,
    vat                 INTEGER,
    fee_unit            TEXT,
    period_begin        TEXT,
    period_end          TEXT,
    distance            INTEGER,
    distance_unit       INTEGER,
    charge_objects      TEXT NOT NULL DEFAULT '',  -- chargeObjectDesignation values, comma-separated
    no_usage            INTEGER NOT NULL DEFAULT 0,
    events              INTEGER,                   -- numberOfDetectedEvents
    authenticated       INTEGER                    -- NULL plain; 1 / 0 its own MAC verified or not
);

INSERT INTO efc_charge_records_v2 (id, report_id, obe_key, contract_key, usage_statement_id,
    fee_excl_vat, vat, fee_unit, period_begin, period_end, distance, distance_unit,
    charge_objects, no_usage, events, authenticated)
SELECT id, report_id, obe_key, contract_key, usage_statement_id,
    fee_excl_vat, vat, fee_unit, period_begin, period_end, distance, distance_unit,
    COALESCE((SELECT group_concat(o.value, ',') FROM json_each(data, '$.chargeObjects') AS o), ''),
    CASE WHEN json_extract(data, '$.noUsage') THEN 1 ELSE 0 END,
    json_extract(data, '$.events'),
    json_extract(data, '$.authenticated')
FROM efc_charge_records;

DROP TABLE efc_charge_records;
ALTER TABLE efc_charge_records_v2 RENAME TO efc_charge_records;
CREATE INDEX efc_charge_records_by_report ON efc_charge_records (report_id);

DROP INDEX efc_reports_by_counter;
