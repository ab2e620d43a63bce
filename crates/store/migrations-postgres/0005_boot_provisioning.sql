-- B02: when a station finished its first-boot provisioning step (e.g. a FullInventory report).
ALTER TABLE stations ADD COLUMN provisioned_at TEXT COLLATE "C";
