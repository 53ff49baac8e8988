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
use crate::domain::link::Link;
use crate::handlers::auth::{self, Operator};
use crate::handlers::context::Ctx;
use crate::http::error::ApiError;
use crate::http::response::Reply;
use crate::http::route::Method;
use crate::storage::listing::{Cursor, ListFilter};

/// The methods the adapters' paths answer to, for a CORS preflight.
pub const METHODS: &str = "GET, HEAD, POST, PATCH, DELETE";

/// Links a foreign listing reads at most: Shlink and Kutt page with totals (and Shlink
/// orders by any field), which the native keyset listing does not, so an adapter reads
/// the links that match, newest first, and pages them itself.
const LIST_CAP: usize = 1000;
/// Links per native page while reading them.
const LIST_PAGE: u32 = 100;

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

/// The active links the native listing finds under `filter`, newest first, at most
/// [`LIST_CAP`] of them. Deactivated links are left out: the foreign APIs delete
/// where this service deactivates (docs/compat.md).
async fn listed(filter: &ListFilter<'_>, cx: &Ctx) -> Result<Vec<Link>, ApiError> {
    let store = cx.links()?;
    let mut links: Vec<Link> = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let found = store.list(cursor.as_ref(), LIST_PAGE, filter).await?;
        links.extend(found.links.into_iter().filter(|l| l.is_active));
        cursor = found.next_cursor.as_deref().and_then(Cursor::parse);
        if cursor.is_none() || links.len() >= LIST_CAP {
            return Ok(links);
        }
    }
}

/// What a foreign listing may be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkOrder {
    Created,
    Key,
    Target,
    Title,
    Clicks,
}

/// Sorts `links` by `by` (stable, so ties keep the listing's newest-first order).
/// Every adapter's ordering goes through this one comparator: each `sort_by` with its
/// own closure compiles its own copy of the standard library's sort, about 3 KB of
/// wasm apiece (measured with `twiggy diff`, bench/history.md).
fn sort_links(links: &mut [Link], by: LinkOrder, descending: bool) {
    links.sort_by(|a, b| {
        let order = match by {
            LinkOrder::Created => a.created_at.cmp(&b.created_at),
            LinkOrder::Key => a.key.as_str().cmp(b.key.as_str()),
            LinkOrder::Target => a.target_url.cmp(&b.target_url),
            LinkOrder::Title => a.controls.title.cmp(&b.controls.title),
            LinkOrder::Clicks => a.clicks.cmp(&b.clicks),
        };
        if descending {
            order.reverse()
        } else {
            order
        }
    });
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
