//! The list of OCTT CSMS test cases (OCPP 2.0.1), carried in the crate as `cases.tsv`.
//!
//! The data is a copy of the seed catalog (`ocpp201-csms-testcases.tsv`) reduced to what the
//! simulator and the conformance report need, so a clean clone does not depend on anything
//! outside the repository. Ids are the corrected ones; `seed_id` keeps the id as printed in the
//! test-case document (only `TC_I_02_CSMS`, printed `TC_L02_CSMS` in the draft, differs).
//!
//! Each case is exercised by one Rust test named [`test_name`] of its id (`tc_a_01_csms`), which
//! is how the conformance report links test results back to this list.

use std::sync::OnceLock;

/// The TSV text: header line, then one line per case, columns separated by tabs.
const CASES_TSV: &str = include_str!("cases.tsv");

/// Expected header; the parser relies on this column order.
const HEADER: &str = "id\tseed_id\tblock\tname\ttrigger\tsecurity_profile_needed";

/// One OCTT CSMS test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseInfo {
    /// Corrected id, e.g. `TC_A_01_CSMS`.
    pub id: &'static str,
    /// Id as printed in the seed document (differs from `id` only for `TC_I_02_CSMS`).
    pub seed_id: &'static str,
    /// Functional block letter, `A`..`P` (there is no `H` case).
    pub block: &'static str,
    /// Title of the case.
    pub name: &'static str,
    /// Who starts the scenario: `station`, `operator`, `operator-implicit`, or a `+` mix.
    pub trigger: &'static str,
    /// Security profile(s) the case needs, e.g. `any`, `1 or 2`, `3`.
    pub security_profile: &'static str,
}

/// All cases in catalog order. Parsed once from the embedded TSV; the strings borrow from it.
pub fn all() -> &'static [CaseInfo] {
    static CASES: OnceLock<Vec<CaseInfo>> = OnceLock::new();
    CASES.get_or_init(|| parse(CASES_TSV))
}

/// The case with this id, ignoring ASCII case (`tc_a_01_csms` finds `TC_A_01_CSMS`).
pub fn find(id: &str) -> Option<&'static CaseInfo> {
    all().iter().find(|c| c.id.eq_ignore_ascii_case(id))
}

/// Name of the Rust test implementing a case: the id in lower case (`TC_A_01_CSMS` → `tc_a_01_csms`).
pub fn test_name(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// Parses the TSV. Panics on malformed data: the file is part of the crate, so a bad line is a
/// programming error caught by the unit tests, not a runtime condition.
fn parse(text: &'static str) -> Vec<CaseInfo> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER), "cases.tsv: unexpected header");
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let f: Vec<&'static str> = line.split('\t').collect();
            assert_eq!(f.len(), 6, "cases.tsv: expected 6 columns in {line:?}");
            CaseInfo {
                id: f[0],
                seed_id: f[1],
                block: f[2],
                name: f[3],
                trigger: f[4],
                security_profile: f[5],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn has_all_197_cases_with_unique_ids() {
        assert_eq!(all().len(), 197);
        let ids: HashSet<&str> = all().iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), 197, "duplicate ids");
        for c in all() {
            assert!(
                c.id.starts_with(&format!("TC_{}_", c.block)) && c.id.ends_with("_CSMS"),
                "id {} does not match block {}",
                c.id,
                c.block
            );
            assert!(!c.name.is_empty() && !c.trigger.is_empty() && !c.security_profile.is_empty());
        }
    }

    #[test]
    fn i_02_is_corrected_and_keeps_its_printed_id() {
        let c = find("TC_I_02_CSMS").expect("TC_I_02_CSMS present");
        assert_eq!(c.seed_id, "TC_L02_CSMS");
        assert_eq!(c.block, "I");
        assert!(find("TC_L02_CSMS").is_none());
        // Every other case is printed with its own id.
        assert_eq!(all().iter().filter(|c| c.id != c.seed_id).count(), 1);
    }

    #[test]
    fn every_block_but_h_is_present() {
        let blocks: HashSet<&str> = all().iter().map(|c| c.block).collect();
        let expected: HashSet<&str> = [
            "A", "B", "C", "D", "E", "F", "G", "I", "J", "K", "L", "M", "N", "O", "P",
        ]
        .into();
        assert_eq!(blocks, expected);
    }

    #[test]
    fn find_is_case_insensitive_and_test_name_is_lower_case() {
        assert_eq!(find("tc_a_01_csms").map(|c| c.id), Some("TC_A_01_CSMS"));
        assert!(find("TC_Z_99_CSMS").is_none());
        assert_eq!(test_name("TC_A_01_CSMS"), "tc_a_01_csms");
        assert_eq!(
            find(&test_name("TC_I_02_CSMS")).map(|c| c.id),
            Some("TC_I_02_CSMS")
        );
    }
}
