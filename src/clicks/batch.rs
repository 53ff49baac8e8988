//! The click-batch wire format, defined once: a batch is JSON text,
//! `{"batch":"<id>","shard":<n>,"visits":[<VisitRecord>, ...]}`. It is the body of one
//! queue message (content type `text`) and the JSON parameter the D1 writes read with
//! `json_each`. Text is one string across the JS boundary, where an object is built
//! field by field, and neither the sender nor the consumer parses it: D1 does, once.
//!
//! `batch` names the batch for idempotency (a redelivered batch is applied once); it
//! starts with the sending time in 12 hex digits, so guards older than the queue's
//! retention can be pruned by a range of the primary key. `shard` is the analytics
//! shard of every key in the batch (see `domain::shard`), read from the prefix without
//! parsing the rest.

use serde::{Deserialize, Serialize};

use crate::domain::secret::sha256_hex;
use crate::domain::shard::shard_of;
use crate::domain::visit::{PendingVisit, Visit, SOURCE_QR};
use crate::domain::visitors::{visitor_entry, DayKey};

/// One visit ready to be written. Field names are short because every visit travels
/// through the queue and a JSON parameter of the batch write; [`RECORD_COLUMNS`]
/// reads the same names in SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRecord {
    pub key: String,
    pub at: i64,
    #[serde(rename = "ref")]
    pub referrer_host: Option<String>,
    #[serde(rename = "cc")]
    pub country: Option<String>,
    #[serde(rename = "dev")]
    pub device: String,
    pub bot: u8,
    /// 1 when the link's counters already hold this click (see `PendingVisit`).
    #[serde(rename = "cnt", default, skip_serializing_if = "is_zero")]
    pub counted: u8,
    /// The targeting rule or split variant that served the click (`rule-1`,
    /// `variant-2`, `default`), for links that have them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Why a bot came (`BotReason::as_str`); link previews and mail scanners are
    /// counted apart from clicks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// How the click came, when not through the plain short URL (`qr`): absent for
    /// most clicks, so they cost no bytes on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// The link's UTM campaign, for links that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmp: Option<String>,
    /// The visitor's sketch register (`domain::visitors::Register::packed`) for a human
    /// click: never the address or the hash, only what the day's sketch keeps.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<u64>,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// The columns of a [`VisitRecord`] read from a `json_each` row `v`, in the order
/// `key, at, referrer_host, country, device, is_bot, counted, via, why, source, campaign,
/// visitor`:
/// the SQL spelling of the serde names above, kept next to them.
pub const RECORD_COLUMNS: &str = "v.value ->> 'key', v.value ->> 'at', v.value ->> 'ref', \
     v.value ->> 'cc', v.value ->> 'dev', v.value ->> 'bot', v.value ->> 'cnt', v.value ->> 'via', \
     v.value ->> 'why', v.value ->> 'src', v.value ->> 'cmp', v.value ->> 'u'";

/// The id of a batch, for `json_each(batch)` rows `m`.
pub const BATCH_ID: &str = "m.value ->> 'batch'";

/// The path of the visits array inside one batch, for `json_each(batch, VISITS_PATH)`.
pub const VISITS_PATH: &str = "$.visits";

impl VisitRecord {
    /// Classifies a visit the redirect saw. With the day's key, a human visit also
    /// gets its sketch entry; the address is dropped here either way.
    pub fn new(pending: PendingVisit, day_key: Option<&DayKey>) -> VisitRecord {
        let visit = Visit::new(
            pending.user_agent.as_deref(),
            pending.referer.as_deref(),
            pending.country,
        );
        let visitor = day_key.filter(|_| !visit.is_bot()).map(|key| {
            visitor_entry(
                key,
                pending.address.as_deref().unwrap_or_default(),
                pending.user_agent.as_deref().unwrap_or_default(),
                &pending.key,
            )
            .packed()
        });
        VisitRecord {
            key: pending.key,
            at: pending.at,
            bot: u8::from(visit.is_bot()),
            device: visit.device.as_str().to_string(),
            referrer_host: visit.referrer_host,
            country: visit.country,
            counted: u8::from(pending.counted),
            via: pending.via,
            why: visit.bot_reason.map(|r| r.as_str().to_string()),
            src: pending.qr.then(|| SOURCE_QR.to_string()),
            cmp: pending.campaign,
            visitor,
        }
    }
}

/// Queue messages stay below this many bytes of JSON (the limit is 128 KB).
pub const MAX_MESSAGE_BYTES: usize = 100_000;

/// A batch id: the time in 12 hex digits (until the year 10889), then `random`.
pub fn batch_id(now_ms: i64, random: &str) -> String {
    format!("{:012x}{random}", now_ms.max(0))
}

/// The id prefix of batches sent before `cutoff_ms`: guards below it may be pruned.
pub fn batch_ids_before(cutoff_ms: i64) -> String {
    format!("{:012x}", cutoff_ms.max(0))
}

const VISITS_START: &str = "\"visits\":[";
const END: &str = "]}";

