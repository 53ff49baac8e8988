//! The operator's event endpoints (`/api/webhooks`): register (the secret shown once),
//! list and delete. Admins only; each write is audited. Deliveries: `crate::events`.

use serde_json::{json, Value};
use worker::Request;

use super::auth::Operator;
use super::context::Ctx;
use crate::domain::random::random_string;
use crate::domain::webhook::NewEndpoint;
use crate::events;
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, CREATED, OK};
use crate::storage::error::StorageError;
use crate::storage::webhooks::{Endpoint, WebhookStore};

fn store(cx: &Ctx) -> Result<WebhookStore, StorageError> {
    cx.database().map(WebhookStore::on)
}

/// An endpoint as the API shows it: never its secret.
fn view(e: &Endpoint) -> Value {
    json!({
        "id": e.id,
        "url": e.url,
        "events": e.events.iter().map(|ev| ev.as_str()).collect::<Vec<_>>(),
        "created_at": e.created_at.to_rfc3339(),
        "created_by": e.created_by,
    })
}

/// `POST /api/webhooks`: `{"url", "events"}`. The answer alone carries `secret`, the
/// key every delivery to it is signed with.
pub async fn create(req: &mut Request, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let body = body::read_json(req, MAX_BODY_BYTES).await?;
    // Plain http is for a service running on this machine, whose receivers do too.
    let origin = cx.origin();
    let local = origin.starts_with("http://127.0.0.1") || origin.starts_with("http://localhost");
    let new = NewEndpoint::from_json(&body, local)?;
    let id = format!("wh_{}", random_string(20)?);
    let secret = format!("whsec_{}", random_string(32)?);
    let store = store(cx)?;
    store.insert(&id, &new, &secret, op.id(), cx.now).await?;
    events::forget_endpoints();
    let endpoint = store.get(&id).await?.ok_or(ApiError::NotFound)?;
    let shown = view(&endpoint);
    op.audit(
        cx,
        "webhook.create",
        Some(&id),
        None,
        json!({ "url": endpoint.url, "events": shown.get("events") }),
    )
    .await;
    let mut answer = shown;
    if let Some(fields) = answer.as_object_mut() {
        fields.insert("secret".into(), secret.into());
    }
    Ok(response::json(CREATED, &answer)?)
}

/// `GET /api/webhooks`: every endpoint, oldest first, without secrets.
pub async fn list(cx: &Ctx) -> Result<Reply, ApiError> {
    let all: Vec<Value> = store(cx)?.list().await?.iter().map(view).collect();
    Ok(response::json(OK, &json!({ "webhooks": all }))?)
}

/// `DELETE /api/webhooks/{id}`: no more deliveries; queued ones are dropped.
pub async fn delete(id: &str, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    if !store(cx)?.delete(id).await? {
        return Err(ApiError::NotFound);
    }
    events::forget_endpoints();
    op.audit(cx, "webhook.delete", Some(id), None, json!({}))
        .await;
    Ok(response::json(OK, &json!({ "id": id, "deleted": true }))?)
}
