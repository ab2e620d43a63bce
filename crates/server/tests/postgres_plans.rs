//! The PostgreSQL store's hot paths use indexes on realistic data (issue 17: "indexes checked
//! with EXPLAIN on realistic data"), checked on the statements the server really runs rather
//! than on copies of them:
//!
//! 1. Twenty stations (half on OCPP 1.6J) play the load generator's realistic mix against a
//!    server on a fresh schema, so every table the mix writes holds real rows.
//! 2. Those rows are multiplied (station ids, transaction ids, tokens and every other unique
//!    text key suffixed per copy) until the big tables hold tens of thousands of rows, and the
//!    schema is analysed, as a production database's would be.
//! 3. The server starts again on it; the mix plays again and the operator's per-station reads
//!    run through the API.
//! 4. During step 3, no table of 5,000 rows or more was read by a sequential scan
//!    (`pg_stat_user_tables.seq_scan`): the planner found an index for every statement. A
//!    failure names the table, its size and the scans.
//!
//! Runs when `UNICHARGE_TEST_POSTGRES_URL` is set (`.ci/run` sets it); skipped otherwise.

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, Row};
use unicharge_sim::load;

use common::{StationSpec, TestCsms};

const STATIONS: usize = 20;
/// A table is multiplied up to this many rows (and at most [`MAX_COPIES`] times).
const TARGET_ROWS: i64 = 60_000;
const MAX_COPIES: i64 = 500;
/// Tables at least this big must not be scanned sequentially.
const BIG: i64 = 5_000;
const BOUND: Duration = Duration::from_secs(30);

fn ids() -> Vec<&'static str> {
    (0..STATIONS)
        .map(|i| &*Box::leak(format!("PLAN{i:02}").into_boxed_str()))
        .collect()
}

