//! Fuzzes request routing: any method and path resolve to a route or a clean refusal,
//! and a refusal for a wrong method always names methods from the route table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shortener::http::route::{resolve, Method, NoRoute, ROUTES};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, path)) = data.split_first() else { return };
    let Ok(path) = std::str::from_utf8(path) else { return };
    let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW"];
    let method = Method::parse(methods[usize::from(selector) % methods.len()]);
    if let Err(NoRoute::MethodNotAllowed(allow)) = resolve(method, path) {
        assert!(ROUTES.iter().any(|(_, a)| *a == allow));
    }
});
