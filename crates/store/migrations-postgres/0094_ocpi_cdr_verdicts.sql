-- OCPI CDR verdicts (issue 12, B5.2, the x-unicharge-cdrverdicts extension module): an MSP
-- accepts or disputes a CDR, with a reason. One row per (partner, CDR), the latest verdict.
-- `side` says who gave it: RECEIVED (a partner eMSP on our CDR, CPO role) or SENT (we, as eMSP,
-- on a CDR a CPO partner pushed us).
CREATE TABLE ocpi_cdr_verdicts (
    partner_id    BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    side          TEXT COLLATE "C" NOT NULL,          -- RECEIVED, SENT
    cdr_id        TEXT COLLATE "C" NOT NULL,
    result        TEXT COLLATE "C" NOT NULL,          -- ACCEPTED, DISPUTED
    reason        TEXT COLLATE "C",
    last_updated  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (partner_id, side, cdr_id)
);
CREATE INDEX ocpi_cdr_verdicts_result ON ocpi_cdr_verdicts (side, result, last_updated);
