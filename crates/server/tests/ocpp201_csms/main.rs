//! OCPP 2.0.1 CSMS conformance: one test per OCTT test case of Part 6 (draft 2023-05; TC_C_47
//! from the FINAL edition), named after the case id.
//!
//! Each test starts a real unicharge server on loopback ports, provisions it as an operator
//! would, and lets the simulator (`unicharge-sim`'s library) play the case over real sockets as
//! the OCTT plays the charging station. After the scenario, the test also checks what the CSMS
//! must have kept (boot data, statuses, events) through its store.
//!
//! Cases that start with an operator action ("Manual Action: request the CSMS to …") get a
//! [`rest_operator::RestOperator`], which does it through the operator REST API; what the CSMS
//! kept (device model, assembled reports, rotated password, issued certificate, raised security
//! profile) is then read back through the API or the store.
//!
//! `cargo xtask conformance-report` runs this target and writes docs/conformance/ocpp201-csms.md.

#[path = "../common/mod.rs"]
mod common;

mod a_security;
mod b_provisioning;
mod c07_plug_and_charge;
mod c_authorization;
mod d_local_list;
mod e_transactions;
mod f_remote_control;
mod g_availability;
mod h_reservation;
mod i_tariff_cost;
mod j_meter_values;
mod k_smart_charging;
mod l_firmware;
mod m_certificates;
mod m_iso15118_pki;
mod n_diagnostics;
mod o_display_messages;
mod p_data_transfer;
mod rest_operator;
