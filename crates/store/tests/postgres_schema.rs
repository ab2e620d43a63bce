//! The PostgreSQL migrations (`migrations-postgres/`) against the SQLite schema they translate:
//! every table, column (type, nullability, collation), primary key, unique key
//! and named index of a fresh SQLite store exists in PostgreSQL with the same name, and
//! nothing more. Runs against the server `UNICHARGE_TEST_POSTGRES_URL` names, each test in a
//! schema of its own; skips (and says so) without it.

mod pg_support;

use std::collections::{BTreeMap, BTreeSet};

use pg_support::TestSchema;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::Row;
use unicharge_store::postgres;
use unicharge_store::sqlite::{Durability, SqliteStore};

/// A schema reduced to what both engines must agree on.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    /// table → column → (PostgreSQL type name, NOT NULL, collation)
    columns: BTreeMap<String, BTreeMap<String, Column>>,
    /// table → primary key columns, in key order
    primary_keys: BTreeMap<String, Vec<String>>,
    /// table → column lists with a unique index (primary keys included)
    unique_keys: BTreeMap<String, BTreeSet<Vec<String>>>,
    /// index created by name → (table, unique, columns)
    named_indexes: BTreeMap<String, (String, bool, Vec<String>)>,
}

/// (PostgreSQL type name, NOT NULL, collation). SQLite compares text byte by byte (BINARY)
/// unless a column says NOCASE; PostgreSQL's equivalents are `"C"` and the ICU `nocase`.
type Column = (String, bool, Option<String>);

/// The bookkeeping table of sqlx's migrator is not part of the schema.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

fn pg_type(sqlite: &str) -> String {
    match sqlite.to_ascii_uppercase().as_str() {
        "INTEGER" => "bigint",
        "TEXT" => "text",
        "REAL" => "double precision",
        "BLOB" => "bytea",
        other => panic!("SQLite type {other} has no PostgreSQL mapping in ADR 0047"),
    }
    .to_owned()
}

