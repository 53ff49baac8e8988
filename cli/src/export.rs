//! Exports, streamed line by line in constant memory: links as JSON Lines (the
//! service's own lines, every field it shows, never a secret) or CSV, and statistics
//! per link per day as CSV.

use std::io::{BufRead, BufReader, Write};

use serde_json::Value;

use crate::api::Api;
use crate::exit::Failure;

/// The CSV columns of a link, in the order written: every field the service shows,
/// except the short URLs, which the key and the instance's address make.
pub const LINK_COLUMNS: [&str; 13] = [
    "key",
    "target_url",
    "is_active",
    "state",
    "clicks",
    "imported_clicks",
    "created_at",
    "expires_at",
    "max_clicks",
    "redirect_status",
    "forward_query",
    "title",
    "tags",
];

fn out_err(e: impl std::fmt::Display) -> Failure {
    Failure::Usage(format!("cannot write the output: {e}"))
}

/// One CSV cell of a JSON value: text as it is, arrays joined with `,`, null empty.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// Every link, passed to `each` one at a time; fails when the stream ends without the
/// service's completion line (a broken export is never taken for a whole one).
pub fn each_link(
    api: &Api,
    mut each: impl FnMut(&str, &Value) -> Result<(), Failure>,
) -> Result<u64, Failure> {
    let reader = BufReader::new(api.export()?);
    let mut links = 0;
    for line in reader.lines() {
        let line = line
            .map_err(|e| Failure::Service(format!("export broke off after {links} links: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line).map_err(|e| {
            Failure::Service(format!("export: unreadable line after {links} links: {e}"))
        })?;
        if value.get("export").and_then(Value::as_str) == Some("complete") {
            return Ok(links);
        }
        if value.get("error").is_some() {
            eprintln!("export: the service skipped an unreadable link: {line}");
            continue;
        }
        each(&line, &value)?;
        links += 1;
    }
    Err(Failure::Service(format!(
        "export broke off after {links} links (no completion line); run it again"
    )))
}

/// `export links`: JSON Lines or CSV to `out`.
pub fn links(api: &Api, csv: bool, out: &mut dyn Write) -> Result<u64, Failure> {
    if csv {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(LINK_COLUMNS).map_err(out_err)?;
        each_link(api, |_, link| {
            w.write_record(LINK_COLUMNS.iter().map(|c| cell(link.get(*c))))
                .map_err(out_err)
        })
        .and_then(|n| w.flush().map(|()| n).map_err(out_err))
    } else {
        each_link(api, |line, _| writeln!(out, "{line}").map_err(out_err))
    }
}

/// The `by_day` rows of one stats answer as `key,date,clicks` CSV records.
fn write_days(
    w: &mut csv::Writer<&mut dyn Write>,
    key: &str,
    stats: &Value,
) -> Result<(), Failure> {
    let days = stats
        .get("by_day")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for day in days {
        w.write_record([key, &cell(day.get("date")), &cell(day.get("clicks"))])
            .map_err(out_err)?;
    }
    Ok(())
}

/// `export stats`: clicks per link per day for the last `days` days, as CSV: of every
/// link (operator), or of the one link a secret names (owner).
pub fn stats(
    api: &Api,
    days: u32,
    secret: Option<&str>,
    out: &mut dyn Write,
) -> Result<u64, Failure> {
    let days = days.to_string();
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["key", "date", "clicks"]).map_err(out_err)?;
    let n = match secret {
        Some(secret) => {
            let path = format!("/admin/{secret}/stats");
            let stats = api.get_json(&path, &[("days", &days)], false)?;
            let key = secret.rsplit_once('_').map_or(secret, |(k, _)| k);
            write_days(&mut w, key, &stats)?;
            1
        }
        None => {
            // Statistics come per link from its own call, made while the export streams
            // on: memory holds one link and one window however many links there are.
            each_link(api, |_, link| {
                let key = cell(link.get("key"));
                let stats =
                    api.get_json(&format!("/api/links/{key}/stats"), &[("days", &days)], true)?;
                write_days(&mut w, &key, &stats)
            })?
        }
    };
    w.flush().map_err(out_err)?;
    Ok(n)
}
