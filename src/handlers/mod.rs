//! Request handlers: one function per route, all returning `Result<Response, ApiError>`.

mod links;
mod operator;
mod redirect;
mod service;

use std::cell::OnceCell;
use std::rc::Rc;

use worker::worker_sys::web_sys;
use worker::{Context, Date, Env, Request};

use crate::config::{Config, CorsOrigins};
use crate::domain::link_request::TargetPolicy;
use crate::domain::timestamp::Timestamp;
use crate::domain::token::{bearer_token, token_matches};
use crate::http::error::ApiError;
use crate::http::response::{self, OK};
use crate::http::route::{self, is_operator_path, Method, NoRoute, Route};
use crate::storage::counters;
use crate::web::{pages, wants_html};

/// What every handler may need about the request it serves.
pub struct Ctx {
    pub env: Env,
    pub ctx: Context,
    pub config: Rc<Config>,
    pub now: Timestamp,
    /// The request URL as the runtime gave it; parsed only by the handlers that need
    /// its origin or host (a redirect needs neither).
    url: String,
    parsed: OnceCell<Option<url::Url>>,
    origin: OnceCell<String>,
}

impl Ctx {
    fn new(req: &Request, env: Env, ctx: Context) -> Ctx {
        Ctx {
            config: Config::get(&env),
            env,
            ctx,
            now: now(),
            url: req.inner().url(),
            parsed: OnceCell::new(),
            origin: OnceCell::new(),
        }
    }

    fn parsed(&self) -> Option<&url::Url> {
        self.parsed
            .get_or_init(|| url::Url::parse(&self.url).ok())
            .as_ref()
    }

    /// `BASE_URL`, or the request's own origin: the prefix of every short URL.
    pub fn origin(&self) -> &str {
        self.origin
            .get_or_init(|| match (&self.config.base_url, self.parsed()) {
                (Some(base), _) => base.clone(),
                (None, Some(url)) => url.origin().ascii_serialization(),
                (None, None) => String::new(),
            })
    }

    /// The request's query string without `?` (empty when there is none). Request URLs
    /// carry no fragment, so everything after the first `?` is the query.
    pub fn query(&self) -> &str {
        self.url.split_once('?').map_or("", |(_, query)| query)
    }

    /// Host names this service answers on (the request's and `BASE_URL`'s); targets on
    /// them would loop.
    pub fn own_hosts(&self) -> Vec<&str> {
        self.parsed()
            .and_then(url::Url::host_str)
            .into_iter()
            .chain(self.config.base_host.as_deref())
            .collect()
    }

    /// The rules a target must meet here, for `own_hosts` borrowed from the caller.
    pub fn target_policy<'a>(&'a self, own_hosts: &'a [&'a str]) -> TargetPolicy<'a> {
        TargetPolicy {
            own_hosts,
            blocked_hosts: &self.config.blocked_hosts,
        }
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// True when the client asked for a page rather than JSON (a browser).
fn accepts_html(req: &Request) -> bool {
    wants_html(req.headers().get("Accept").ok().flatten().as_deref())
}

/// The current time. `Date::now()` is whole milliseconds, so the cast loses nothing.
pub fn now() -> Timestamp {
    Timestamp::from_millis(Date::now().as_millis() as i64)
}

