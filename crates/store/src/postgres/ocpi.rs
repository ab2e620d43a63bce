//! OCPI roaming records (migration 0060) on PostgreSQL: the statements of the SQLite store's
//! `OcpiStore` (`sqlite/ocpi.rs`), rows decoded by the shared `crate::ocpi_rows`.
//!
//! Operator and partner writes, not station traffic: through the pool, each in its own
//! transaction. Where SQLite's single writer serialises a replace of a partner's parties or a
//! location's stations, here the row the replace starts with (`UPDATE ocpi_partners`, the
//! location upsert) is locked until commit, so two nodes replacing the same partner or
//! location run one after the other and never interleave their child rows.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::timestamp;
use crate::ocpi::{LocationRow, OcpiStore, Partner, Party, TokenRow};
use crate::ocpi_rows::{self, PARTNER_COLUMNS};
use crate::{Result, StoreError};

async fn write_parties(tx: &mut PgConnection, partner_id: i64, parties: &[Party]) -> Result<()> {
    sqlx::query("DELETE FROM ocpi_partner_parties WHERE partner_id = $1")
        .bind(partner_id)
        .execute(&mut *tx)
        .await?;
    for p in parties {
        sqlx::query(
            "INSERT INTO ocpi_partner_parties (partner_id, country_code, party_id)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(partner_id)
        .bind(&p.country_code)
        .bind(&p.party_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn station_of(row: &PgRow) -> Result<StationId> {
    StationId::new(row.try_get::<String, _>("station_id")?)
        .map_err(|e| StoreError::Corrupt(format!("station_id: {e}")))
}

impl PgStore {
    /// Partners with their parties: the parties of all of them in one query, not one per
    /// partner.
    async fn partners_with_parties(&self, rows: &[PgRow]) -> Result<Vec<Partner>> {
        let mut partners = rows
            .iter()
            .map(ocpi_rows::partner)
            .collect::<Result<Vec<_>>>()?;
        if partners.is_empty() {
            return Ok(partners);
        }
        let ids: Vec<i64> = partners.iter().map(|p| p.id).collect();
        let parties = sqlx::query(
            "SELECT partner_id, country_code, party_id FROM ocpi_partner_parties
             WHERE partner_id = ANY($1) ORDER BY partner_id, country_code, party_id",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let mut by_partner: HashMap<i64, Vec<Party>> = HashMap::new();
        for r in &parties {
            by_partner
                .entry(r.try_get("partner_id")?)
                .or_default()
                .push(ocpi_rows::party(r)?);
        }
        for p in &mut partners {
            p.parties = by_partner.remove(&p.id).unwrap_or_default();
        }
        Ok(partners)
    }

    /// Locations with their stations: the stations of all of them in one query.
    async fn locations_with_stations(&self, rows: &[PgRow]) -> Result<Vec<LocationRow>> {
        let mut locations = rows
            .iter()
            .map(ocpi_rows::location)
            .collect::<Result<Vec<_>>>()?;
        if locations.is_empty() {
            return Ok(locations);
        }
        let (mut countries, mut parties, mut ids) = (Vec::new(), Vec::new(), Vec::new());
        for l in &locations {
            countries.push(l.party.country_code.as_str());
            parties.push(l.party.party_id.as_str());
            ids.push(l.id.as_str());
        }
        let stations = sqlx::query(
            "SELECT s.station_id, s.country_code, s.party_id, s.location_id
             FROM ocpi_location_stations s
             JOIN UNNEST($1::text[], $2::text[], $3::text[]) AS l(country_code, party_id, id)
               ON s.country_code = l.country_code AND s.party_id = l.party_id
              AND s.location_id = l.id
             ORDER BY s.station_id",
        )
        .bind(&countries)
        .bind(&parties)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let mut by_location: HashMap<(String, String, String), Vec<StationId>> = HashMap::new();
        for r in &stations {
            by_location
                .entry((
                    r.try_get("country_code")?,
                    r.try_get("party_id")?,
                    r.try_get("location_id")?,
                ))
                .or_default()
                .push(station_of(r)?);
        }
        for l in &mut locations {
            let key = (
                l.party.country_code.clone(),
                l.party.party_id.clone(),
                l.id.clone(),
            );
            l.stations = by_location.remove(&key).unwrap_or_default();
        }
        Ok(locations)
    }
}

#[async_trait]
impl OcpiStore for PgStore {
    async fn create_ocpi_partner(&self, p: &Partner) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ocpi_partners (name, status, incoming_token_hash, outgoing_token_sealed,
                version, versions_url, endpoints, roles, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             RETURNING id",
        )
        .bind(&p.name)
        .bind(&p.status)
        .bind(&p.incoming_token_hash)
        .bind(&p.outgoing_token_sealed)
        .bind(&p.version)
        .bind(&p.versions_url)
        .bind(&p.endpoints)
        .bind(&p.roles)
        .bind(timestamp(&p.created_at))
        .bind(timestamp(&p.updated_at))
        .fetch_one(&mut *tx)
        .await?;
        write_parties(&mut tx, id, &p.parties).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn save_ocpi_partner(&self, p: &Partner) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE ocpi_partners SET name = $1, status = $2, incoming_token_hash = $3,
                outgoing_token_sealed = $4, version = $5, versions_url = $6, endpoints = $7,
                roles = $8, updated_at = $9
             WHERE id = $10",
        )
        .bind(&p.name)
        .bind(&p.status)
        .bind(&p.incoming_token_hash)
        .bind(&p.outgoing_token_sealed)
        .bind(&p.version)
        .bind(&p.versions_url)
        .bind(&p.endpoints)
        .bind(&p.roles)
        .bind(timestamp(&p.updated_at))
        .bind(p.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        write_parties(&mut tx, p.id, &p.parties).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn ocpi_partner(&self, id: i64) -> Result<Option<Partner>> {
        let rows = sqlx::query(&format!(
            "SELECT {PARTNER_COLUMNS} FROM ocpi_partners WHERE id = $1"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(self.partners_with_parties(&rows).await?.pop())
    }

    async fn ocpi_partner_by_token_hash(&self, hash: &str) -> Result<Option<Partner>> {
        let rows = sqlx::query(&format!(
            "SELECT {PARTNER_COLUMNS} FROM ocpi_partners WHERE incoming_token_hash = $1"
        ))
        .bind(hash)
        .fetch_all(&self.pool)
        .await?;
        Ok(self.partners_with_parties(&rows).await?.pop())
    }

    async fn ocpi_partners(&self) -> Result<Vec<Partner>> {
        let rows = sqlx::query(&format!(
            "SELECT {PARTNER_COLUMNS} FROM ocpi_partners ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        self.partners_with_parties(&rows).await
    }

    async fn put_ocpi_location(&self, l: &LocationRow) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO ocpi_locations (country_code, party_id, id, data, last_updated)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (country_code, party_id, id)
             DO UPDATE SET data = excluded.data, last_updated = excluded.last_updated",
        )
        .bind(&l.party.country_code)
        .bind(&l.party.party_id)
        .bind(&l.id)
        .bind(&l.data)
        .bind(timestamp(&l.last_updated))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM ocpi_location_stations
             WHERE country_code = $1 AND party_id = $2 AND location_id = $3",
        )
        .bind(&l.party.country_code)
        .bind(&l.party.party_id)
        .bind(&l.id)
        .execute(&mut *tx)
        .await?;
        for s in &l.stations {
            // A station moves to this location if it was in another.
            sqlx::query(
                "INSERT INTO ocpi_location_stations (station_id, country_code, party_id, location_id)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (station_id) DO UPDATE SET country_code = excluded.country_code,
                    party_id = excluded.party_id, location_id = excluded.location_id",
            )
            .bind(s.as_str())
            .bind(&l.party.country_code)
            .bind(&l.party.party_id)
            .bind(&l.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn ocpi_location(&self, party: &Party, id: &str) -> Result<Option<LocationRow>> {
        let rows = sqlx::query(
            "SELECT country_code, party_id, id, data, last_updated FROM ocpi_locations
             WHERE country_code = $1 AND party_id = $2 AND id = $3",
        )
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(self.locations_with_stations(&rows).await?.pop())
    }

    async fn ocpi_locations(&self) -> Result<Vec<LocationRow>> {
        let rows = sqlx::query(
            "SELECT country_code, party_id, id, data, last_updated FROM ocpi_locations
             ORDER BY last_updated, country_code, party_id, id",
        )
        .fetch_all(&self.pool)
        .await?;
        self.locations_with_stations(&rows).await
    }

    async fn ocpi_location_of_station(
        &self,
        station: &StationId,
    ) -> Result<Option<(Party, String)>> {
        let row = sqlx::query(
            "SELECT country_code, party_id, location_id FROM ocpi_location_stations
             WHERE station_id = $1",
        )
        .bind(station.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((ocpi_rows::party(&r)?, r.try_get("location_id")?)))
            .transpose()
    }

    async fn put_ocpi_token(&self, t: &TokenRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_tokens (country_code, party_id, uid, type, partner_id, data,
                last_updated)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (country_code, party_id, uid, type) DO UPDATE SET
                partner_id = excluded.partner_id, data = excluded.data,
                last_updated = excluded.last_updated",
        )
        .bind(&t.party.country_code)
        .bind(&t.party.party_id)
        .bind(&t.uid)
        .bind(&t.kind)
        .bind(t.partner_id)
        .bind(&t.data)
        .bind(timestamp(&t.last_updated))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_token(&self, party: &Party, uid: &str, kind: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query(
            "SELECT * FROM ocpi_tokens
             WHERE country_code = $1 AND party_id = $2 AND uid = $3 AND type = $4",
        )
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(uid)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ocpi_rows::token).transpose()
    }

    /// Ordered by `last_updated` as SQLite; ties (SQLite: unspecified) by party and type, so
    /// every node lists them alike.
    async fn ocpi_tokens_by_uid(&self, uid: &str) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_tokens WHERE uid = $1
             ORDER BY last_updated, country_code, party_id, type",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::token).collect()
    }
}
