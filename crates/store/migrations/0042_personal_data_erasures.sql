-- GDPR right to be forgotten for what unicharge stores about an idToken: one row per erasure
-- request (who asked, when, what was done). The erased idToken is not kept: only its keyed
-- pseudonym, the value that replaced it in the transactions and charge records kept for
-- billing, so an auditor holding the key can match a disputed record to a request.
CREATE TABLE IF NOT EXISTS personal_data_erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    erased_at TEXT NOT NULL,
    erased_by TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    counts TEXT NOT NULL            -- JSON: rows deleted / pseudonymised per table
);