/// Routes a request and turns any failure into its JSON error response.
pub async fn handle(mut req: Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    // The raw method, not `req.method()`, which maps unknown methods to GET.
    let method = Method::parse(&req.inner().method());
    let path = req.path();
    let cx = Ctx::new(&req, env, ctx);
    if path == "/__bench/counters" && cx.config.bench_counters {
        return response::json(OK, &counters::snapshot()).map(Into::into);
    }
    // The Origin header is read only when CORS is configured at all.
    let cors_origin = if cx.config.cors == CorsOrigins::None {
        None
    } else {
        let origin = req.headers().get("Origin").ok().flatten();
        origin.and_then(|origin| cx.config.cors.allow(&origin))
    };
    let resolved =
        authorize(&path, &req, &cx).and_then(|()| route_error(route::resolve(method, &path)));
    let result = match (resolved, &cors_origin) {
        (Ok(route), _) => dispatch(route, &mut req, cx).await,
        // A CORS preflight: a known path asked with OPTIONS from an allowed origin.
        (Err(ApiError::MethodNotAllowed(allowed)), Some(_)) if method == Method::Options => {
            response::preflight(allowed)
                .map(Into::into)
                .map_err(ApiError::from)
        }
        (Err(e), _) => Err(e),
    };
    let res = match result {
        Ok(res) => res,
        // People following a dead link get a page; API clients get the JSON error.
        Err(e @ (ApiError::NotFound | ApiError::Gone(_) | ApiError::TargetBlocked))
            if accepts_html(&req) =>
        {
            response::html(e.status(), pages::error(e.status(), &e.detail()))?.into()
        }
        Err(e) => e.into_response()?.into(),
    };
    if let Some(origin) = cors_origin {
        response::allow_origin(&res, &origin)?;
    }
    Ok(res)
}

fn route_error(result: Result<Route, NoRoute>) -> Result<Route, ApiError> {
    result.map_err(|e| match e {
        NoRoute::NotFound => ApiError::NotFound,
        NoRoute::MethodNotAllowed(allowed) => ApiError::MethodNotAllowed(allowed),
    })
}

/// The operator API exists only when `ADMIN_TOKEN` is set, and then only for requests
/// that present it; everything else under `/api` is answered before routing.
fn authorize(path: &str, req: &Request, cx: &Ctx) -> Result<(), ApiError> {
    if !is_operator_path(path) {
        return Ok(());
    }
    let expected = cx.config.admin_token.as_deref().ok_or(ApiError::NotFound)?;
    let header = req
        .headers()
        .get("Authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    match bearer_token(&header) {
        Some(token) if token_matches(token, expected) => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}

async fn dispatch(route: Route, req: &mut Request, cx: Ctx) -> Result<web_sys::Response, ApiError> {
    use crate::storage::d1::LinkRef;
    let res = match route {
        Route::Home => service::home(accepts_html(req), &cx),
        Route::Health => service::health(&cx).await,
        Route::OpenApi => service::openapi(),
        Route::Docs => service::docs(),
        Route::Asset(path) => service::asset(path),
        Route::Create => links::create(req, &cx).await,
        // The hot path builds the runtime's response itself (see `response::redirect`).
        Route::Redirect { key, count_click } => {
            return redirect::redirect(key, count_click, req, cx).await;
        }
        Route::Peek { key } => redirect::peek(&key, accepts_html(req), &cx).await,
        Route::Qr { key } => redirect::qr(&key, &cx).await,
        Route::AdminShow { secret } if accepts_html(req) => links::admin_page(&secret, &cx).await,
        Route::AdminShow { secret } => {
            links::show(&LinkRef::Secret(&secret.hash()), Some(&secret), &cx).await
        }
        Route::AdminPatch { secret } => {
            links::patch(req, &LinkRef::Secret(&secret.hash()), Some(&secret), &cx).await
        }
        Route::AdminDeactivate { secret } => {
            links::deactivate(&LinkRef::Secret(&secret.hash()), &cx).await
        }
        Route::AdminStats { secret } => links::stats(&LinkRef::Secret(&secret.hash()), &cx).await,
        Route::ApiList => operator::list(&cx).await,
        Route::ApiBulk => operator::bulk(req, &cx).await,
        Route::ApiExport => operator::export(&cx),
        Route::ApiShow { key } => links::show(&LinkRef::Key(&key), None, &cx).await,
        Route::ApiPatch { key } => links::patch(req, &LinkRef::Key(&key), None, &cx).await,
        Route::ApiDelete { key } => links::deactivate(&LinkRef::Key(&key), &cx).await,
    };
    res.map(Into::into)
}
