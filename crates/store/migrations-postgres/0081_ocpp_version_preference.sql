-- Issue 18: the OCPP version a station gets when it offers both 1.6 and 2.0.1 ('1.6' or
-- '2.0.1'); NULL: the CSMS default (2.0.1). Set by the operator (PATCH /api/v1/stations/{id}).
ALTER TABLE stations ADD COLUMN preferred_ocpp_version TEXT COLLATE "C";
