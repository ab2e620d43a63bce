//! `sqlx::migrate!` embeds the migration files at compile time; a migration *added* to a folder
//! changes no source file, so tell cargo to rebuild when either folder changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations-postgres");
}
