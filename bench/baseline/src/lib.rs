//! The benchmark baseline: answers every request with the same 302, touching no binding.

use worker::{event, Context, Env, Request, Response, Result, Url};

/// Where every request is sent; a constant, like a cached short link.
const TARGET: &str = "https://example.com/";

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    Response::redirect_with_status(Url::parse(TARGET)?, 302)
}
