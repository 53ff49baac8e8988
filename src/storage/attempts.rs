//! The `password_attempts` table: how many password attempts a link and a client made
//! in the current window. SQL only; the limits come from the caller.

use worker::wasm_bindgen::JsValue;

use super::database::{int, Database};
use super::error::StorageError;

/// Password attempts, counted in D1 so that every isolate shares the count.
pub struct Attempts {
    db: Database,
}

/// Takes one attempt of `scope` in window `slot` if fewer than `limit` were taken:
/// one statement, so concurrent attempts are admitted one at a time by D1 and the
/// limit holds however many arrive at once.
const TAKE: &str = "INSERT INTO password_attempts (scope, slot, n) VALUES (?1, ?2, 1) \
     ON CONFLICT (scope, slot) DO UPDATE SET n = n + 1 WHERE n < ?3 RETURNING n";

impl Attempts {
    pub fn on(db: Database) -> Attempts {
        Attempts { db }
    }

    /// Takes one attempt of each scope in turn, stopping at the first that is used up;
    /// whether all were granted. A scope used up is checked before the next is
    /// charged, so a client over its own limit does not use up a link's.
    pub async fn take(&self, scopes: &[(&str, u32)], slot: i64) -> Result<bool, StorageError> {
        #[derive(serde::Deserialize)]
        struct Row {
            #[allow(dead_code)]
            n: f64,
        }
        for (scope, limit) in scopes {
            let row: Option<Row> = self
                .db
                .first(
                    TAKE,
                    &[JsValue::from(*scope), int(slot), int(i64::from(*limit))],
                    "take password attempt",
                )
                .await?;
            if row.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Gives back the attempts of a right password: only wrong ones are limited.
    pub async fn give_back(&self, scopes: &[&str], slot: i64) -> Result<(), StorageError> {
        for scope in scopes {
            self.db
                .execute(
                    "UPDATE password_attempts SET n = n - 1 WHERE scope = ?1 AND slot = ?2 AND n > 0",
                    &[JsValue::from(*scope), int(slot)],
                    "give back password attempt",
                )
                .await?;
        }
        Ok(())
    }

    /// Deletes windows before `slot`; how many went.
    pub async fn prune(&self, before_slot: i64) -> Result<usize, StorageError> {
        self.db
            .execute(
                "DELETE FROM password_attempts WHERE slot < ?1",
                &[int(before_slot)],
                "prune password attempts",
            )
            .await
    }
}