async fn start(store: &str, app: &str) -> TestCsms {
    let specs: Vec<StationSpec> = ids()
        .into_iter()
        .map(|id| StationSpec::new(id, 1))
        .collect();
    let url = format!("{store}&application_name={app}");
    TestCsms::start_with(&specs, move |s| {
        s.store.url = Some(url);
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await
}

/// Play the realistic mix on every station for `duration` (closed loop, half on 1.6J); every
/// message must be answered without error.
async fn play_mix(csms: &TestCsms, duration: Duration) {
    let mix = load::Mix {
        updates_per_session: 3,
        meter_values_every: 1,
        authorize_percent: 50,
        ..load::Mix::default()
    };
    let report = common::play_load(csms, &ids(), mix, duration, 50).await;
    assert_eq!(report.connected, STATIONS, "{report:?}");
    assert!(report.errors.is_empty(), "{report:?}");
}

/// The mix's token and a few more, so that the token table is multiplied as well.
async fn add_tokens(csms: &TestCsms, key: &str) {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let api = format!("http://{}/api/v1", csms.server.http_addr.unwrap());
    let tokens = std::iter::once(load::Mix::default().id_token)
        .chain((0..STATIONS).map(|i| format!("PLAN-TOKEN-{i}")));
    for token in tokens {
        let response = http
            .put(format!("{api}/tokens/ISO14443/{token}"))
            .bearer_auth(key)
            .json(&serde_json::json!({"status": "Accepted"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{token}");
    }
}

/// The operator's per-station reads, as the UI and integrations make them.
async fn operator_reads(csms: &TestCsms, key: &str) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(BOUND)
        .build()
        .unwrap();
    let api = format!("http://{}/api/v1", csms.server.http_addr.unwrap());
    for id in ids().into_iter().step_by(4) {
        for path in [
            format!("/stations/{id}"),
            format!("/stations/{id}/transactions"),
            format!("/stations/{id}/meter-values"),
            format!("/stations/{id}/local-list"),
            format!("/stations/{id}/reservations"),
        ] {
            let response = http
                .get(format!("{api}{path}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
        }
    }
}

/// End the backends of `app` (the server is shut down, but a pool may linger until its
/// runtime ends) and wait until none is left: a backend that ends reports its counters first.
async fn wait_gone(admin: &mut PgConnection, app: &str) {
    let started = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1",
        )
        .bind(app)
        .fetch_one(&mut *admin)
        .await
        .unwrap();
        if left == 0 {
            return;
        }
        assert!(started.elapsed() < BOUND, "{left} backends of {app} stay");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `table → (rows, sequential scans, index scans)` of the schema, read afresh.
async fn table_stats(admin: &mut PgConnection, schema: &str) -> BTreeMap<String, (i64, i64, i64)> {
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *admin)
        .await
        .unwrap();
    sqlx::query(
        "SELECT relname::text AS name, n_live_tup, seq_scan, COALESCE(idx_scan, 0) AS idx_scan
         FROM pg_stat_user_tables WHERE schemaname = $1",
    )
    .bind(schema)
    .fetch_all(&mut *admin)
    .await
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r.get::<String, _>("name"),
            (
                r.get::<i64, _>("n_live_tup"),
                r.get::<i64, _>("seq_scan"),
                r.get::<i64, _>("idx_scan"),
            ),
        )
    })
    .collect()
}

/// Multiply every non-empty table of the schema: copy `k` gets every text column that is part
/// of a unique index, or names a station, transaction or token, suffixed `~k`, and every other
/// integer column of a unique index shifted by `k`×10⁹ (identity columns take new values).
/// Referenced tables are copied first, and a table never gets more copies than a table it
/// references, so that every foreign key finds its row.
async fn multiply(conn: &mut PgConnection, schema: &str) -> Vec<String> {
    let mut tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'
         ORDER BY table_name",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let references: Vec<(String, String)> = sqlx::query(
        "SELECT c.relname::text AS child, p.relname::text AS parent
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid
         JOIN pg_class p ON p.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE k.contype = 'f' AND n.nspname = $1 AND c.oid <> p.oid",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get("child"), r.get("parent")))
    .collect();
    let mut copied: BTreeMap<String, i64> = BTreeMap::new();
    let mut multiplied = Vec::new();
    while !tables.is_empty() {
        let ready = tables
            .iter()
            .position(|t| {
                references
                    .iter()
                    .all(|(child, parent)| child != t || copied.contains_key(parent))
            })
            .expect("foreign keys without a cycle");
        let table = tables.remove(ready);
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {schema}.{table}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let parents = references
            .iter()
            .filter(|(child, _)| *child == table)
            .map(|(_, parent)| copied[parent]);
        let copies = parents.fold((TARGET_ROWS / rows.max(1)).clamp(1, MAX_COPIES), i64::min);
        copied.insert(table.clone(), copies);
        if rows == 0 {
            continue;
        }
        let columns = sqlx::query(
            "SELECT c.column_name::text AS name, c.data_type::text AS kind,
                    c.is_identity = 'YES' OR c.is_generated = 'ALWAYS' AS generated,
                    EXISTS (
                        SELECT 1 FROM pg_index i
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                        WHERE i.indrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
                          AND i.indisunique AND a.attname = c.column_name
                    ) AS in_unique
             FROM information_schema.columns c
             WHERE c.table_schema = $1 AND c.table_name = $2
             ORDER BY c.ordinal_position",
        )
        .bind(schema)
        .bind(&table)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let (mut names, mut values) = (Vec::new(), Vec::new());
        for column in columns {
            let name: String = column.get("name");
            let kind: String = column.get("kind");
            if column.get::<bool, _>("generated") {
                continue;
            }
            let in_unique: bool = column.get("in_unique");
            let keyed = in_unique
                || matches!(
                    name.as_str(),
                    "station_id" | "transaction_id" | "id_token" | "session_id"
                )
                || (table == "stations" && name == "id");
            let value = match kind.as_str() {
                "text" | "character varying" if keyed => format!("\"{name}\" || '~' || k"),
                "bigint" | "integer" if in_unique => {
                    format!("\"{name}\" + k::bigint * 1000000000")
                }
                _ => format!("\"{name}\""),
            };
            names.push(format!("\"{name}\""));
            values.push(value);
        }
        let sql = format!(
            "INSERT INTO {schema}.{table} ({}) SELECT {} FROM {schema}.{table},
             generate_series(1, {copies}) AS k",
            names.join(", "),
            values.join(", ")
        );
        if let Err(e) = sqlx::query(&sql).execute(&mut *conn).await {
            panic!("{table} not multiplied: {e}\n{sql}");
        }
        multiplied.push(format!("{table}: {rows} × {}", copies + 1));
    }
    sqlx::query("ANALYZE").execute(&mut *conn).await.unwrap();
    multiplied
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_paths_use_indexes_on_realistic_data() {
    let Some(store) = common::shared_postgres_store("plans") else {
        return;
    };
    let schema = store.rsplit("search_path]=").next().unwrap().to_string();
    let app = format!("plans{}", std::process::id());
    let admin_url = std::env::var("UNICHARGE_TEST_POSTGRES_URL").unwrap();
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();

    // 1. Real rows from the realistic mix.
    let first = start(&store, &app).await;
    let key = first.server.initial_admin_key.clone().unwrap();
    add_tokens(&first, &key).await;
    play_mix(&first, Duration::from_millis(1500)).await;
    let TestCsms { server, dir, .. } = first;
    server.shutdown().await;
    wait_gone(&mut admin, &app).await;

    // 2. Multiplied and analysed.
    let mut loader = PgConnection::connect(&format!("{store}&application_name={app}"))
        .await
        .unwrap();
    let multiplied = multiply(&mut loader, &schema).await;
    loader.close().await.unwrap();
    wait_gone(&mut admin, &app).await;
    let before = table_stats(&mut admin, &schema).await;
    eprintln!("multiplied: {multiplied:#?}");

    // 3. The mix and the operator's reads again.
    let second = start(&store, &app).await;
    play_mix(&second, Duration::from_millis(1500)).await;
    operator_reads(&second, &key).await;
    let TestCsms { server, .. } = second;
    server.shutdown().await;
    wait_gone(&mut admin, &app).await;
    drop(dir);

    // 4. No sequential scan of a big table.
    let after = table_stats(&mut admin, &schema).await;
    let mut scanned = Vec::new();
    let mut index_scans = 0;
    let mut big = 0;
    for (table, (rows, seq, idx)) in &after {
        let (rows_before, seq_before, idx_before) = before.get(table).copied().unwrap_or_default();
        let rows = (*rows).max(rows_before);
        if rows < BIG {
            continue;
        }
        big += 1;
        index_scans += idx - idx_before;
        if *seq > seq_before {
            scanned.push(format!(
                "{table} ({rows} rows): {} sequential scans",
                seq - seq_before
            ));
        }
    }
    eprintln!("{index_scans} index scans of {big} big tables during the mix and the reads");
    assert!(big >= 5, "too few big tables to judge: {after:?}");
    // The counters were flushed and the big tables were used at all.
    assert!(
        index_scans > 1_000,
        "{index_scans} index scans of big tables: {after:?}"
    );
    assert!(
        scanned.is_empty(),
        "big tables read by a sequential scan during the mix and the operator's reads:\n{}",
        scanned.join("\n")
    );
}
