//! One simulated OBE front end: builds charge reports per ISO 17575-1 (what the CR test
//! purposes require of a front end), sends them, and checks and applies the answers.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rasn::types::OctetString;
use unicharge_efc::adu::Adu;
use unicharge_efc::auth::{self, KeyRef};
use unicharge_efc::dsrc::{AlphabetIndicator, ContextVersion, CountryCode, Lpn};
use unicharge_efc::{
    AggregatedFee, AggregatedSingleTariffClassSession, ChargeReport, ChargeReportResponse,
    DataReceived, Distance, EfcContextMark, ObeId, PaymentFee, Period, Provider,
    TariffClassDescription, UsageStatement, UsageStatementEntry,
};

use super::account::OnBoardAccount;
use super::client::Client;

/// What was wrong with an answer.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("back end answered with an error frame: {0}")]
    ErrorFrame(String),
    #[error("answer is not a ChargeReportResponse: {0}")]
    Malformed(String),
    #[error("dataReceived {got:?} does not echo the report ({expected:?})")]
    Echo {
        expected: Option<DataReceived>,
        got: Option<DataReceived>,
    },
}

/// A simulated front end (one OBE, one contract).
#[derive(Debug, Clone)]
pub struct FrontEnd {
    pub obe_id: ObeId,
    pub contract: EfcContextMark,
    /// The next chargeReportCounter to send.
    pub counter: u32,
    /// Current mileage (dist) and its unit.
    pub mileage: u32,
    pub dis_unit: u8,
    /// Distance driven between two reports.
    pub step: u32,
    pub account: Option<OnBoardAccount>,
    /// Send `AuthenticatedChargeReport` with this key.
    pub mac: Option<(Vec<u8>, KeyRef)>,
    /// Put the licence plate at report level (never also inside the usage statements).
    pub lpn: Option<Lpn>,
    pub tariff: TariffClassDescription,
    /// Next usageStatementId.
    next_statement: u16,
    pub last_sent: Option<ChargeReport>,
}

impl FrontEnd {
    /// OBE `manufacturer:serial` on contract `provider`.
    pub fn new(manufacturer: u16, serial: &[u8], provider: u16) -> Self {
        let contract = EfcContextMark {
            contract_provider: Provider {
                country_code: CountryCode::from_u16(276),
                provider_identifier: provider,
            },
            type_of_contract: OctetString::from_static(&[0, 1]),
            context_version: ContextVersion::new(1),
        };
        FrontEnd {
            obe_id: ObeId {
                manufacturer_id: manufacturer,
                equipment_obu_id: OctetString::from(serial.to_vec()),
            },
            contract,
            counter: 0,
            mileage: 1000,
            dis_unit: 0,
            step: 12,
            account: None,
            mac: None,
            lpn: Some(Lpn {
                country_code: CountryCode::from_u16(276),
                alphabet_indicator: AlphabetIndicator::LatinAlphabetNo1,
                licence_plate_number: OctetString::from(format!("SIM {serial:?}").into_bytes()),
            }),
            tariff: TariffClassDescription {
                tariff_class_id: Some(1),
                local_vehicle_class: None,
                time_class: Some(1),
                location_class: Some(1),
                user_class: Some(1),
            },
            next_statement: 1,
            last_sent: None,
        }
    }

    /// The OBE key the back end files this front end under.
    pub fn obe_key(&self) -> String {
        format!(
            "{}:{}",
            self.obe_id.manufacturer_id,
            hex_lower(&self.obe_id.equipment_obu_id)
        )
    }