/// The click batches (JSON text) holding `records`, grouped by analytics shard, each
/// under `limit` bytes (a single record over the limit still gets a batch of its own).
/// `ids` names each batch.
pub fn batches_under(
    records: &[VisitRecord],
    shards: u32,
    limit: usize,
    mut ids: impl FnMut() -> Result<String, String>,
) -> Result<Vec<String>, String> {
    let mut by_shard: Vec<(u32, &VisitRecord)> = records
        .iter()
        .map(|r| (shard_of(&r.key, shards), r))
        .collect();
    // Stable: visits keep their order within a shard.
    by_shard.sort_by_key(|(shard, _)| *shard);
    let mut batches = Vec::new();
    let mut current = String::new();
    let mut current_shard = None;
    for (shard, record) in by_shard {
        let json = serde_json::to_string(record).map_err(|e| format!("visit: {e}"))?;
        let fits = current.len() + 1 + json.len() + END.len() <= limit;
        if current_shard == Some(shard) && fits {
            current.push(',');
        } else {
            if current_shard.is_some() {
                current.push_str(END);
                batches.push(std::mem::take(&mut current));
            }
            current = format!(
                "{{\"batch\":\"{}\",\"shard\":{shard},{VISITS_START}",
                ids()?
            );
            current_shard = Some(shard);
        }
        current.push_str(&json);
    }
    if current_shard.is_some() {
        current.push_str(END);
        batches.push(current);
    }
    Ok(batches)
}

