//! `unicharge account …` (the core ledger) and `unicharge efc …` (the ISO 17575-1 back end):
//! both talk to the running server's operator API, so the back end sees every change at once.

use anyhow::{bail, Context};
use clap::Subcommand;
use rust_decimal::Decimal;
use serde_json::Value;
use unicharge_api::accounts::{OpenAccountBody, OperationBody};
use unicharge_api::efc::{EfcContractBody, EfcObeBody, QueueUpdateBody};
use unicharge_core::ledger::Operation;
use unicharge_efc_backend::updates::{
    AccountKindName, AccountUpdateSpec, DistanceSpec, DurationSpec, FeeSpec, UpdateKind,
};
use unicharge_store::efc::EfcAccountLink;

use crate::cli::ApiArgs;

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Open a ledger account (balance 0), e.g. `account open fleet-7 --unit money:EUR`.
    Open {
        id: String,
        /// money:<ISO 4217>, time (s), volume (octets), distance (m), events, service:<id>.
        #[arg(long)]
        unit: String,
        /// The balance never goes below it: 0 prepaid, negative for a credit limit.
        #[arg(long, default_value = "0", allow_hyphen_values = true)]
        floor: Decimal,
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show an account with its open reservations.
    Show {
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Add to an account's balance.
    TopUp {
        id: String,
        amount: Decimal,
        #[command(flatten)]
        reference: ReferenceArg,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Take from an account's balance (refused when short, unless --partial).
    Debit {
        id: String,
        amount: Decimal,
        /// Take what is there and record the rest as shortfall.
        #[arg(long)]
        partial: bool,
        #[command(flatten)]
        reference: ReferenceArg,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Move the floor (0 or negative).
    SetFloor {
        id: String,
        #[arg(allow_hyphen_values = true)]
        floor: Decimal,
        #[command(flatten)]
        reference: ReferenceArg,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Release what is left of an open reservation.
    Release {
        id: String,
        reservation: String,
        #[command(flatten)]
        reference: ReferenceArg,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The account's movements, newest first, each with what caused it.
    Movements {
        id: String,
        #[arg(long, default_value = "20")]
        limit: u32,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct ReferenceArg {
    /// What caused the operation, unique per account. Give one to make a retry safe: the same
    /// reference is applied once. Default: `cli:<time>`.
    #[arg(long)]
    pub reference: Option<String>,
}

impl ReferenceArg {
    fn get(&self) -> String {
        self.reference.clone().unwrap_or_else(|| {
            format!(
                "cli:{}",
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
            )
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum EfcCommand {
    /// Register or change an OBE (`<manufacturerId>:<equipmentObuId hex>`), e.g. `efc obe 42:a001`.
    Obe {
        obe_key: String,
        /// HMAC-SHA-256 key for authenticated ADUs, hex (16 to 64 octets).
        #[arg(long)]
        mac_key_hex: Option<String>,
        /// Refuse plain ChargeReports from this OBE.
        #[arg(long)]
        require_auth: bool,
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List OBEs.
    Obes {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Link a contract (`<country>-<provider>-<type hex>-<version>`, as in reports) to ledger
    /// accounts its charge reports debit: `--account fleet-7:2.50` (id[:lowBelow]).
    Contract {
        contract_key: String,
        #[arg(long = "account", required = true)]
        accounts: Vec<String>,
        /// Decimal places of paymentFeeAmount for money accounts.
        #[arg(long, default_value = "2")]
        fee_decimals: u32,
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List contracts.
    Contracts {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Queue an answer for an OBE's next report: a driver status and/or an account update,
    /// e.g. `efc queue 42:a001 --add --credit 500` or `efc queue 42:a001 --reload credit`.
    Queue {
        obe_key: String,
        /// obeStatusForDriver: ok, nok, contact-operator, nok-in-local-context, no-signalling
        /// or a number.
        #[arg(long)]
        status: Option<String>,
        /// setAccount with the limits given.
        #[arg(long, conflicts_with_all = ["add", "reload"])]
        set: bool,
        /// addToAccount with the amounts given.
        #[arg(long, conflicts_with = "reload")]
        add: bool,
        /// reloadAccount for these on-board accounts (credit, distance, time, duration, events).
        #[arg(long, value_delimiter = ',')]
        reload: Vec<String>,
        /// AMOUNT[:PAYUNITHEX] (default unit 03d2).
        #[arg(long)]
        credit: Option<String>,
        /// DIST[:UNIT] (0 km, 2 m, …).
        #[arg(long)]
        distance: Option<String>,
        /// DUR[:UNIT] (0 s, 1 min, 2 h, …).
        #[arg(long)]
        duration: Option<String>,
        #[arg(long, allow_hyphen_values = true)]
        events: Option<i64>,
        /// Keep sending it until the OBE reports accountStatus ok.
        #[arg(long)]
        until_ok: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Updates still queued for an OBE.
    Updates {
        obe_key: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Charge reports received, newest first.
    Reports {
        #[arg(long)]
        obe_key: Option<String>,
        #[arg(long, default_value = "20")]
        limit: u32,
        #[command(flatten)]
        api: ApiArgs,
    },
}

async fn call(
    api: &ApiArgs,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<()> {
    let Some(key) = &api.api_key else {
        bail!("this command talks to the running server: give --api-key or set UNICHARGE_API_KEY (`unicharge api-key create --name cli`)");
    };
    let url = format!("{}{path}", api.api_url.trim_end_matches('/'));
    let mut request = reqwest::Client::new()
        .request(method, &url)
        .bearer_auth(key);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.with_context(|| {
        format!("cannot reach the server at {url} (is `unicharge serve` running? set --api-url)")
    })?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let pretty = serde_json::from_str::<Value>(&text)
        .map(|v| serde_json::to_string_pretty(&v).unwrap_or(text.clone()))
        .unwrap_or(text);
    if status.is_success() {
        println!("{pretty}");
        Ok(())
    } else {
        bail!("HTTP {status}: {pretty}")
    }
}

async fn operate(
    api: &ApiArgs,
    id: &str,
    reference: &ReferenceArg,
    operation: Operation,
) -> anyhow::Result<()> {
    let body = OperationBody {
        reference: reference.get(),
        operation,
    };
    call(
        api,
        reqwest::Method::POST,
        &format!("/api/v1/accounts/{id}/operations"),
        Some(serde_json::to_value(body)?),
    )
    .await
}

pub async fn account(command: &AccountCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    match command {
        AccountCommand::Open {
            id,
            unit,
            floor,
            label,
            api,
        } => {
            let body = OpenAccountBody {
                id: id.clone(),
                unit: unit.clone(),
                floor: *floor,
                label: label.clone(),
            };
            call(
                api,
                Method::POST,
                "/api/v1/accounts",
                Some(serde_json::to_value(body)?),
            )
            .await
        }
        AccountCommand::List { api } => call(api, Method::GET, "/api/v1/accounts", None).await,
        AccountCommand::Show { id, api } => {
            call(api, Method::GET, &format!("/api/v1/accounts/{id}"), None).await
        }
        AccountCommand::TopUp {
            id,
            amount,
            reference,
            api,
        } => operate(api, id, reference, Operation::TopUp { amount: *amount }).await,
        AccountCommand::Debit {
            id,
            amount,
            partial,
            reference,
            api,
        } => {
            let op = Operation::Debit {
                amount: *amount,
                partial: *partial,
            };
            operate(api, id, reference, op).await
        }
        AccountCommand::SetFloor {
            id,
            floor,
            reference,
            api,
        } => operate(api, id, reference, Operation::SetFloor { floor: *floor }).await,
        AccountCommand::Release {
            id,
            reservation,
            reference,
            api,
        } => {
            let op = Operation::Release {
                reservation: reservation.clone(),
            };
            operate(api, id, reference, op).await
        }
        AccountCommand::Movements { id, limit, api } => {
            let path = format!("/api/v1/accounts/{id}/movements?limit={limit}");
            call(api, Method::GET, &path, None).await
        }
    }
}

/// `A[:B]` → (A, B).
fn pair<A: std::str::FromStr, B: std::str::FromStr>(
    spec: &str,
    what: &str,
) -> anyhow::Result<(A, Option<B>)> {
    let (a, b) = match spec.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (spec, None),
    };
    let a = a
        .parse()
        .map_err(|_| anyhow::anyhow!("{what} {spec:?}: the number is not valid"))?;
    let b = b
        .map(|b| b.parse())
        .transpose()
        .map_err(|_| anyhow::anyhow!("{what} {spec:?}: the part after ':' is not valid"))?;
    Ok((a, b))
}

fn driver_status(s: &str) -> anyhow::Result<u8> {
    Ok(match s {
        "ok" => 0,
        "nok" => 1,
        "contact-operator" => 2,
        "nok-in-local-context" => 3,
        "no-signalling" => 255,
        n => n.parse().map_err(|_| {
            anyhow::anyhow!("--status {n:?}: ok, nok, contact-operator, nok-in-local-context, no-signalling or 0..255")
        })?,
    })
}

fn kind_name(s: &str) -> anyhow::Result<AccountKindName> {
    Ok(match s {
        "credit" => AccountKindName::Credit,
        "distance" => AccountKindName::Distance,
        "time" => AccountKindName::Time,
        "duration" => AccountKindName::Duration,
        "events" => AccountKindName::Events,
        other => bail!("--reload {other:?}: credit, distance, time, duration or events"),
    })
}

pub async fn efc(command: &EfcCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    match command {
        EfcCommand::Obe {
            obe_key,
            mac_key_hex,
            require_auth,
            label,
            api,
        } => {
            let body = EfcObeBody {
                mac_key_hex: mac_key_hex.clone(),
                require_auth: *require_auth,
                label: label.clone(),
            };
            let path = format!("/api/v1/efc/obes/{obe_key}");
            call(api, Method::PUT, &path, Some(serde_json::to_value(body)?)).await
        }
        EfcCommand::Obes { api } => call(api, Method::GET, "/api/v1/efc/obes", None).await,
        EfcCommand::Contract {
            contract_key,
            accounts,
            fee_decimals,
            label,
            api,
        } => {
            let mut links = Vec::new();
            for a in accounts {
                let (account, low) = match a.split_once(':') {
                    Some((id, low)) => (id, Some(low)),
                    None => (a.as_str(), None),
                };
                let low_below = low
                    .map(str::parse::<Decimal>)
                    .transpose()
                    .map_err(|_| anyhow::anyhow!("--account {a:?}: write id or id:lowBelow"))?
                    .unwrap_or_default();
                let mut link = EfcAccountLink::new(account);
                link.low_below = low_below;
                link.fee_decimals = *fee_decimals;
                links.push(link);
            }
            let body = EfcContractBody {
                accounts: links,
                label: label.clone(),
            };
            let path = format!("/api/v1/efc/contracts/{contract_key}");
            call(api, Method::PUT, &path, Some(serde_json::to_value(body)?)).await
        }
        EfcCommand::Contracts { api } => {
            call(api, Method::GET, "/api/v1/efc/contracts", None).await
        }
        EfcCommand::Queue {
            obe_key,
            status,
            set,
            add,
            reload,
            credit,
            distance,
            duration,
            events,
            until_ok,
            api,
        } => {
            let kind = if *set {
                Some(UpdateKind::SetAccount)
            } else if *add {
                Some(UpdateKind::AddToAccount)
            } else if !reload.is_empty() {
                Some(UpdateKind::ReloadAccount)
            } else {
                None
            };
            let account_update = match kind {
                None => {
                    if credit.is_some()
                        || distance.is_some()
                        || duration.is_some()
                        || events.is_some()
                    {
                        bail!("amounts need --set or --add");
                    }
                    None
                }
                Some(kind) => Some(AccountUpdateSpec {
                    kind,
                    credit: credit
                        .as_deref()
                        .map(|c| {
                            pair::<u16, String>(c, "--credit").map(|(amount, unit)| FeeSpec {
                                amount,
                                unit_hex: unit.unwrap_or_else(|| "03d2".into()),
                            })
                        })
                        .transpose()?,
                    distance: distance
                        .as_deref()
                        .map(|d| {
                            pair::<u32, u8>(d, "--distance").map(|(dist, unit)| DistanceSpec {
                                dist,
                                unit: unit.unwrap_or(0),
                            })
                        })
                        .transpose()?,
                    time: None,
                    duration: duration
                        .as_deref()
                        .map(|d| {
                            pair::<u32, u8>(d, "--duration").map(|(dur, unit)| DurationSpec {
                                dur,
                                unit: unit.unwrap_or(0),
                            })
                        })
                        .transpose()?,
                    events: *events,
                    reload: reload
                        .iter()
                        .map(|r| kind_name(r))
                        .collect::<anyhow::Result<_>>()?,
                }),
            };
            let body = QueueUpdateBody {
                obe_status_for_driver: status.as_deref().map(driver_status).transpose()?,
                account_update,
                until_account_ok: *until_ok,
            };
            let path = format!("/api/v1/efc/obes/{obe_key}/updates");
            call(api, Method::POST, &path, Some(serde_json::to_value(body)?)).await
        }
        EfcCommand::Updates { obe_key, api } => {
            let path = format!("/api/v1/efc/obes/{obe_key}/updates");
            call(api, Method::GET, &path, None).await
        }
        EfcCommand::Reports {
            obe_key,
            limit,
            api,
        } => {
            let mut path = format!("/api/v1/efc/reports?limit={limit}");
            if let Some(k) = obe_key {
                path.push_str(&format!("&obeKey={k}"));
            }
            call(api, Method::GET, &path, None).await
        }
    }
}
