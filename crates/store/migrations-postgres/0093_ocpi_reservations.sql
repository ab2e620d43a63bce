-- OCPI RESERVE_NOW / CANCEL_RESERVATION (issue 12, B6.3): the eMSP names a reservation with its
-- own string id, the CSMS with the integer id it sends the station in ReserveNow. One row per
-- (partner, OCPI reservation_id) says which station reservation that is, so CANCEL_RESERVATION
-- and a RESERVE_NOW that replaces (same reservation_id) find it, and a partner never reaches
-- another partner's reservation.
CREATE TABLE ocpi_reservations (
    partner_id           BIGINT NOT NULL REFERENCES ocpi_partners(id) ON DELETE CASCADE,
    reservation_id       TEXT COLLATE "C" NOT NULL,
    location_id          TEXT COLLATE "C" NOT NULL,
    station_id           TEXT COLLATE "C" NOT NULL,
    csms_reservation_id  BIGINT NOT NULL,
    created_at           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (partner_id, reservation_id)
);
