//! The `day_keys` table: the secret of the current UTC day that unique visitors are
//! counted under (`domain::visitors`). SQL only; the key itself is made by the domain.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;

use super::database::Database;
use super::error::StorageError;
use crate::domain::visitors::DayKey;

/// The day keys, in the links database (every isolate and the queue consumer share it).
pub struct DayKeys {
    db: Database,
}

#[derive(Deserialize)]
struct Row {
    secret: String,
}

impl DayKeys {
    pub fn on(db: Database) -> DayKeys {
        DayKeys { db }
    }

    /// The key of `day`, made from `fresh` if no isolate made one yet: one round trip
    /// and one transaction, so concurrent isolates agree on the first key written.
    pub async fn of_day(&self, day: i64, fresh: &DayKey) -> Result<DayKey, StorageError> {
        let day = JsValue::from_f64(day as f64);
        let results = self
            .db
            .batch(
                vec![
                    self.db.statement(
                        "INSERT INTO day_keys (day, secret) VALUES (?1, ?2) \
                         ON CONFLICT (day) DO NOTHING",
                        &[day.clone(), fresh.to_hex().into()],
                        "make day key",
                    )?,
                    self.db.statement(
                        "SELECT secret FROM day_keys WHERE day = ?1",
                        &[day],
                        "read day key",
                    )?,
                ],
                "day key",
            )
            .await?;
        let row: Option<Row> = results
            .get(1)
            .and_then(|r| r.results::<Row>().ok())
            .and_then(|rows| rows.into_iter().next());
        let row = row.ok_or_else(|| StorageError::new("D1 day key", "no row after insert"))?;
        DayKey::parse_hex(&row.secret).map_err(|e| StorageError::new("D1 day key", e))
    }

    /// Deletes the keys of days before `day`: once a day is over, its visitors' sketch
    /// entries can no longer be computed by anyone. How many went.
    pub async fn forget_before(&self, day: i64) -> Result<usize, StorageError> {
        self.db
            .execute(
                "DELETE FROM day_keys WHERE day < ?1",
                &[JsValue::from_f64(day as f64)],
                "forget day keys",
            )
            .await
    }
}
