//! Block M on PostgreSQL, as `sqlite/certificates.rs` stores it: the certificates the CSMS
//! knows a station holds (pool writes, operator-initiated).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{station_id, timestamp, Columns};
use crate::{CertificateHash, InstalledCertificate, Result};

impl PgStore {
    /// Insert or refresh: a certificate seen again is not deleted any more, and keeps a PEM it
    /// had when the new sighting has none.
    pub async fn put_installed_certificate(&self, c: &InstalledCertificate) -> Result<()> {
        sqlx::query(
            "INSERT INTO installed_certificates (station_id, hash_algorithm, issuer_name_hash,
                issuer_key_hash, serial_number, certificate_type, certificate, source, seen_at,
                deleted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (station_id, hash_algorithm, issuer_name_hash, issuer_key_hash,
                serial_number)
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
        .bind(timestamp(&c.seen_at))
        .bind(c.deleted_at.as_ref().map(timestamp))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn installed_certificates(
        &self,
        station: &StationId,
    ) -> Result<Vec<InstalledCertificate>> {
        let rows = sqlx::query(
            "SELECT * FROM installed_certificates WHERE station_id = $1
             ORDER BY certificate_type, serial_number, hash_algorithm",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(certificate).collect()
    }

    /// The certificate with this hash data, under every hash algorithm it is known by (same
    /// type and serial number as the row that matches): one certificate, one deletion. Hash
    /// strings compare case-insensitively (hex).
    pub async fn mark_certificate_deleted(
        &self,
        station: &StationId,
        hash: &CertificateHash,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE installed_certificates SET deleted_at = $1
             WHERE station_id = $2 AND deleted_at IS NULL AND lower(serial_number) = lower($6)
               AND certificate_type IN (
                 SELECT certificate_type FROM installed_certificates
                 WHERE station_id = $2 AND hash_algorithm = $3
                   AND lower(issuer_name_hash) = lower($4) AND lower(issuer_key_hash) = lower($5)
                   AND lower(serial_number) = lower($6))",
        )
        .bind(timestamp(&at))
        .bind(station.as_str())
        .bind(&hash.hash_algorithm)
        .bind(&hash.issuer_name_hash)
        .bind(&hash.issuer_key_hash)
        .bind(&hash.serial_number)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}

fn certificate(row: &PgRow) -> Result<InstalledCertificate> {
    Ok(InstalledCertificate {
        station_id: station_id(row, "station_id")?,
        hash_algorithm: row.required_text("hash_algorithm")?,
        issuer_name_hash: row.required_text("issuer_name_hash")?,
        issuer_key_hash: row.required_text("issuer_key_hash")?,
        serial_number: row.required_text("serial_number")?,
        certificate_type: row.required_text("certificate_type")?,
        certificate: row.text("certificate")?,
        source: row.required_text("source")?,
        seen_at: row.required_time("seen_at")?,
        deleted_at: row.time("deleted_at")?,
    })
}
