//! The runtime's own WHATWG URL parser, which carries the Unicode (IDNA) tables the
//! `url` crate here is built without (see Cargo.toml): the one place that calls it.

/// The ASCII serialization of `raw` (punycode host, percent-encoded path), or `None` if
/// the runtime refuses it. The domain's `TargetPolicy::to_ascii` in the worker.
pub fn to_ascii(raw: &str) -> Option<String> {
    web_sys::Url::new(raw).ok().map(|url| url.href())
}
