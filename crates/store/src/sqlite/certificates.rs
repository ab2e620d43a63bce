//! SQLite side of block M: the certificates the CSMS knows a station holds (pool writes,
//! operator-initiated).

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use unicharge_core::StationId;

use crate::{InstalledCertificate, Result, StoreError};

/// Insert or refresh: a certificate seen again is not deleted any more, and keeps a PEM it
/// had when the new sighting has none.
pub(super) async fn put(pool: &SqlitePool, c: &InstalledCertificate) -> Result<()> {
    sqlx::query(
        "INSERT INTO installed_certificates (station_id, hash_algorithm, issuer_name_hash,
            issuer_key_hash, serial_number, certificate_type, certificate, source, seen_at,
            deleted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (station_id, hash_algorithm, issuer_name_hash, issuer_key_hash, serial_number)
         DO UPDATE SET certificate_type = excluded.certificate_type,
            certificate = COALESCE(excluded.certificate, installed_certificates.certificate),
            source = CASE WHEN installed_certificates.certificate IS NOT NULL
                          THEN installed_certificates.source ELSE excluded.source END,
            seen_at = excluded.seen_at, deleted_at = excluded.deleted_at",
    )
    .bind(c.station_id.as_str())
    .bind(&c.hash_algorithm)
    .bind(&c.issuer_name_hash)
    .bind(&c.issuer_key_hash)
    .bind(&c.serial_number)
    .bind(&c.certificate_type)
    .bind(&c.certificate)
    .bind(&c.source)
    .bind(c.seen_at)
    .bind(c.deleted_at)
    .execute(pool)
    .await?;
    Ok(())
}

fn row(row: &SqliteRow) -> Result<InstalledCertificate> {
    let raw: String = row.try_get("station_id")?;
    Ok(InstalledCertificate {
        station_id: StationId::new(raw)
            .map_err(|e| StoreError::Corrupt(format!("station_id: {e}")))?,
        hash_algorithm: row.try_get("hash_algorithm")?,
        issuer_name_hash: row.try_get("issuer_name_hash")?,
        issuer_key_hash: row.try_get("issuer_key_hash")?,
        serial_number: row.try_get("serial_number")?,
        certificate_type: row.try_get("certificate_type")?,
        certificate: row.try_get("certificate")?,
        source: row.try_get("source")?,
        seen_at: row.try_get("seen_at")?,
        deleted_at: row.try_get("deleted_at")?,
    })
}

pub(super) async fn list(
    pool: &SqlitePool,
    station: &StationId,
) -> Result<Vec<InstalledCertificate>> {
    let rows = sqlx::query(
        "SELECT * FROM installed_certificates WHERE station_id = ?
         ORDER BY certificate_type, serial_number, hash_algorithm",
    )
    .bind(station.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter().map(row).collect()
}

/// The certificate with this hash data, under every hash algorithm it is known by (same
/// type and serial number as the row that matches): one certificate, one deletion. Hash
/// strings compare case-insensitively (hex).
pub(super) async fn mark_deleted(
    pool: &SqlitePool,
    station: &StationId,
    hash_algorithm: &str,
    issuer_name_hash: &str,
    issuer_key_hash: &str,
    serial_number: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE installed_certificates SET deleted_at = ?1
         WHERE station_id = ?2 AND deleted_at IS NULL AND lower(serial_number) = lower(?6)
           AND certificate_type IN (
             SELECT certificate_type FROM installed_certificates
             WHERE station_id = ?2 AND hash_algorithm = ?3
               AND lower(issuer_name_hash) = lower(?4) AND lower(issuer_key_hash) = lower(?5)
               AND lower(serial_number) = lower(?6))",
    )
    .bind(at)
    .bind(station.as_str())
    .bind(hash_algorithm)
    .bind(issuer_name_hash)
    .bind(issuer_key_hash)
    .bind(serial_number)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n > 0)
}
