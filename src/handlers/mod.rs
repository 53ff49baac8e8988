//! Request handlers: one function per route, all answering `Result<Reply, ApiError>`.
//! This file only declares them and dispatches a request to one (or, for the paths of
//! another shortener's API that `COMPAT_APIS` switches on, to its adapter in
//! `crate::compat`, which shares `auth`, `context`, `operations` and `present`).

pub(crate) mod auth;
mod batch;
pub(crate) mod context;
mod cors;
mod draft;
mod import;
mod keys;
mod links;
pub(crate) mod operations;
mod operator;
mod password;
pub(crate) mod present;
mod redirect;
mod service;

use worker::{Context, Env, Request};

use crate::compat;
use crate::domain::link::RedirectStatus;
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::negotiate::accepts_html;
use crate::http::response::{self, Reply, OK};
use crate::http::route::{self, Method, NoRoute, Route};
use crate::storage::counters;
use crate::storage::links::LinkRef;
use crate::web::pages;
use auth::Operator;
use context::Ctx;

/// Routes a request and turns any failure into its JSON error response (or, for a
/// person following a dead link, a page).
pub async fn handle(mut req: Request, env: Env, ctx: Context) -> worker::Result<Reply> {
    // The raw method, not `req.method()`, which maps unknown methods to GET.
    let method = Method::parse(&req.inner().method());
    let path = req.path();
    let cx = Ctx::new(&req, env, ctx);
    let cors_origin = cors::allowed_origin(&req, &cx.config);
    // Another shortener's API, when switched on: its adapter authenticates with that
    // API's key header and answers in its formats, under the same CORS_ORIGINS (its
    // browser clients, Shlink's web client say, call across origins). A handful of
    // prefix comparisons, so a redirect pays nothing measurable for it.
    if let Some(api) = cx.config.compat_apis.serving(&path) {
        let res = match (&cors_origin, method) {
            (Some(_), Method::Options) => response::preflight(compat::METHODS)?,
            _ => compat::handle(api, method, &mut req, &cx).await?,
        };
        if let Some(origin) = cors_origin {
            response::allow_origin(&res, &origin)?;
        }
        return Ok(res);
    }
    let mut admitted = None;
    let resolved = match auth::authenticate(&path, &req, &cx).await {
        Ok(actor) if route::bench_counters(&path, cx.config.bench_counters, actor.as_ref()) => {
            Ok(Some(Route::BenchCounters))
        }
        Ok(actor) => match route::resolve(method, &path) {
            Ok(route) => auth::permit(&route, actor).map(|op| {
                admitted = op;
                Some(route)
            }),
            Err(NoRoute::NotFound) if is_visit(method, &path) => Ok(None),
            Err(e) => Err(ApiError::from(e)),
        },
        Err(e) => Err(e),
    };
    if let Ok(Some(Route::Home)) = resolved {
        if let Some(url) = cx.config.domains.fallbacks(cx.domain()).root.as_deref() {
            return response::redirect(url, RedirectStatus::Found, cx.config.permanent_max_age);
        }
    }
    let result = match (resolved, &cors_origin) {
        (Ok(Some(route)), _) => dispatch(route, admitted.as_ref(), &mut req, &cx).await,
        // A visitor at a path that names nothing meets the domain as at a missing link.
        (Ok(None), _) => redirect::nowhere(&cx),
        // A CORS preflight: a known path asked with OPTIONS from an allowed origin.
        (Err(ApiError::MethodNotAllowed(allowed)), Some(_)) if method == Method::Options => {
            response::preflight(allowed).map_err(ApiError::from)
        }
        (Err(e), _) => Err(e),
    };
    let res = match result {
        Ok(res) => res,
        // People following a dead link get a page; API clients get the JSON error.
        Err(e @ (ApiError::NotFound | ApiError::Gone(_) | ApiError::TargetBlocked))
            if accepts_html(&req) =>
        {
            response::html(e.status(), pages::error(e.status(), &e.detail()))?
        }
        Err(e) => e.into_response()?,
    };
    if let Some(bookmark) = cx.bookmark() {
        response::bookmark(&res, &bookmark)?;
    }
    if let Some(origin) = cors_origin {
        response::allow_origin(&res, &origin)?;
    }
    Ok(res)
}