/// The shard named in a batch's prefix; 0 for a batch without one (sent before shards
/// existed, when there was one database).
pub fn shard_of_batch(text: &str) -> u32 {
    text.split_once("\"shard\":")
        .filter(|(head, _)| !head.contains(VISITS_START))
        .and_then(|(_, rest)| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or(0)
}

/// A batch as the writers expect it. A batch from a sender that predates batch ids
/// (`{"visits":[...]}`) is given one derived from its text, so a redelivery of the
/// same message is still recognized.
pub fn with_id(text: String) -> String {
    if text.starts_with("{\"batch\":") {
        return text;
    }
    match text.strip_prefix('{') {
        Some(rest) => format!("{{\"batch\":\"legacy-{}\",{rest}", sha256_hex(&text)),
        None => text,
    }
}

/// Many batches as the one JSON parameter of a D1 write: an array of batches.
pub fn joined<S: AsRef<str>>(batches: &[S]) -> String {
    let mut out = String::from("[");
    for (i, batch) in batches.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(batch.as_ref());
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize) -> VisitRecord {
        VisitRecord {
            key: format!("key{}", i % 7),
            at: 1_795_290_489_000,
            referrer_host: Some("news.example.org".into()),
            country: Some("DE".into()),
            device: "desktop".into(),
            bot: 0,
            counted: u8::from(i.is_multiple_of(5)),
            via: Some("rule-1".into()),
            why: Some("crawler".into()),
            src: Some("qr".into()),
            cmp: Some("spring".into()),
            visitor: Some(0x7fff_ffff),
        }
    }

    fn ids() -> impl FnMut() -> Result<String, String> {
        let mut n = 0;
        move || {
            n += 1;
            Ok(batch_id(1_795_290_489_000, &format!("{n:016}")))
        }
    }

    #[derive(serde::Deserialize)]
    struct ClickBatch {
        batch: String,
        shard: u32,
        visits: Vec<VisitRecord>,
    }

    /// The visits of `batches` in the order they were given, checking on the way that
    /// every batch is one shard's, as its prefix says.
    fn parsed(batches: &[String], shards: u32) -> Vec<VisitRecord> {
        let mut visits = Vec::new();
        for text in batches {
            let batch: ClickBatch = serde_json::from_str(text).unwrap();
            assert_eq!(shard_of_batch(text), batch.shard);
            assert_eq!(batch.batch.len(), 28);
            assert!(batch
                .visits
                .iter()
                .all(|v| shard_of(&v.key, shards) == batch.shard));
            visits.extend(batch.visits);
        }
        visits
    }

    fn sorted(mut records: Vec<VisitRecord>, shards: u32) -> Vec<VisitRecord> {
        records.sort_by_key(|r| shard_of(&r.key, shards));
        records
    }

    #[test]
    fn a_pending_visit_is_classified_when_it_becomes_a_record() {
        let pending = PendingVisit {
            key: "abc".into(),
            at: 5,
            user_agent: Some("curl/8.5.0".into()),
            address: Some("192.0.2.7".into()),
            referer: Some("https://news.example/story?id=1".into()),
            country: Some("DE".into()),
            counted: false,
            via: None,
            qr: false,
            campaign: None,
        };
        let record = VisitRecord::new(pending, Some(&DayKey::from_bytes([7; 32])));
        assert_eq!(record.device, "bot");
        assert_eq!(record.bot, 1);
        assert_eq!(record.referrer_host.as_deref(), Some("news.example"));
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"key":"abc","at":5,"ref":"news.example","cc":"DE","dev":"bot","bot":1,"why":"command-line"}"#
        );
    }

    #[test]
    fn a_human_visit_carries_its_sketch_entry_and_never_its_address() {
        let key = DayKey::from_bytes([3; 32]);
        let pending = |address: &str| PendingVisit {
            key: "abc".into(),
            at: 5,
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into()),
            address: Some(address.into()),
            referer: None,
            country: None,
            counted: false,
            via: None,
            qr: false,
            campaign: None,
        };
        let record = VisitRecord::new(pending("198.51.100.23"), Some(&key));
        let again = VisitRecord::new(pending("198.51.100.23"), Some(&key));
        let other = VisitRecord::new(pending("198.51.100.24"), Some(&key));
        assert!(record.visitor.is_some());
        assert_eq!(record.visitor, again.visitor);
        assert_ne!(record.visitor, other.visitor);
        let json = serde_json::to_string(&record).unwrap();
        assert!(!json.contains("198.51"), "{json}");
        assert!(json.contains("\"u\":"), "{json}");
        assert_eq!(
            VisitRecord::new(pending("198.51.100.23"), None).visitor,
            None
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
                        address: Some(referer.into()),
                        referer: Some(referer.into()),
                        country: Some(country.into()),
                        counted: true,
                        via: Some("variant-2".into()),
                        qr: true,
                        campaign: Some("spring".into()),
                    };
                    let r = VisitRecord::new(pending, Some(&DayKey::from_bytes([1; 32])));
                    assert_eq!(r.visitor.is_some(), r.bot == 0, "{r:?}");
                    assert_eq!(r.counted, 1);
                    assert_eq!(r.bot, u8::from(r.device == "bot"), "{r:?}");
                    let json = serde_json::to_string(&r).unwrap();
                    assert_eq!(serde_json::from_str::<VisitRecord>(&json).unwrap(), r);
                }
            }
        }
    }

    #[test]
    fn the_sql_columns_name_every_serialized_field_in_order() {
        let json = serde_json::to_value(record(0)).unwrap();
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
        assert_eq!(
            in_sql,
            ["key", "at", "ref", "cc", "dev", "bot", "cnt", "via", "why", "src", "cmp", "u"]
        );
    }

    #[test]
    fn a_busy_window_is_split_into_batches_under_the_limit_in_shard_order() {
        let records: Vec<VisitRecord> = (0..3000).map(record).collect();
        for shards in [1, 4] {
            let batches = batches_under(&records, shards, MAX_MESSAGE_BYTES, ids()).unwrap();
            assert!(batches.len() > 1);
            for batch in &batches {
                assert!(batch.len() < MAX_MESSAGE_BYTES, "{} bytes", batch.len());
            }
            assert_eq!(parsed(&batches, shards), sorted(records.clone(), shards));
        }
    }

    #[test]
    fn a_quiet_window_is_one_batch_per_shard_and_an_empty_one_none() {
        let records: Vec<VisitRecord> = (0..3).map(record).collect();
        let batches = batches_under(&records, 1, MAX_MESSAGE_BYTES, ids()).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(parsed(&batches, 1), records);
        assert!(batches_under(&[], 1, MAX_MESSAGE_BYTES, ids())
            .unwrap()
            .is_empty());
        let shards = records
            .iter()
            .map(|r| shard_of(&r.key, 64))
            .collect::<std::collections::BTreeSet<_>>();
        let batches = batches_under(&records, 64, MAX_MESSAGE_BYTES, ids()).unwrap();
        assert_eq!(batches.len(), shards.len());
    }

    #[test]
    fn a_record_over_the_limit_gets_a_batch_of_its_own() {
        let records: Vec<VisitRecord> = (0..3).map(|_| record(0)).collect();
        let batches = batches_under(&records, 1, 10, ids()).unwrap();
        assert_eq!(batches.len(), 3);
        assert_eq!(parsed(&batches, 1), records);
    }

    #[test]
    fn batch_ids_sort_by_sending_time() {
        let early = batch_id(1_000, "zzzz");
        let late = batch_id(2_000, "aaaa");
        assert!(early < late);
        assert!(early < batch_ids_before(1_001));
        assert!(late > batch_ids_before(1_001));
        assert!(batch_ids_before(0) < batch_id(0, "x"));
    }

    #[test]
    fn a_batch_without_an_id_gets_one_from_its_text() {
        let legacy =
            r#"{"visits":[{"key":"abc","at":1,"ref":null,"cc":null,"dev":"other","bot":0}]}"#;
        let named = with_id(legacy.to_string());
        let again = with_id(legacy.to_string());
        assert_eq!(named, again);
        let batch: serde_json::Value = serde_json::from_str(&named).unwrap();
        assert!(batch["batch"].as_str().unwrap().starts_with("legacy-"));
        assert_eq!(batch["visits"][0]["key"], "abc");
        assert_eq!(shard_of_batch(&named), 0);
        let current = batches_under(&[record(1)], 4, MAX_MESSAGE_BYTES, ids()).unwrap();
        assert_eq!(with_id(current[0].clone()), current[0]);
    }
}
