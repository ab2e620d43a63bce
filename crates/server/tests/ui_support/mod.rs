//! What the web UI tests share: a server with its HTTP port on, an HTTP client that does not
//! follow redirects (so each answer can be checked), logging in with a key, and reading the
//! CSRF token out of a page.
#![allow(dead_code)] // each test binary uses its own part

use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use unicharge_core::api_keys::ApiRole;
use unicharge_sim::octt::{states, Target};
use unicharge_sim::{ConnectOptions, Station};

use crate::common::{StationSpec, TestCsms, PASSWORD};

pub struct Ui {
    pub csms: TestCsms,
    /// `http://127.0.0.1:port`
    pub base: String,
    pub admin: String,
    pub http: Client,
}

/// A page as the browser got it.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub body: String,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Answer {
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let location = header(LOCATION);
        let set_cookie = header(SET_COOKIE);
        Answer {
            status: response.status(),
            location,
            set_cookie,
            body: response.text().await.expect("a readable body"),
        }
    }

    /// The CSRF token of the page's forms.
    #[track_caller]
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("the page has a CSRF field") + marker.len();
        let end = start + self.body[start..].find('"').unwrap();
        self.body[start..end].to_string()
    }
}

impl Ui {
    pub async fn start(stations: &[StationSpec]) -> Ui {
        Self::start_with(stations, |_| {}).await
    }

    pub async fn start_with(
        stations: &[StationSpec],
        adjust: impl FnOnce(&mut unicharge_server::Settings),
    ) -> Ui {
        let csms = TestCsms::start_with(stations, |s| {
            s.csms.wss_listen = None;
            s.http.listen = Some("127.0.0.1:0".parse().unwrap());
            adjust(s);
        })
        .await;
        let addr = csms.server.http_addr.expect("the HTTP port is on");
        let admin = csms.server.initial_admin_key.clone().expect("an admin key");
        let http = Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap();
        Ui {
            csms,
            base: format!("http://{addr}"),
            admin,
            http,
        }
    }

    pub async fn key(&self, role: ApiRole) -> String {
        unicharge_api::auth::create_key(self.csms.server.store.as_ref(), "ui test key", role)
            .await
            .unwrap()
            .0
    }

    /// GET with this session cookie (or none).
    pub async fn get(&self, path: &str, session: Option<&str>) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(s) = session {
            request = request.header(COOKIE, s);
        }
        Answer::read(request.send().await.expect("GET answered")).await
    }

    /// POST a form with this session cookie (or none).
    pub async fn post(&self, path: &str, session: Option<&str>, form: &[(&str, &str)]) -> Answer {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(s) = session {
            request = request.header(COOKIE, s);
        }
        Answer::read(request.send().await.expect("POST answered")).await
    }

    /// POST `form` with `confirmed=yes` (the confirmation step's second submit) in the
    /// background, while the test plays the station; resolves to the result page's HTML.
    pub fn confirm_in_background(
        &self,
        path: &str,
        session: &str,
        form: &[(&str, &str)],
    ) -> tokio::task::JoinHandle<String> {
        let mut confirmed: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        confirmed.push(("confirmed".into(), "yes".into()));
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, session)
            .form(&confirmed);
        tokio::spawn(async move {
            let reply = request.send().await.expect("POST answered");
            reply.text().await.expect("a result page")
        })
    }

    /// Log in with `token`; returns the `Cookie` header value of the session.
    pub async fn login(&self, token: &str) -> String {
        let answer = self.post("/ui/login", None, &[("token", token)]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let cookie = answer.set_cookie.expect("a session cookie");
        cookie.split(';').next().unwrap().to_string()
    }

    /// Put a default tariff in place (0.30 EUR/kWh, no VAT, no fee: 4 kWh cost 1.20 EUR).
    pub async fn default_tariff(&self) {
        let api = format!("{}/api/v1", self.base);
        for (path, body) in [
            (
                "/tariffs",
                serde_json::json!({"id": "T-UI", "currency": "EUR", "vatPercent": "0",
                    "pricePerKwh": "0.30", "pricePerChargingMinute": "0",
                    "pricePerIdleMinute": "0", "sessionFee": "0"}),
            ),
            (
                "/tariff-assignments",
                serde_json::json!({"tariffId": "T-UI", "scope": {"scope": "default"}}),
            ),
        ] {
            let reply = self
                .http
                .post(format!("{api}{path}"))
                .bearer_auth(&self.admin)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), StatusCode::CREATED, "{path}");
        }
    }

    /// Connect a simulated station over ws and boot it (connector 1 of EVSE 1 Available).
    pub async fn booted(&self, id: &str) -> Station {
        let mut options =
            ConnectOptions::new(format!("{}/{id}", self.csms.ws_base())).basic(id, PASSWORD);
        options.timeout = Duration::from_secs(5);
        let mut station = Station::connect(&options)
            .await
            .unwrap_or_else(|e| panic!("{id} could not connect: {e}"));
        states::booted(&mut station, &Target::new(id))
            .await
            .unwrap_or_else(|e| panic!("{id} did not boot: {e}"));
        station
    }
}
