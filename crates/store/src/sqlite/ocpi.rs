//! OCPI roaming records (migration 0060). Operator and partner writes, not station traffic:
//! they go through the pool, each in its own transaction.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use unicharge_core::StationId;

use super::columns::timestamp;
use super::SqliteStore;
use crate::ocpi::{LocationRow, OcpiStore, Partner, Party, TokenRow};
use crate::ocpi_rows::{self, PARTNER_COLUMNS};
use crate::{Result, StoreError};

impl SqliteStore {
    async fn with_parties(&self, mut partner: Partner) -> Result<Partner> {
        let rows = sqlx::query(
            "SELECT country_code, party_id FROM ocpi_partner_parties WHERE partner_id = ?
             ORDER BY country_code, party_id",
        )
        .bind(partner.id)
        .fetch_all(&self.pool)
        .await?;
        partner.parties = rows.iter().map(ocpi_rows::party).collect::<Result<_>>()?;
        Ok(partner)
    }

    async fn location_stations(&self, party: &Party, id: &str) -> Result<Vec<StationId>> {
        let rows = sqlx::query(
            "SELECT station_id FROM ocpi_location_stations
             WHERE country_code = ? AND party_id = ? AND location_id = ? ORDER BY station_id",
        )
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                StationId::new(r.try_get::<String, _>("station_id")?)
                    .map_err(|e| StoreError::Corrupt(format!("station_id: {e}")))
            })
            .collect()
    }

    async fn location_row(&self, row: &SqliteRow) -> Result<LocationRow> {
        let mut location = ocpi_rows::location(row)?;
        location.stations = self
            .location_stations(&location.party, &location.id)
            .await?;
        Ok(location)
    }
}

async fn write_parties(
    tx: &mut sqlx::SqliteConnection,
    partner_id: i64,
    parties: &[Party],
) -> Result<()> {
    sqlx::query("DELETE FROM ocpi_partner_parties WHERE partner_id = ?")
        .bind(partner_id)
        .execute(&mut *tx)
        .await?;
    for p in parties {
        sqlx::query(
            "INSERT OR IGNORE INTO ocpi_partner_parties (partner_id, country_code, party_id)
             VALUES (?, ?, ?)",
        )
        .bind(partner_id)
        .bind(&p.country_code)
        .bind(&p.party_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl OcpiStore for SqliteStore {
    async fn create_ocpi_partner(&self, p: &Partner) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = sqlx::query(
            "INSERT INTO ocpi_partners (name, status, incoming_token_hash, outgoing_token_sealed,
                version, versions_url, endpoints, roles, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        write_parties(&mut tx, id, &p.parties).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn save_ocpi_partner(&self, p: &Partner) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE ocpi_partners SET name = ?, status = ?, incoming_token_hash = ?,
                outgoing_token_sealed = ?, version = ?, versions_url = ?, endpoints = ?,
                roles = ?, updated_at = ?
             WHERE id = ?",
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
        let row = sqlx::query(&format!(
            "SELECT {PARTNER_COLUMNS} FROM ocpi_partners WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(self.with_parties(ocpi_rows::partner(&r)?).await?)),
            None => Ok(None),
        }
    }

    async fn ocpi_partner_by_token_hash(&self, hash: &str) -> Result<Option<Partner>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTNER_COLUMNS} FROM ocpi_partners WHERE incoming_token_hash = ?"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(self.with_parties(ocpi_rows::partner(&r)?).await?)),
            None => Ok(None),
        }
    }

    async fn ocpi_partners(&self) -> Result<Vec<Partner>> {
        let rows = sqlx::query(&format!(
            "SELECT {PARTNER_COLUMNS} FROM ocpi_partners ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.with_parties(ocpi_rows::partner(r)?).await?);
        }
        Ok(out)
    }

    async fn put_ocpi_location(&self, l: &LocationRow) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO ocpi_locations (country_code, party_id, id, data, last_updated)
             VALUES (?, ?, ?, ?, ?)
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
             WHERE country_code = ? AND party_id = ? AND location_id = ?",
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
                 VALUES (?, ?, ?, ?)
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
        let row = sqlx::query(
            "SELECT country_code, party_id, id, data, last_updated FROM ocpi_locations
             WHERE country_code = ? AND party_id = ? AND id = ?",
        )
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(self.location_row(&r).await?)),
            None => Ok(None),
        }
    }

    async fn ocpi_locations(&self) -> Result<Vec<LocationRow>> {
        let rows = sqlx::query(
            "SELECT country_code, party_id, id, data, last_updated FROM ocpi_locations
             ORDER BY last_updated, country_code, party_id, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.location_row(r).await?);
        }
        Ok(out)
    }

    async fn ocpi_location_of_station(
        &self,
        station: &StationId,
    ) -> Result<Option<(Party, String)>> {
        let row = sqlx::query(
            "SELECT country_code, party_id, location_id FROM ocpi_location_stations
             WHERE station_id = ?",
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
             VALUES (?, ?, ?, ?, ?, ?, ?)
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
             WHERE country_code = ? AND party_id = ? AND uid = ? AND type = ?",
        )
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(uid)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ocpi_rows::token).transpose()
    }

    async fn ocpi_tokens_by_uid(&self, uid: &str) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query("SELECT * FROM ocpi_tokens WHERE uid = ? ORDER BY last_updated")
            .bind(uid)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ocpi_rows::token).collect()
    }
}
