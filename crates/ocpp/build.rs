//! Embeds every official schema in `schemas/v201/` and `schemas/v16/` into the crate, so a binary
//! needs no files beside it. Writes `$OUT_DIR/v201_schemas.rs` and `$OUT_DIR/v16_schemas.rs`:
//! `(name, text)` pairs, name = file stem.

use std::{env, fs, path::PathBuf};

fn embed(folder: &str, static_name: &str, doc: &str) {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("schemas")
        .join(folder);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("schemas/{folder} exists: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut out = format!(
        "/// {doc}: (file stem, JSON text).\npub static {static_name}: &[(&str, &str)] = &[\n"
    );
    for name in &names {
        let stem = name.trim_end_matches(".json");
        out.push_str(&format!(
            "    ({stem:?}, include_str!({:?})),\n",
            dir.join(name).display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join(format!("{folder}_schemas.rs"));
    fs::write(dest, out).unwrap_or_else(|e| panic!("write {folder}_schemas.rs: {e}"));
}

fn main() {
    embed("v201", "V201_SCHEMAS", "The official OCPP 2.0.1 schemas");
    embed(
        "v16",
        "V16_SCHEMAS",
        "The official OCPP 1.6 schemas and 1.6 security whitepaper (ed. 3) schemas",
    );
}
