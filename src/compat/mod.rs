//! Other shorteners' APIs, each one adapter over this service's own operations
//! (`handlers::operations`, the link store, `handlers::auth`): Shlink's REST API v3,
//! Kutt's API v2 and YOURLS's `yourls-api.php`. An adapter owns only its API's wire
//! format: it reads that API's requests into the service's own request types and
//! renders the results, and its errors, as that API does. `COMPAT_APIS` switches each
//! one off (`domain::compat`); docs/compat.md maps every endpoint and field.

mod kutt;
mod shlink;
mod yourls;

use worker::Request;

use crate::domain::access::{Actor, Operation};
use crate::domain::compat::CompatApi;
use crate::handlers::auth::{self, Operator};
use crate::handlers::context::Ctx;
use crate::http::error::ApiError;
use crate::http::response::Reply;
use crate::http::route::Method;

/// The methods the adapters' paths answer to, for a CORS preflight.
pub const METHODS: &str = "GET, HEAD, POST, PATCH, DELETE";

/// Answers a request to `api`'s paths in that API's formats.
pub async fn handle(
    api: CompatApi,
    method: Method,
    req: &mut Request,
    cx: &Ctx,
) -> worker::Result<Reply> {
    match api {
        CompatApi::Shlink => shlink::handle(method, req, cx).await,
        CompatApi::Kutt => kutt::handle(method, req, cx).await,
        CompatApi::Yourls => yourls::handle(method, req, cx).await,
    }
}

/// Who an API key names (this service's own keys and `ADMIN_TOKEN`); no key at all is
/// `Unauthorized`.
async fn actor(token: Option<&str>, cx: &Ctx) -> Result<Actor, ApiError> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    auth::actor_of(token, cx).await
}

/// The operator an API key names (this service's own keys and `ADMIN_TOKEN`, sent in
/// the foreign API's header), let in for `op` by the same roles and domain limits as
/// the operator API. No key at all is `Unauthorized`.
async fn operator(token: Option<&str>, op: Operation, cx: &Ctx) -> Result<Operator, ApiError> {
    auth::admit(actor(token, cx).await?, op)
}

/// A request header's value, if present.
fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}
