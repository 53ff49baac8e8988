//! Request handlers: one function per route, all returning `Result<Response, ApiError>`.

mod links;
mod redirect;
mod service;

use worker::{Context, Env, Request, Response};

use crate::config::Config;
use crate::http::error::ApiError;
use crate::http::route::{self, Method, NoRoute, Route};

/// What every handler may need about the request it serves.
pub struct Ctx {
    pub env: Env,
    pub ctx: Context,
    /// `BASE_URL`, or the request's own origin: the prefix of every short URL.
    pub origin: String,
    /// Host names this service answers on; targets on them would loop.
    pub own_hosts: Vec<String>,
}

impl Ctx {
    fn new(req: &Request, env: Env, ctx: Context) -> Result<Ctx, ApiError> {
        let config = Config::from_env(&env);
        let url = req.url()?;
        let mut own_hosts: Vec<String> = url.host_str().map(str::to_string).into_iter().collect();
        let origin = match config.base_url {
            Some(base) => {
                if let Some(host) = url::Url::parse(&base)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                {
                    own_hosts.push(host);
                }
                base
            }
            None => url.origin().ascii_serialization(),
        };
        Ok(Ctx {
            env,
            ctx,
            origin,
            own_hosts,
        })
    }

    pub fn own_hosts(&self) -> Vec<&str> {
        self.own_hosts.iter().map(String::as_str).collect()
    }
}

/// Routes a request and turns any failure into its JSON error response.
pub async fn handle(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // The raw method, not `req.method()`, which maps unknown methods to GET.
    let method = Method::parse(&req.inner().method());
    let path = req.path();
    let result = match route::resolve(method, &path) {
        Ok(route) => match Ctx::new(&req, env, ctx) {
            Ok(cx) => dispatch(route, &mut req, cx).await,
            Err(e) => Err(e),
        },
        Err(NoRoute::NotFound) => Err(ApiError::NotFound),
        Err(NoRoute::MethodNotAllowed(allowed)) => Err(ApiError::MethodNotAllowed(allowed)),
    };
    result.or_else(ApiError::into_response)
}

async fn dispatch(route: Route, req: &mut Request, cx: Ctx) -> Result<Response, ApiError> {
    match route {
        Route::Home => service::home(&cx),
        Route::Health => service::health(&cx).await,
        Route::Create => links::create(req, &cx).await,
        Route::Redirect { key, count_click } => redirect::redirect(key, count_click, cx).await,
        Route::Peek { key } => redirect::peek(&key, &cx).await,
        Route::AdminShow { secret } => links::show(&secret, &cx).await,
        Route::AdminDeactivate { secret } => links::deactivate(&secret, &cx).await,
    }
}
