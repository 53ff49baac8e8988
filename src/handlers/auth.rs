//! Who may call the operator API, and what they may do there: the `ADMIN_TOKEN` holder
//! (root, an admin) and named API keys with a role (`domain::access` holds the matrix).

use worker::Request;

use super::context::Ctx;
use crate::domain::access::{Access, Actor, ApiToken, KeyState, Operation};
use crate::domain::token::{bearer_token, token_matches};
use crate::http::error::ApiError;
use crate::http::route::{is_operator_path, Route};
use crate::storage::database::Database;
use crate::storage::keys::KeyStore;

/// The operator API exists only when `ADMIN_TOKEN` is set (everything under `/api` is a
/// 404 otherwise), and then only for requests with a bearer token: `ADMIN_TOKEN` itself,
/// or an API key that is neither revoked nor expired. The key's row is read on every
/// request (at the primary), so a revocation or expiry takes effect at once.
pub async fn authenticate(path: &str, req: &Request, cx: &Ctx) -> Result<Option<Actor>, ApiError> {
    if !is_operator_path(path) {
        return Ok(None);
    }
    let root = cx.config.admin_token.as_deref().ok_or(ApiError::NotFound)?;
    let header = req
        .headers()
        .get("Authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let token = bearer_token(&header).ok_or(ApiError::Unauthorized)?;
    if token_matches(token, root) {
        return Ok(Some(Actor::Root));
    }
    let token = ApiToken::parse(token).ok_or(ApiError::Unauthorized)?;
    let keys = KeyStore::on(Database::from_env(&cx.env)?);
    match keys.by_token(&token).await? {
        Some(key) if key.state(cx.now) == KeyState::Active => {
            let (id, now) = (key.id.clone(), cx.now);
            cx.ctx.wait_until(async move {
                if let Err(e) = keys.touch(&id, now).await {
                    worker::console_error!("last_used_at of {id} not recorded: {e}");
                }
            });
            Ok(Some(key.actor()))
        }
        _ => Err(ApiError::Unauthorized),
    }
}

/// The operation an operator route performs, as the permission matrix names it.
fn operation(route: &Route) -> Option<Operation> {
    Some(match route {
        Route::ApiList | Route::ApiDomains => Operation::ListLinks,
        Route::ApiShow { .. } => Operation::ShowLink,
        Route::ApiBulk => Operation::CreateLinks,
        // A check records the target's health: a change of the link's state.
        Route::ApiPatch { .. } | Route::ApiDelete { .. } | Route::ApiCheck { .. } => {
            Operation::ChangeLink
        }
        Route::ApiStats { .. } => Operation::LinkStats,
        // Totals over every link: what an export shows, not one creator's share.
        Route::ApiExport | Route::ApiTags => Operation::Export,
        Route::ApiImport => Operation::Import,
        Route::KeysList | Route::KeysCreate | Route::KeyShow { .. } | Route::KeyRevoke { .. } => {
            Operation::ManageKeys
        }
        Route::AuditList | Route::AuditExport => Operation::ReadAudit,
        _ => return None,
    })
}

/// Lets an authenticated operator through to `route` if their role allows it (403
/// otherwise), noting on `cx` who they are and on which links they may act.
pub fn permit(route: &Route, actor: Option<Actor>, cx: &Ctx) -> Result<(), ApiError> {
    let Some(actor) = actor else { return Ok(()) };
    let Some(op) = operation(route) else {
        // Every operator route is in `operation`; one that is not is refused, not opened.
        return Err(ApiError::Forbidden(actor.role().as_str()));
    };
    match actor.access(op) {
        Access::Denied => Err(ApiError::Forbidden(actor.role().as_str())),
        access => {
            cx.admit_operator(actor, access);
            Ok(())
        }
    }
}
