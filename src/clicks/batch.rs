//! The click-batch wire format, defined once: a batch is JSON text,
//! `{"visits":[<VisitRecord>, ...]}`. It is the body of one queue message (content type
//! `text`) and the JSON parameter the D1 write reads with `json_each`. Text is one
//! string across the JS boundary, where an object is built field by field, and neither
//! the sender nor the consumer parses it: D1 does, once.

use serde::{Deserialize, Serialize};

use crate::domain::visit::{PendingVisit, Visit};

/// One visit ready to be written. `id` makes a redelivered batch harmless. Field names
/// are short because every visit travels through the queue and a JSON parameter of the
/// batch write; [`RECORD_COLUMNS`] reads the same names in SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRecord {
    pub id: String,
    pub key: String,
    pub at: i64,
    #[serde(rename = "ref")]
    pub referrer_host: Option<String>,
    #[serde(rename = "cc")]
    pub country: Option<String>,
    #[serde(rename = "dev")]
    pub device: String,
    pub bot: u8,
}

/// The columns of a [`VisitRecord`] read from a `json_each` row `v`, in the order
/// `id, key, at, referrer_host, country, device, is_bot`: the SQL spelling of the
/// serde names above, kept next to them.
pub const RECORD_COLUMNS: &str = "v.value ->> 'id', v.value ->> 'key', v.value ->> 'at', \
     v.value ->> 'ref', v.value ->> 'cc', v.value ->> 'dev', v.value ->> 'bot'";

/// The path of the visits array inside one batch, for `json_each(batch, VISITS_PATH)`.
pub const VISITS_PATH: &str = "$.visits";

impl VisitRecord {
    /// Classifies a visit the redirect saw and gives it its id.
    pub fn new(pending: PendingVisit, id: String) -> VisitRecord {
        let visit = Visit::new(
            pending.user_agent.as_deref(),
            pending.referer.as_deref(),
            pending.country,
        );
        VisitRecord {
            id,
            key: pending.key,
            at: pending.at,
            bot: u8::from(visit.is_bot()),
            device: visit.device.as_str().to_string(),
            referrer_host: visit.referrer_host,
            country: visit.country,
        }
    }
}

/// Queue messages stay below this many bytes of JSON (the limit is 128 KB).
pub const MAX_MESSAGE_BYTES: usize = 100_000;

const START: &str = "{\"visits\":[";
const END: &str = "]}";

/// The click batches (JSON text) holding `records` in order, each under `limit` bytes
/// (a single record over the limit still gets a batch of its own).
pub fn batches_under(records: &[VisitRecord], limit: usize) -> Result<Vec<String>, String> {
    let mut batches = Vec::new();
    let mut current = String::from(START);
    for record in records {
        let json = serde_json::to_string(record).map_err(|e| format!("visit: {e}"))?;
        let empty = current.len() == START.len();
        if !empty && current.len() + 1 + json.len() + END.len() > limit {
            current.push_str(END);
            batches.push(std::mem::replace(&mut current, String::from(START)));
        } else if !empty {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > START.len() {
        current.push_str(END);
        batches.push(current);
    }
    Ok(batches)
}

/// Many batches as the one JSON parameter of a D1 write: an array of batches.
pub fn joined(batches: &[String]) -> String {
    format!("[{}]", batches.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize) -> VisitRecord {
        VisitRecord {
            id: format!("visit-{i:08}"),
            key: "abcdefgh".into(),
            at: 1_795_290_489_000,
            referrer_host: Some("news.example.org".into()),
            country: Some("DE".into()),
            device: "desktop".into(),
            bot: 0,
        }
    }

    fn parsed(batches: &[String]) -> Vec<VisitRecord> {
        #[derive(serde::Deserialize)]
        struct ClickBatch {
            visits: Vec<VisitRecord>,
        }
        batches
            .iter()
            .flat_map(|m| serde_json::from_str::<ClickBatch>(m).unwrap().visits)
            .collect()
    }

    #[test]
    fn a_pending_visit_is_classified_when_it_becomes_a_record() {
        let pending = PendingVisit {
            key: "abc".into(),
            at: 5,
            user_agent: Some("curl/8.5.0".into()),
            referer: Some("https://news.example/story?id=1".into()),
            country: Some("DE".into()),
        };
        let record = VisitRecord::new(pending, "v1".into());
        assert_eq!(record.device, "bot");
        assert_eq!(record.bot, 1);
        assert_eq!(record.referrer_host.as_deref(), Some("news.example"));
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"id":"v1","key":"abc","at":5,"ref":"news.example","cc":"DE","dev":"bot","bot":1}"#
        );
    }

    #[test]
    fn records_of_odd_headers_survive_the_wire_format_unchanged() {
        let long = "İ".repeat(300);
        let odd = [
            "",
            "\u{0}\u{7f}",
            "https://NEWS.example/x",
            long.as_str(),
            "de",
            "Mozilla/5.0 (iPhone) Mobile",
        ];
        for ua in odd {
            for referer in odd {
                for country in odd {
                    let pending = PendingVisit {
                        key: "abc".into(),
                        at: 1,
                        user_agent: Some(ua.into()),
                        referer: Some(referer.into()),
                        country: Some(country.into()),
                    };
                    let r = VisitRecord::new(pending, "v1".into());
                    assert_eq!(r.bot, u8::from(r.device == "bot"), "{r:?}");
                    let json = serde_json::to_string(&r).unwrap();
                    assert_eq!(serde_json::from_str::<VisitRecord>(&json).unwrap(), r);
                }
            }
        }
    }

    #[test]
    fn the_sql_columns_name_every_serialized_field_in_order() {
        let json = serde_json::to_value(record(1)).unwrap();
        let names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let in_sql: Vec<&str> = RECORD_COLUMNS
            .split(',')
            .map(|c| {
                c.trim()
                    .trim_start_matches("v.value ->> '")
                    .trim_end_matches('\'')
            })
            .collect();
        let mut sorted_names = names.clone();
        sorted_names.sort_unstable();
        let mut sorted_sql = in_sql.clone();
        sorted_sql.sort_unstable();
        assert_eq!(sorted_sql, sorted_names);
        assert_eq!(in_sql, ["id", "key", "at", "ref", "cc", "dev", "bot"]);
    }

    #[test]
    fn a_busy_window_is_split_into_batches_under_the_limit_in_order() {
        let records: Vec<VisitRecord> = (0..3000).map(record).collect();
        let batches = batches_under(&records, MAX_MESSAGE_BYTES).unwrap();
        assert!(batches.len() > 1);
        for batch in &batches {
            assert!(batch.len() < MAX_MESSAGE_BYTES, "{} bytes", batch.len());
        }
        assert_eq!(parsed(&batches), records);
    }

    #[test]
    fn a_quiet_window_is_one_batch_and_an_empty_one_none() {
        let records: Vec<VisitRecord> = (0..3).map(record).collect();
        let batches = batches_under(&records, MAX_MESSAGE_BYTES).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(parsed(&batches), records);
        assert!(batches_under(&[], MAX_MESSAGE_BYTES).unwrap().is_empty());
    }

    #[test]
    fn a_record_over_the_limit_gets_a_batch_of_its_own() {
        let records: Vec<VisitRecord> = (0..3).map(record).collect();
        let batches = batches_under(&records, 10).unwrap();
        assert_eq!(batches.len(), 3);
        assert_eq!(parsed(&batches), records);
    }
}
