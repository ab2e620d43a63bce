//! The data-migrating statements of the PostgreSQL migrations (0012, 0014, 0021, 0095 rewrite
//! rows with SQLite's JSON functions, translated to jsonb) move the same rows to the same
//! values as SQLite's originals: rows of the old shape are inserted into both engines just
//! before the migration that moves them, every migration is applied, and the moved rows are
//! compared. PostgreSQL from `UNICHARGE_TEST_POSTGRES_URL` in a schema of its own; skipped
//! without it.

mod pg_support;

use std::path::Path;

use pg_support::TestSchema;
use sqlx::postgres::PgPool;
use sqlx::Row;

/// Rows of the shape a migration expects, inserted right before it (plain SQL both accept).
const LEGACY: &[(i64, &str)] = &[
    (
        12,
        "INSERT INTO stations (id, security_profile, created_at)
             VALUES ('CP1', 1, '2026-01-01T00:00:00+00:00');
         INSERT INTO transaction_events (station_id, transaction_id, seq_no, event_type,
             trigger_reason, timestamp, offline, data, received_at) VALUES
           ('CP1', 'T1', 0, 'Started', 'Authorized', '2026-01-01T00:00:00+00:00', 0,
            '{\"meterValue\":[{\"a\":1},{\"b\":2}]}', '2026-01-01T00:00:01+00:00'),
           ('CP1', 'T1', 1, 'Updated', 'MeterValuePeriodic', '2026-01-01T00:01:00+00:00', 0,
            '{\"meterValue\":\"not an array\"}', '2026-01-01T00:01:01+00:00'),
           ('CP1', 'T1', 2, 'Ended', 'StopAuthorized', '2026-01-01T00:02:00+00:00', 1,
            '{}', '2026-01-01T00:02:01+00:00');",
    ),
    (
        14,
        // Ids out of insertion order: samples are packed in id order, rows created in the
        // order of their first sample.
        "INSERT INTO meter_values (id, station_id, evse_id, transaction_id, timestamp, context,
             measurand, phase, location, unit, multiplier, value, wh, signed, signed_data,
             source, energy_backwards) VALUES
           (4, 'CP1', 1, 'T1', '2026-01-01T00:01:00+00:00', 'Sample.Periodic',
            'Energy.Active.Import.Register', '', 'Outlet', 'Wh', 0, '1500', '1500', 1, 'sig',
            'TransactionEvent', 0),
           (2, 'CP1', 1, 'T1', '2026-01-01T00:01:00+00:00', 'Sample.Periodic',
            'Power.Active.Import', 'L1', '', 'W', 3, '7.2', NULL, 0, NULL, 'TransactionEvent', 1),
           (3, 'CP1', 2, NULL, '2026-01-01T00:00:30+00:00', 'Sample.Clock',
            'Voltage', 'L1-N', '', NULL, 0, '230', NULL, 0, NULL, 'MeterValues', 0);",
    ),
    (
        21,
        "INSERT INTO diameter_accounting_records (session_id, record_number, record_type,
             origin_host, origin_realm, received_at, data) VALUES
           ('S1', 0, 2, 'ctf.b', 'realm', '2026-01-01T00:00:00+00:00',
            '{\"subscriptionIds\":[{\"type\":1,\"data\":\"001010123456789\"}],\"serviceContextId\":\"32260@3gpp.org\"}'),
           ('S1', 1, 4, 'ctf.a', 'realm', '2026-01-01T00:05:00+00:00',
            '{\"subscriptionIds\":[{\"type\":1,\"data\":\"001010123456789\"}]}'),
           ('S2', 0, 3, 'ctf.c', 'realm', '2026-01-01T00:03:00+00:00', '{}');",
    ),
    (
        95,
        "INSERT INTO efc_reports (id, obe_key, contract_key, violations, request, response,
             received_at)
             VALUES (1, 'O1', 'C1', '[]', '', '', '2026-01-01T00:00:00+00:00');
         INSERT INTO efc_charge_records (id, report_id, obe_key, contract_key, fee_excl_vat,
             data) VALUES
           (5, 1, 'O1', 'C1', 120,
            '{\"chargeObjects\":[\"A\",\"B\"],\"noUsage\":true,\"events\":3,\"authenticated\":false}'),
           (9, 1, 'O1', 'C1', NULL, '{\"noUsage\":false}'),
           (7, 1, 'O1', 'C1', 0, '{\"chargeObjects\":[],\"events\":0,\"authenticated\":true}');",
    ),
];

/// Read after every migration ran: each column as text (NULL as `None`). `ORDER BY` names
/// the table's column: PostgreSQL would sort by the text output column of the same name.
const MOVED: &[&str] = &[
    "SELECT CAST(seq_no AS TEXT), CAST(meter_value_count AS TEXT)
     FROM transaction_events ORDER BY transaction_events.seq_no",
    "SELECT CAST(id AS TEXT), station_id, CAST(evse_id AS TEXT), transaction_id, timestamp,
            CAST(billing AS TEXT)
     FROM meter_readings ORDER BY meter_readings.id",
    "SELECT session_id, origin_host, origin_realm, subscription_id_type, subscription_id_data,
            service_context_id, CAST(first_record_number AS TEXT),
            CAST(last_record_number AS TEXT), CAST(records AS TEXT), state, closed_reason,
            started_at, last_record_at
     FROM diameter_accounting_sessions ORDER BY diameter_accounting_sessions.session_id",
    "SELECT CAST(id AS TEXT), CAST(report_id AS TEXT), CAST(fee_excl_vat AS TEXT),
            charge_objects, CAST(no_usage AS TEXT), CAST(events AS TEXT),
            CAST(authenticated AS TEXT)
     FROM efc_charge_records ORDER BY efc_charge_records.id",
];

