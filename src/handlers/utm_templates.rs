//! The operator's UTM templates (`/api/utm-templates`): named UTM fields a link can be
//! created from (`"utm_template"`). Listing and reading are open to every role that
//! creates or reads links; writes are admins', and audited.

use serde_json::{json, Value};
use worker::Request;

use super::auth::Operator;
use super::context::Ctx;
use crate::domain::controls::{template_body, template_name};
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, CREATED, OK};
use crate::storage::error::StorageError;
use crate::storage::utm_templates::{TemplateStore, UtmTemplate};

fn store(cx: &Ctx) -> Result<TemplateStore, StorageError> {
    cx.database().map(TemplateStore::on)
}

/// A template as the API shows it.
fn view(t: &UtmTemplate) -> Value {
    json!({
        "name": t.name,
        "utm": t.utm.to_value(),
        "created_at": t.created_at.to_rfc3339(),
        "created_by": t.created_by,
        "updated_at": t.updated_at.to_rfc3339(),
    })
}

/// A name from the path: one a template could have, else no such template (404).
fn named(raw: &str) -> Result<String, ApiError> {
    template_name(raw).map_err(|_| ApiError::NotFound)
}

/// `GET /api/utm-templates`: every template, by name.
pub async fn list(cx: &Ctx) -> Result<Reply, ApiError> {
    let all: Vec<Value> = store(cx)?.list().await?.iter().map(view).collect();
    Ok(response::json(OK, &json!({ "templates": all }))?)
}

/// `GET /api/utm-templates/{name}`.
pub async fn show(name: &str, cx: &Ctx) -> Result<Reply, ApiError> {
    let t = store(cx)?
        .get(&named(name)?)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(response::json(OK, &view(&t))?)
}

/// `POST /api/utm-templates`: `{"name", "utm": {...}}`; 409 when the name is taken.
pub async fn create(req: &mut Request, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let body = body::read_json(req, MAX_BODY_BYTES).await?;
    let (name, utm) = template_body(&body, true)?;
    let name = name.ok_or_else(|| ApiError::BadRequest("field 'name' is required".into()))?;
    let store = store(cx)?;
    if !store.insert(&name, &utm, op.id(), cx.now).await? {
        return Err(ApiError::TemplateTaken(name));
    }
    let t = store.get(&name).await?.ok_or(ApiError::NotFound)?;
    op.audit(
        cx,
        "utm_template.create",
        Some(&name),
        None,
        json!({ "utm": utm.to_value() }),
    )
    .await;
    Ok(response::json(CREATED, &view(&t))?)
}

/// `PUT /api/utm-templates/{name}`: `{"utm": {...}}` replaces its fields. Links made
/// from it before keep theirs: a template is copied at creation.
pub async fn replace(
    name: &str,
    req: &mut Request,
    op: &Operator,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let name = named(name)?;
    let body = body::read_json(req, MAX_BODY_BYTES).await?;
    let (_, utm) = template_body(&body, false)?;
    let store = store(cx)?;
    if !store.replace(&name, &utm, cx.now).await? {
        return Err(ApiError::NotFound);
    }
    let t = store.get(&name).await?.ok_or(ApiError::NotFound)?;
    op.audit(
        cx,
        "utm_template.update",
        Some(&name),
        None,
        json!({ "utm": utm.to_value() }),
    )
    .await;
    Ok(response::json(OK, &view(&t))?)
}

/// `DELETE /api/utm-templates/{name}`.
pub async fn delete(name: &str, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let name = named(name)?;
    if !store(cx)?.delete(&name).await? {
        return Err(ApiError::NotFound);
    }
    op.audit(cx, "utm_template.delete", Some(&name), None, json!({}))
        .await;
    Ok(response::json(
        OK,
        &json!({ "name": name, "deleted": true }),
    )?)
}