/// A visitor's request: a GET or HEAD outside the API and the admin pages. At a path
/// that names nothing, the domain's `not_found` fallback applies to it.
fn is_visit(method: Method, path: &str) -> bool {
    matches!(method, Method::Get | Method::Head)
        && !route::is_operator_path(path)
        && !path.starts_with("/admin/")
}

async fn dispatch(
    route: Route,
    admitted: Option<&Operator>,
    req: &mut Request,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    // The operator `auth::permit` let in: there for every operator route.
    let op = || admitted.ok_or(ApiError::Unauthorized);
    match route {
        Route::Redirect { key, count_click } => {
            redirect::redirect(cx.name_here(key), count_click, None, req, cx).await
        }
        Route::Unlock { key } => {
            let offered = body::read_form_field(req, "password", MAX_BODY_BYTES).await?;
            redirect::redirect(cx.name_here(key), true, Some(offered), req, cx).await
        }
        Route::Home => service::home(accepts_html(req), cx),
        Route::Health => service::health(cx).await,
        Route::Static => Err(ApiError::NotFound),
        Route::Dashboard => service::dashboard(),
        Route::BenchCounters => Ok(response::json(OK, &counters::snapshot())?),
        Route::Create => links::create(req, cx).await,
        Route::Peek { key } => redirect::peek(&cx.name_here(key), accepts_html(req), cx).await,
        Route::Qr { key } => redirect::qr(&cx.name_here(key), cx).await,
        Route::AdminShow { secret } if accepts_html(req) => links::admin_page(&secret, cx).await,
        Route::AdminShow { secret } => {
            links::show(&LinkRef::Secret(&secret.hash()), Some(&secret), cx).await
        }
        Route::AdminForm { secret } => links::admin_form(req, &secret, cx).await,
        Route::AdminPatch { secret } => {
            links::patch(
                req,
                &LinkRef::Secret(&secret.hash()),
                Some(&secret),
                None,
                cx,
            )
            .await
        }
        Route::AdminDeactivate { secret } => {
            links::deactivate(&LinkRef::Secret(&secret.hash()), None, cx).await
        }
        Route::AdminStats { secret } => links::stats(&LinkRef::Secret(&secret.hash()), cx).await,
        Route::AdminVisits { secret } => links::visits(&LinkRef::Secret(&secret.hash()), cx).await,
        Route::AdminCheck { secret } => {
            links::check(&LinkRef::Secret(&secret.hash()), Some(&secret), cx).await
        }
        Route::ApiCheck { key } => {
            let op = op()?;
            let name = op.name(key, cx)?;
            links::check(&op.link(&name), None, cx).await
        }
        Route::ApiList => operator::list(op()?, cx).await,
        Route::ApiBulk => operator::bulk(req, op()?, cx).await,
        Route::ApiExport => operator::export(op()?, cx),
        Route::ApiTags => operator::tags(op()?, cx).await,
        Route::Robots => service::robots(cx).await,
        Route::ApiImport => import::import(req, op()?, cx).await,
        Route::ApiStats { key } => {
            let op = op()?;
            let name = op.name(key, cx)?;
            links::stats(&op.link(&name), cx).await
        }
        Route::ApiShow { key } => {
            let op = op()?;
            let name = op.name(key, cx)?;
            links::show(&op.link(&name), None, cx).await
        }
        Route::ApiPatch { key } => {
            let op = op()?;
            let name = op.name(key, cx)?;
            links::patch(req, &op.link(&name), None, Some(op), cx).await
        }
        Route::ApiDelete { key } => {
            let op = op()?;
            let name = op.name(key, cx)?;
            links::deactivate(&op.link(&name), Some(op), cx).await
        }
        Route::KeysList => keys::list(op()?, cx).await,
        Route::KeysCreate => keys::create(req, op()?, cx).await,
        Route::KeyShow { id } => keys::show(&id, op()?, cx).await,
        Route::KeyRevoke { id } => keys::revoke(&id, op()?, cx).await,
        Route::AuditList => keys::audit(op()?, cx).await,
        Route::AuditExport => keys::audit_export(op()?, cx),
        Route::ApiDomains => operator::domains(op()?, cx).await,
        Route::ApiMe => keys::me(op()?, cx),
    }
}