/// The packed samples are JSON: compared as values (the engines space JSON differently).
const SAMPLES: &str = "SELECT samples FROM meter_readings ORDER BY meter_readings.id";

/// After the copy, new rows get ids past the copied ones (PostgreSQL: the `setval` in 0095).
const AFTER: &str = "INSERT INTO efc_charge_records (report_id, obe_key, contract_key)
                     VALUES (1, 'O1', 'C1')";

type Rows = Vec<Vec<Option<String>>>;

/// (version, SQL) of every migration file in `dir`, in order.
fn migrations(dir: &str) -> Vec<(i64, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let version = name.split('_').next().unwrap().parse().unwrap();
            (version, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

fn legacy_before(version: i64) -> Option<&'static str> {
    LEGACY
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, sql)| *sql)
}

fn sqlite_moved() -> (Vec<Rows>, Vec<serde_json::Value>) {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    for (version, sql) in migrations("migrations") {
        if let Some(legacy) = legacy_before(version) {
            conn.execute_batch(legacy).unwrap();
        }
        conn.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("SQLite migration {version}: {e}"));
    }
    conn.execute_batch(AFTER).unwrap();
    let read = |sql: &str| -> Rows {
        let mut statement = conn.prepare(sql).unwrap();
        let width = statement.column_count();
        statement
            .query_map([], |row| {
                (0..width)
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect()
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let samples = read(SAMPLES)
        .into_iter()
        .map(|r| serde_json::from_str(r[0].as_deref().unwrap()).unwrap())
        .collect();
    (MOVED.iter().map(|sql| read(sql)).collect(), samples)
}

async fn postgres_moved(pool: &PgPool) -> (Vec<Rows>, Vec<serde_json::Value>) {
    for (version, sql) in migrations("migrations-postgres") {
        if let Some(legacy) = legacy_before(version) {
            sqlx::raw_sql(legacy).execute(pool).await.unwrap();
        }
        sqlx::raw_sql(&sql)
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL migration {version}: {e}"));
    }
    sqlx::raw_sql(AFTER).execute(pool).await.unwrap();
    let mut moved = Vec::new();
    for sql in MOVED.iter().chain([&SAMPLES]) {
        let rows = sqlx::query(sql).fetch_all(pool).await.unwrap();
        moved.push(
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.get::<Option<String>, _>(i))
                        .collect()
                })
                .collect::<Rows>(),
        );
    }
    let samples = moved
        .pop()
        .unwrap()
        .into_iter()
        .map(|r| serde_json::from_str(r[0].as_deref().unwrap()).unwrap())
        .collect();
    (moved, samples)
}

fn text(values: &[&str]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|v| (*v != "NULL").then(|| v.to_string()))
        .collect()
}

#[tokio::test]
async fn data_migrations_move_rows_as_sqlite_does() {
    let Some(schema) = TestSchema::create("data_migrations").await else {
        return;
    };
    let pool = schema.pool().await;
    let (pg, pg_samples) = postgres_moved(&pool).await;
    let (sqlite, sqlite_samples) = sqlite_moved();
    for (n, (pg, sqlite)) in pg.iter().zip(&sqlite).enumerate() {
        assert_eq!(pg, sqlite, "{}", MOVED[n]);
    }
    assert_eq!(pg_samples, sqlite_samples);

    // And what they are, so two engines agreeing on nothing cannot pass.
    assert_eq!(
        pg[0],
        [text(&["0", "2"]), text(&["1", "0"]), text(&["2", "0"])]
    );
    assert_eq!(pg[1].len(), 2);
    assert_eq!(
        pg[1][1][3].as_deref(),
        Some(""),
        "outside a transaction: ''"
    );
    assert_eq!(
        pg[1][0][5].as_deref(),
        Some("1"),
        "the billing register's reading"
    );
    assert_eq!(pg_samples[0].as_array().unwrap().len(), 2);
    assert_eq!(
        pg_samples[0][0][0], "Power.Active.Import",
        "id order within the row"
    );
    assert_eq!(pg_samples[0][0][8], 2, "signed + 2 * energy_backwards");
    assert_eq!(
        pg[2][0],
        text(&[
            "S1",
            "ctf.a",
            "realm",
            "1",
            "001010123456789",
            "32260@3gpp.org",
            "0",
            "1",
            "2",
            "CLOSED",
            "STOP_RECORD",
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T00:05:00+00:00",
        ])
    );
    assert_eq!(pg[2][1][9].as_deref(), Some("OPEN"));
    assert_eq!(
        pg[3],
        [
            text(&["5", "1", "120", "A,B", "1", "3", "0"]),
            text(&["7", "1", "0", "", "0", "0", "1"]),
            text(&["9", "1", "NULL", "", "0", "NULL", "NULL"]),
            text(&["10", "1", "NULL", "", "0", "NULL", "NULL"]),
        ]
    );
    pool.close().await;
}
