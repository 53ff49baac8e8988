//! The `_headers` file of the static assets: Workers Static Assets (and Miniflare, which
//! tests/browser.test.mjs checks) adds these to the files it serves. The worker's own
//! answers carry the same security headers from `http/response.rs`.

use shortener::http::response::PAGE_CSP;

/// The console's policy: the pages' policy, loosened only where Swagger UI needs it.
/// Its React components set `style` attributes, which `style-src 'self'` refuses
/// (the page would render unstyled), and its stylesheet draws icons as `data:` SVG
/// images. Scripts stay `'self'` only: no inline script, nothing from a CDN.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// How long browsers and caches keep a file whose URL does not change with its
/// content: five minutes, as the worker kept them when it served them, so a deploy is
/// seen within five minutes; after that the asset's ETag makes a recheck cheap.
const SHORT: &str = "public, max-age=300";
/// The vendored console's files sit under a path with its version, so they never
/// change under the same URL.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The whole file.
pub fn file() -> String {
    let rules: [(&str, &[(&str, &str)]); 6] = [
        (
            "/*",
            &[
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "strict-origin-when-cross-origin"),
            ],
        ),
        (
            "/docs",
            &[
                ("Content-Security-Policy", PAGE_CSP),
                ("Cache-Control", SHORT),
            ],
        ),
        (
            "/docs/try",
            &[
                ("Content-Security-Policy", CONSOLE_CSP),
                ("Cache-Control", SHORT),
            ],
        ),
        ("/openapi.json", &[("Cache-Control", SHORT)]),
        ("/static/*", &[("Cache-Control", SHORT)]),
        ("/vendor/*", &[("Cache-Control", IMMUTABLE)]),
    ];
    let mut out = String::from(
        "# Written by site/ (make build): the headers Workers Static Assets adds to these files.\n",
    );
    for (path, headers) in rules {
        out.push_str(path);
        out.push('\n');
        for (name, value) in headers {
            out.push_str(&format!("  {name}: {value}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_loosens_only_styles_and_images() {
        let strict: Vec<&str> = PAGE_CSP.split("; ").collect();
        let console: Vec<&str> = CONSOLE_CSP.split("; ").collect();
        let changed: Vec<&&str> = console.iter().filter(|d| !strict.contains(d)).collect();
        assert_eq!(
            changed,
            [&"style-src 'self' 'unsafe-inline'", &"img-src 'self' data:"]
        );
        assert!(console.contains(&"script-src 'self'"));
    }

    #[test]
    fn every_line_is_a_path_a_header_or_a_comment() {
        for line in file().lines() {
            assert!(
                line.starts_with('/') || line.starts_with("  ") || line.starts_with('#'),
                "{line:?}"
            );
        }
    }
}
