//! Request handlers: one function per route, all returning `Result<Response, ApiError>`.

mod links;
mod operator;
mod redirect;
mod service;

use worker::{Context, Date, Env, Request, Response};

use crate::config::Config;
use crate::domain::timestamp::Timestamp;
use crate::domain::token::{bearer_token, token_matches};
use crate::http::error::ApiError;
use crate::http::response::{self, OK};
use crate::http::route::{self, is_operator_path, Method, NoRoute, Route};
use crate::storage::counters;

/// What every handler may need about the request it serves.
pub struct Ctx {
    pub env: Env,
    pub ctx: Context,
    pub config: Config,
    /// `BASE_URL`, or the request's own origin: the prefix of every short URL.
    pub origin: String,
    /// Host names this service answers on; targets on them would loop.
    pub own_hosts: Vec<String>,
    /// The request's query string, without `?` (empty when there is none).
    pub query: String,
    pub now: Timestamp,
}

impl Ctx {
    fn new(req: &Request, env: Env, ctx: Context) -> Result<Ctx, ApiError> {
        let config = Config::from_env(&env);
        let url = req.url()?;
        let mut own_hosts: Vec<String> = url.host_str().map(str::to_string).into_iter().collect();
        let origin = match &config.base_url {
            Some(base) => {
                if let Some(host) = url::Url::parse(base)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                {
                    own_hosts.push(host);
                }
                base.clone()
            }
            None => url.origin().ascii_serialization(),
        };
        Ok(Ctx {
            env,
            ctx,
            config,
            origin,
            own_hosts,
            query: url.query().unwrap_or_default().to_string(),
            now: now(),
        })
    }

    pub fn own_hosts(&self) -> Vec<&str> {
        self.own_hosts.iter().map(String::as_str).collect()
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// The current time. `Date::now()` is whole milliseconds, so the cast loses nothing.
pub fn now() -> Timestamp {
    Timestamp::from_millis(Date::now().as_millis() as i64)
}

/// Routes a request and turns any failure into its JSON error response.
pub async fn handle(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // The raw method, not `req.method()`, which maps unknown methods to GET.
    let method = Method::parse(&req.inner().method());
    let path = req.path();
    if path == "/__bench/counters" && bench_counters_enabled(&env) {
        return response::json(OK, &counters::snapshot());
    }
    let result = match Ctx::new(&req, env, ctx) {
        Ok(cx) => match authorize(&path, &req, &cx)
            .and_then(|()| route_error(route::resolve(method, &path)))
        {
            Ok(route) => dispatch(route, &mut req, cx).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    result.or_else(ApiError::into_response)
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

/// The benchmark's storage counters are shown only when `BENCH_COUNTERS` is "1".
fn bench_counters_enabled(env: &Env) -> bool {
    env.var("BENCH_COUNTERS")
        .map(|v| v.to_string() == "1")
        .unwrap_or(false)
}

async fn dispatch(route: Route, req: &mut Request, cx: Ctx) -> Result<Response, ApiError> {
    use crate::storage::d1::LinkRef;
    match route {
        Route::Home => service::home(&cx),
        Route::Health => service::health(&cx).await,
        Route::OpenApi => service::openapi(),
        Route::Docs => service::docs(),
        Route::Create => links::create(req, &cx).await,
        Route::Redirect { key, count_click } => redirect::redirect(key, count_click, req, cx).await,
        Route::Peek { key } => redirect::peek(&key, &cx).await,
        Route::Qr { key } => redirect::qr(&key, &cx).await,
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
    }
}
