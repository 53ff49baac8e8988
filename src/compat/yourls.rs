//! YOURLS's API (`/yourls-api.php`).

use worker::Request;

use crate::handlers::context::Ctx;
use crate::http::response::{self, Reply};
use crate::http::route::Method;

pub async fn handle(_method: Method, _req: &mut Request, _cx: &Ctx) -> worker::Result<Reply> {
    response::typed(404, "application/json", br#"{"errorCode":404}"#.to_vec())
}
