//! The service's HTTP API as the CLI calls it: one function per call, each mapping the
//! answer's status to a [`Failure`] with the service's own `detail`.

use std::io::Read;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::config::Target;
use crate::exit::Failure;
use crate::record::Record;

/// A client for one instance; cheap to clone and share between threads.
#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    target: Target,
}

/// The answer to one import call (`POST /api/links/import`).
#[derive(Debug, Deserialize)]
pub struct ImportAnswer {
    pub results: Vec<ImportResult>,
}

/// One item's result, in the order sent.
#[derive(Debug, Deserialize)]
pub struct ImportResult {
    pub outcome: String,
    #[serde(default)]
    pub secret_key: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
}

fn failure(e: ureq::Error, what: &str) -> Failure {
    match e {
        ureq::Error::Status(code, res) => {
            let detail = res
                .into_json::<Value>()
                .ok()
                .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            match code {
                401 => Failure::Auth(format!("{what}: the token was refused (401) {detail}")),
                404 if what.starts_with("operator") => Failure::Auth(format!(
                    "{what}: 404 {detail} (is ADMIN_TOKEN set on the service?)"
                )),
                400..=499 => Failure::Usage(format!("{what}: {code} {detail}")),
                _ => Failure::Service(format!("{what}: {code} {detail}")),
            }
        }
        ureq::Error::Transport(t) => Failure::Service(format!("{what}: {t}")),
    }
}

impl Api {
    pub fn new(target: Target) -> Api {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("shortener-cli/", env!("CARGO_PKG_VERSION")))
            .build();
        Api { agent, target }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.target.url)
    }

    fn operator(&self, method: &str, path: &str) -> Result<ureq::Request, Failure> {
        Ok(self
            .agent
            .request(method, &self.url(path))
            .set("Authorization", &format!("Bearer {}", self.target.token()?)))
    }

    /// One import call: up to 1,000 records, written by the service in one batch.
    pub fn import(
        &self,
        records: &[&Record],
        update: bool,
        dry_run: bool,
        domain: Option<&str>,
    ) -> Result<ImportAnswer, Failure> {
        let body = serde_json::to_vec(records).map_err(|e| Failure::Input(e.to_string()))?;
        let mut call = self
            .operator("POST", "/api/links/import")?
            .query("on_conflict", if update { "update" } else { "skip" })
            .query("dry_run", if dry_run { "true" } else { "false" });
        if let Some(domain) = domain {
            call = call.query("domain", domain);
        }
        let res = call
            .set("Content-Type", "application/json")
            .send_bytes(&body)
            .map_err(|e| failure(e, "operator import"))?;
        let answer: ImportAnswer = res
            .into_json()
            .map_err(|e| Failure::Service(format!("operator import: unreadable answer: {e}")))?;
        if answer.results.len() != records.len() {
            return Err(Failure::Service(format!(
                "operator import: {} results for {} links",
                answer.results.len(),
                records.len()
            )));
        }
        Ok(answer)
    }

    /// The export stream (`GET /api/links/export`), JSON Lines.
    pub fn export(&self) -> Result<Box<dyn Read + Send>, Failure> {
        let res = self
            .operator("GET", "/api/links/export")?
            .call()
            .map_err(|e| failure(e, "operator export"))?;
        Ok(res.into_reader())
    }

    /// A GET answered with JSON: the operator's with the token, an owner's without.
    pub fn get_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
        operator: bool,
    ) -> Result<Value, Failure> {
        let what = if operator {
            "operator request"
        } else {
            "request"
        };
        let mut req = if operator {
            self.operator("GET", path)?
        } else {
            self.agent.get(&self.url(path))
        };
        for (k, v) in query {
            req = req.query(k, v);
        }
        req.call()
            .map_err(|e| failure(e, what))?
            .into_json()
            .map_err(|e| Failure::Service(format!("{what}: unreadable answer: {e}")))
    }

    /// An operator call with an optional JSON body, answered with JSON. `what` names it
    /// in errors; a 404 is the caller's to read (an unknown key id, say), not an
    /// operator API that is off.
    pub fn call_json(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, Failure> {
        let req = self.operator(method, path)?;
        let res = match body {
            Some(body) => req.send_json(body.clone()),
            None => req.call(),
        };
        res.map_err(|e| failure(e, what))?
            .into_json()
            .map_err(|e| Failure::Service(format!("{what}: unreadable answer: {e}")))
    }

    /// `POST /api/links/bulk` with one creation body: the new link with its secret.
    pub fn create(&self, body: &Value) -> Result<Value, Failure> {
        let answer: Value = self
            .operator("POST", "/api/links/bulk")?
            .send_json(Value::Array(vec![body.clone()]))
            .map_err(|e| failure(e, "operator create"))?
            .into_json()
            .map_err(|e| Failure::Service(format!("operator create: unreadable answer: {e}")))?;
        let item = answer.pointer("/results/0").cloned().unwrap_or(Value::Null);
        match item.get("status").and_then(Value::as_u64) {
            Some(201) => Ok(item.get("link").cloned().unwrap_or(Value::Null)),
            status => Err(Failure::Usage(format!(
                "create: {} {}",
                status.unwrap_or_default(),
                item.get("detail")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ))),
        }
    }
}
