-- efc_reports_by_obe keyed by a small integer OBE id instead of the OBE key text.
-- Why (docs/adr/0043-efc-report-batching.md, amended): every charge report inserts one entry
-- into this index, on a page chosen by its OBE, so a commit of a few hundred reports dirties
-- a few hundred index pages, each written whole to the WAL. With the ~20-octet key string an
-- entry took ~30 octets; with an integer id it takes ~10, so the index has about a third of
-- the pages and a commit dirties fewer of them.
--
-- * efc_obe_ids gives each OBE key that ever reported an id (written once per OBE, by the
--   report insert).
-- * efc_reports keeps obe_key (readers and the API are unchanged) and gains obe_id, set on
--   every insert. It is nullable only because SQLite cannot add a NOT NULL column with a
--   REFERENCES clause; this migration fills it for the reports already stored.

CREATE TABLE efc_obe_ids (
    id               INTEGER PRIMARY KEY,
    obe_key          TEXT NOT NULL UNIQUE     -- "<manufacturerId>:<equipmentObuId hex>"
);

INSERT INTO efc_obe_ids (obe_key) SELECT DISTINCT obe_key FROM efc_reports ORDER BY obe_key;

ALTER TABLE efc_reports ADD COLUMN obe_id INTEGER REFERENCES efc_obe_ids(id);
UPDATE efc_reports SET obe_id = (SELECT i.id FROM efc_obe_ids AS i WHERE i.obe_key = efc_reports.obe_key);

DROP INDEX efc_reports_by_obe;
CREATE INDEX efc_reports_by_obe ON efc_reports (obe_id, id);