    /// The next report at `now`: counter +1 (wrapping), mileage advanced by `step` (wrapping),
    /// one usage statement covering the last 15 minutes with a unique id.
    pub fn next_report(&mut self, now: DateTime<Utc>) -> ChargeReport {
        let now = Utc.timestamp_opt(now.timestamp(), 0).unwrap();
        let begin = now - Duration::minutes(15);
        let mut us = UsageStatement::default();
        us.usage_statement_id = Some(self.next_statement);
        self.next_statement = self.next_statement.wrapping_add(1);
        us.aggregated_fee = Some(AggregatedFee {
            time_period_covered: Period {
                begin_of_period: begin.fixed_offset(),
                end_of_period: now.fixed_offset(),
            },
            fee_excl_vat: PaymentFee {
                payment_fee_amount: 125,
                payment_fee_unit: OctetString::from_static(&[0x03, 0xd2]),
            },
            sum_vat: None,
        });
        let mut session = AggregatedSingleTariffClassSession::default();
        session.time_period_covered = Some(Period {
            begin_of_period: begin.fixed_offset(),
            end_of_period: now.fixed_offset(),
        });
        session.current_tariff_class = Some(self.tariff.clone());
        session.total_distance_covered = Some(Distance {
            dist: self.step,
            dis_unit: self.dis_unit,
        });
        us.aggregated_single_tariff_class_session = Some(session);

        let mut r = ChargeReport::new(self.contract.clone());
        r.obe_id = Some(self.obe_id.clone());
        r.vehicle_lp_nr = self.lpn.clone();
        r.time_of_report = Some(now.fixed_offset());
        r.report_period = Some(Period {
            begin_of_period: begin.fixed_offset(),
            end_of_period: now.fixed_offset(),
        });
        r.usage_statement_list = vec![UsageStatementEntry::UsageStatement(us)];
        r.account_status = self.account.as_ref().map(|a| a.status(now));
        r.charge_report_counter = Some(self.counter);
        r.mileage = Some(Distance {
            dist: self.mileage,
            dis_unit: self.dis_unit,
        });
        self.counter = self.counter.wrapping_add(1);
        self.mileage = self.mileage.wrapping_add(self.step);
        r
    }

    /// The frame for `report` (authenticated when a MAC key is set).
    pub fn frame(&self, report: &ChargeReport) -> Vec<u8> {
        let adu = match &self.mac {
            None => Adu::ChargeReport(report.clone()),
            Some((key, key_ref)) => Adu::AuthenticatedChargeReport(
                auth::authenticate_charge_report(report, key, key_ref).expect("encodable report"),
            ),
        };
        adu.to_frame().expect("encodable report")
    }

    /// Check an answer to `sent` and apply its accountUpdate.
    pub fn accept(
        &mut self,
        sent: &ChargeReport,
        answer: &[u8],
    ) -> Result<ChargeReportResponse, ResponseError> {
        let crr = match Adu::from_frame(answer)
            .map_err(|e| ResponseError::Malformed(e.to_string()))?
        {
            Adu::ChargeReportResponse(r) => r,
            Adu::AuthenticatedChargeReportResponse(w) => {
                let (key, _) = self.mac.as_ref().ok_or_else(|| {
                    ResponseError::Malformed("unexpected authenticated answer".into())
                })?;
                auth::open_response(&w, key).map_err(|e| ResponseError::Malformed(e.to_string()))?
            }
            Adu::Error(text) => return Err(ResponseError::ErrorFrame(text)),
            other => return Err(ResponseError::Malformed(format!("{other:?}"))),
        };
        let expected = if let Some(c) = sent.charge_report_counter {
            Some(DataReceived::ChargeReportCounter(c))
        } else if let Some(m) = &sent.mileage {
            Some(DataReceived::Mileage(m.clone()))
        } else {
            sent.time_of_report.map(DataReceived::TimeOfReport)
        };
        if crr.data_received != expected {
            return Err(ResponseError::Echo {
                expected,
                got: crr.data_received.clone(),
            });
        }
        if let (Some(account), Some(update)) = (self.account.as_mut(), &crr.account_update) {
            account.apply(update);
        }
        Ok(crr)
    }

    /// Build, send and check one report.
    pub async fn report(
        &mut self,
        client: &mut Client,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(ChargeReport, ChargeReportResponse)> {
        let report = self.next_report(now);
        let answer = client.exchange(&self.frame(&report)).await?;
        let crr = self.accept(&report, &answer)?;
        self.last_sent = Some(report.clone());
        Ok((report, crr))
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
