-- Diameter Ro online charging (issue 14): subscribers (Subscription-Id → ledger account),
-- tariffs per rating group / service identifier, credit-control sessions with their open
-- grants, and the CCA given to each (Session-Id, CC-Request-Number), so a retransmission is
-- answered with the stored answer and never debited twice. Sessions and answers are written in
-- the same transaction as the ledger operations of the CCR.

CREATE TABLE ro_subscribers (
    id_type     TEXT COLLATE "C" NOT NULL,          -- END_USER_E164, END_USER_IMSI, END_USER_SIP_URI, END_USER_NAI, END_USER_PRIVATE
    id_data     TEXT COLLATE "C" NOT NULL,
    account_id  TEXT COLLATE "C" NOT NULL,          -- ledger_accounts.id
    barred      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id_type, id_data)
);

CREATE TABLE ro_tariffs (
    id          TEXT COLLATE "C" PRIMARY KEY,
    data        TEXT COLLATE "C" NOT NULL           -- unicharge_core::online::OnlineTariff, JSON
);

CREATE TABLE ro_sessions (
    session_id          TEXT COLLATE "C" PRIMARY KEY,
    origin_host         TEXT COLLATE "C" NOT NULL,
    origin_realm        TEXT COLLATE "C" NOT NULL,
    account_id          TEXT COLLATE "C",
    subscriber          TEXT COLLATE "C",           -- TYPE:data
    state               TEXT COLLATE "C" NOT NULL,  -- OPEN, CLOSED
    closed_reason       TEXT COLLATE "C",           -- TERMINATION_REQUEST, EVENT, SUPERVISION_TIMEOUT
    last_request_number BIGINT NOT NULL,
    terminate_requested BIGINT NOT NULL DEFAULT 0,
    created_at          TEXT COLLATE "C" NOT NULL,
    updated_at          TEXT COLLATE "C" NOT NULL,
    expires_at          TEXT COLLATE "C" NOT NULL,  -- Tcc supervision deadline
    data                TEXT COLLATE "C" NOT NULL   -- open grants, JSON
);
CREATE INDEX ro_sessions_open_by_expiry ON ro_sessions (state, expires_at);

CREATE TABLE ro_answers (
    session_id     TEXT COLLATE "C" NOT NULL,
    request_number BIGINT NOT NULL,
    request_type   BIGINT NOT NULL,
    result_code    BIGINT NOT NULL,
    answer         BYTEA NOT NULL,       -- the encoded CCA
    answered_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (session_id, request_number)
);