async fn sqlite_shape() -> Shape {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unicharge.db");
    let store = SqliteStore::open(&path, Durability::Normal).await.unwrap();
    drop(store);
    let pool = SqlitePool::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap();
    let mut shape = Shape::default();
    let tables = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> ?",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(&pool)
    .await
    .unwrap();
    for table in tables {
        let (table, sql): (String, String) = (table.get(0), table.get(1));
        let nocase: BTreeSet<String> = sql
            .lines()
            .filter(|l| l.contains("COLLATE NOCASE"))
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect();
        let mut pk = Vec::new();
        let mut columns = BTreeMap::new();
        let rows = sqlx::query(r#"SELECT name, type, "notnull", pk FROM pragma_table_info(?)"#)
            .bind(&table)
            .fetch_all(&pool)
            .await
            .unwrap();
        for row in rows {
            let (name, ty, notnull, key): (String, String, bool, i64) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            if key > 0 {
                pk.push((key, name.clone()));
            }
            // PostgreSQL makes primary key columns NOT NULL; SQLite only says so when asked.
            let ty = pg_type(&ty);
            let collation = match (ty.as_str(), nocase.contains(&name)) {
                ("text", true) => Some("nocase".to_owned()),
                ("text", false) => Some("C".to_owned()),
                _ => None,
            };
            columns.insert(name, (ty, notnull || key > 0, collation));
        }
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
        let mut unique = BTreeSet::new();
        if !pk.is_empty() {
            unique.insert(pk.clone());
        }
        let indexes = sqlx::query(r#"SELECT name, "unique", origin FROM pragma_index_list(?)"#)
            .bind(&table)
            .fetch_all(&pool)
            .await
            .unwrap();
        for index in indexes {
            let (name, is_unique, origin): (String, bool, String) =
                (index.get(0), index.get(1), index.get(2));
            let cols: Vec<String> =
                sqlx::query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| {
                        r.get::<Option<String>, _>(0)
                            .unwrap_or_else(|| "<expression>".into())
                    })
                    .collect();
            if is_unique {
                unique.insert(cols.clone());
            }
            if origin == "c" {
                shape
                    .named_indexes
                    .insert(name, (table.clone(), is_unique, cols));
            }
        }
        shape.columns.insert(table.clone(), columns);
        shape.primary_keys.insert(table.clone(), pk);
        shape.unique_keys.insert(table, unique);
    }
    shape
}

async fn postgres_shape(pool: &PgPool) -> Shape {
    let mut shape = Shape::default();
    let columns = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'NO', \
                collation_name::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t USING (table_schema, table_name) \
         WHERE table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
           AND table_name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    for row in columns {
        shape
            .columns
            .entry(row.get(0))
            .or_default()
            .insert(row.get(1), (row.get(2), row.get(3), row.get(4)));
    }
    for table in shape.columns.keys() {
        shape.primary_keys.insert(table.clone(), Vec::new());
        shape.unique_keys.insert(table.clone(), BTreeSet::new());
    }
    let indexes = sqlx::query(
        "SELECT i.relname::text, t.relname::text, x.indisunique, x.indisprimary, \
                ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) \
                      FROM generate_series(1, x.indnatts) AS k ORDER BY k), \
                EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         WHERE t.relnamespace = current_schema()::regnamespace AND t.relname <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    for row in indexes {
        let (name, table, unique, primary, by_constraint): (String, String, bool, bool, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(5));
        let cols: Vec<String> = row
            .get::<Vec<String>, _>(4)
            .into_iter()
            .map(|c| {
                if c.contains('(') {
                    "<expression>".into()
                } else {
                    c.trim_matches('"').to_owned()
                }
            })
            .collect();
        if primary {
            shape.primary_keys.insert(table.clone(), cols.clone());
        }
        if unique {
            shape
                .unique_keys
                .entry(table.clone())
                .or_default()
                .insert(cols.clone());
        }
        // Indexes behind PRIMARY KEY / UNIQUE constraints are named by PostgreSQL, as SQLite
        // names its sqlite_autoindex_*: compared as keys above, not by name.
        if !by_constraint {
            shape.named_indexes.insert(name, (table, unique, cols));
        }
    }
    shape
}

/// Every difference, readable: a failure names the table, column or index.
fn differences(sqlite: &Shape, postgres: &Shape) -> Vec<String> {
    fn diff<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
        what: &str,
        a: &BTreeMap<K, V>,
        b: &BTreeMap<K, V>,
        out: &mut Vec<String>,
    ) {
        for (k, v) in a {
            match b.get(k) {
                None => out.push(format!("{what} {k:?} missing in PostgreSQL")),
                Some(w) if w != v => {
                    out.push(format!("{what} {k:?}: SQLite {v:?}, PostgreSQL {w:?}"))
                }
                Some(_) => {}
            }
        }
        for k in b.keys().filter(|k| !a.contains_key(k)) {
            out.push(format!("{what} {k:?} only in PostgreSQL"));
        }
    }
    let mut out = Vec::new();
    let flat = |s: &Shape| -> BTreeMap<(String, String), Column> {
        s.columns
            .iter()
            .flat_map(|(t, cs)| {
                cs.iter()
                    .map(move |(c, v)| ((t.clone(), c.clone()), v.clone()))
            })
            .collect()
    };
    diff("column", &flat(sqlite), &flat(postgres), &mut out);
    diff(
        "primary key of",
        &sqlite.primary_keys,
        &postgres.primary_keys,
        &mut out,
    );
    diff(
        "unique keys of",
        &sqlite.unique_keys,
        &postgres.unique_keys,
        &mut out,
    );
    diff(
        "index",
        &sqlite.named_indexes,
        &postgres.named_indexes,
        &mut out,
    );
    out
}

#[tokio::test]
async fn migrations_pair_one_to_one_with_sqlite() {
    let names = |dir: &str| -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = names("migrations");
    assert_eq!(sqlite.len(), 48, "a migration was added: translate it too");
    assert_eq!(sqlite, names("migrations-postgres"));
    assert_eq!(postgres::MIGRATIONS.iter().count(), sqlite.len());
}

#[tokio::test]
async fn postgres_schema_matches_sqlite_schema() {
    let Some(schema) = TestSchema::create("schema_matches").await else {
        return;
    };
    let pool = schema.pool().await;
    postgres::migrate(&pool).await.unwrap();
    let (sqlite, pg) = (sqlite_shape().await, postgres_shape(&pool).await);
    // The comparison sees the schema, not two empty maps.
    assert!(sqlite.columns.len() > 60, "{} tables", sqlite.columns.len());
    assert_eq!(
        sqlite.columns["id_tokens"]["id_token"].2.as_deref(),
        Some("nocase"),
        "NOCASE parsed"
    );
    assert!(sqlite.named_indexes.len() > 30);
    let differences = differences(&sqlite, &pg);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    pool.close().await;
}

#[tokio::test]
async fn applying_the_migrations_twice_changes_nothing() {
    let Some(schema) = TestSchema::create("migrate_twice").await else {
        return;
    };
    let pool = schema.pool().await;
    postgres::migrate(&pool).await.unwrap();
    let first = postgres_shape(&pool).await;
    postgres::migrate(&pool).await.unwrap();
    assert_eq!(postgres_shape(&pool).await, first);
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied as usize, postgres::MIGRATIONS.iter().count());
    pool.close().await;
}
