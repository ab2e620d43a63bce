//! Embeds every official schema in `schemas/v201/` into the crate, so a binary needs no files
//! beside it. Writes `$OUT_DIR/v201_schemas.rs`: `(name, text)` pairs, name = file stem.

use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("schemas/v201");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("schemas/v201 exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut out = String::from("/// The official OCPP 2.0.1 schemas: (file stem, JSON text).\npub static V201_SCHEMAS: &[(&str, &str)] = &[\n");
    for name in &names {
        let stem = name.trim_end_matches(".json");
        out.push_str(&format!(
            "    ({stem:?}, include_str!({:?})),\n",
            dir.join(name).display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("v201_schemas.rs");
    fs::write(dest, out).expect("write v201_schemas.rs");
}
