//! A new link's UTM template (`"utm_template"`), looked up and copied into its fields:
//! shared by single and bulk creation, below the handlers that use it.

use super::context::Ctx;
use crate::domain::link_request::NewLink;
use crate::http::error::ApiError;
use crate::storage::utm_templates::TemplateStore;

/// Copies the template `new` names into its UTM fields, under the fields the request
/// set itself; 400 for a name no template has.
pub async fn apply_template(new: &mut NewLink, cx: &Ctx) -> Result<(), ApiError> {
    let Some(name) = new.utm_template.take() else {
        return Ok(());
    };
    let template = TemplateStore::on(cx.database()?)
        .get(&name)
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "field 'utm_template' names no template: '{name}' (see GET /api/utm-templates)"
            ))
        })?;
    let routing = &mut new.controls.routing;
    routing.utm = Some(match routing.utm.take() {
        Some(own) => template.utm.overlaid(&own),
        None => template.utm,
    });
    Ok(())
}
