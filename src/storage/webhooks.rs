//! The `webhooks` table: the operator's event endpoints, their events and secrets.

use serde::Deserialize;

use super::database::{ms, whole, Database};
use super::error::StorageError;
use crate::domain::timestamp::Timestamp;
use crate::domain::webhook::{Event, NewEndpoint};

/// Endpoints listed (and sent to per event) at most: a handful is the use; this bounds
/// what one event costs.
pub const MAX_ENDPOINTS: u32 = 100;

/// One registered endpoint, with its secret (which only signing reads).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<Event>,
    pub secret: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    url: String,
    events: String,
    secret: String,
    created_at: f64,
    created_by: String,
}

impl TryFrom<Row> for Endpoint {
    type Error = StorageError;

    fn try_from(row: Row) -> Result<Endpoint, StorageError> {
        let bad = |e: String| StorageError::new(format!("D1 webhooks row {:?}", row.id), e);
        let names: Vec<String> =
            serde_json::from_str(&row.events).map_err(|e| bad(e.to_string()))?;
        // An event name this version does not know is skipped, not fatal.
        let events = names.iter().filter_map(|n| Event::parse(n)).collect();
        Ok(Endpoint {
            created_at: Timestamp::from_millis(whole(row.created_at, "created_at").map_err(bad)?),
            events,
            id: row.id,
            url: row.url,
            secret: row.secret,
            created_by: row.created_by,
        })
    }
}

const COLUMNS: &str = "id, url, events, secret, created_at, created_by";

pub struct WebhookStore {
    db: Database,
}

impl WebhookStore {
    pub fn on(db: Database) -> WebhookStore {
        WebhookStore { db }
    }

    /// Stores a new endpoint.
    pub async fn insert(
        &self,
        id: &str,
        new: &NewEndpoint,
        secret: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
        let events =
            serde_json::to_string(&events).map_err(|e| StorageError::new("webhook events", e))?;
        self.db
            .execute(
                "INSERT INTO webhooks (id, url, events, secret, created_at, created_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[
                    id.into(),
                    new.url.as_str().into(),
                    events.into(),
                    secret.into(),
                    ms(now),
                    by.into(),
                ],
                "insert webhook",
            )
            .await
            .map(|_| ())
    }

    /// Every endpoint, oldest first.
    pub async fn list(&self) -> Result<Vec<Endpoint>, StorageError> {
        let rows: Vec<Row> = self
            .db
            .rows(
                &format!(
                    "SELECT {COLUMNS} FROM webhooks ORDER BY created_at, id LIMIT {MAX_ENDPOINTS}"
                ),
                &[],
                "list webhooks",
            )
            .await?;
        rows.into_iter().map(Endpoint::try_from).collect()
    }

    /// One endpoint, if it is still registered.
    pub async fn get(&self, id: &str) -> Result<Option<Endpoint>, StorageError> {
        let row: Option<Row> = self
            .db
            .first(
                &format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"),
                &[id.into()],
                "read webhook",
            )
            .await?;
        row.map(Endpoint::try_from).transpose()
    }

    /// Deletes an endpoint; `false` when there was none. Deliveries already queued for
    /// it are dropped when they come up.
    pub async fn delete(&self, id: &str) -> Result<bool, StorageError> {
        let changed = self
            .db
            .execute(
                "DELETE FROM webhooks WHERE id = ?1",
                &[id.into()],
                "delete webhook",
            )
            .await?;
        Ok(changed == 1)
    }
}
