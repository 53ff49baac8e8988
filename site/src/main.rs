//! Builds the worker's static assets, the directory that `[assets]` in wrangler.toml
//! names, so that none of it costs wasm bytes. Workers Static Assets serves a file
//! before the worker runs (on Cloudflare and under `wrangler dev` and Miniflare alike):
//!
//! - every file of `src/assets/` at `/static/<name>` (the pages' stylesheet, scripts and
//!   icon; a file added there is served with no other change), except `openapi.json`;
//! - `src/assets/openapi.json`, compacted, at `/openapi.json`;
//! - the API reference at `/docs` (`docs.html`, rendered here, see `docs.rs`);
//! - the interactive console at `/docs/try` (`docs/try.html`) and the Swagger UI files
//!   it loads, copied from `node_modules/swagger-ui-dist` (a pinned devDependency) to
//!   `/vendor/swagger-ui-<version>/`;
//! - `_headers`: the caching and security headers of all of them (`headers.rs`).
//!
//! `make build` runs it: `cargo run -p shortener-site -- <directory>`.

mod docs;
mod headers;

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use shortener::http::route::{resolve, Method, NoRoute, Route};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The npm package of the console, and the files of it the page loads.
const SWAGGER_UI: &str = "node_modules/swagger-ui-dist";
const SWAGGER_UI_FILES: [&str; 4] = [
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "LICENSE",
    "NOTICE",
];

fn main() -> std::process::ExitCode {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: shortener-site <output directory>");
        return std::process::ExitCode::from(2);
    };
    match build(
        Path::new(env!("CARGO_MANIFEST_DIR")).parent(),
        Path::new(&out),
    ) {
        Ok(files) => {
            println!("site: {files} files in {}", Path::new(&out).display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("site: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The line of `src/assets/dashboard.js` that this build fills with the import's fields.
const IMPORT_FIELDS_LINE: &str = "const IMPORT_FIELDS = []; // filled by site/";

/// The dashboard's script with the fields an import item may carry, from the domain
/// (less `url`, only `target_url`'s alias), so the dashboard keeps no copy of the list.
fn with_import_fields(script: &str) -> Result<String> {
    let fields: Vec<&str> = shortener::domain::import::IMPORT_FIELDS
        .iter()
        .copied()
        .filter(|f| *f != "url")
        .collect();
    if !script.contains(IMPORT_FIELDS_LINE) {
        return Err(format!("src/assets/dashboard.js has no line '{IMPORT_FIELDS_LINE}'").into());
    }
    let line = format!(
        "const IMPORT_FIELDS = {}; // filled by site/ from the domain's IMPORT_FIELDS",
        serde_json::to_string(&fields)?
    );
    Ok(script.replacen(IMPORT_FIELDS_LINE, &line, 1))
}

fn build(root: Option<&Path>, out: &Path) -> Result<usize> {
    let root = root.ok_or("site/ has no parent directory")?;
    if out.exists() {
        fs::remove_dir_all(out)?;
    }
    let write = |rel: &str, body: &[u8]| -> Result<()> {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&path, body).map_err(|e| format!("{}: {e}", path.display()).into())
    };

    let assets = root.join("src/assets");
    let mut names: Vec<PathBuf> = fs::read_dir(&assets)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    names.sort();
    for path in names.iter().filter(|p| p.is_file()) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: not a UTF-8 name", path.display()))?;
        match name {
            "openapi.json" => {}
            "dashboard.js" => {
                let script = fs::read_to_string(path)?;
                write(
                    &format!("static/{name}"),
                    with_import_fields(&script)?.as_bytes(),
                )?;
            }
            _ => write(&format!("static/{name}"), &fs::read(path)?)?,
        }
    }

    let source = assets.join("openapi.json");
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&source)?)
        .map_err(|e| format!("{} is not valid JSON: {e}", source.display()))?;
    write("openapi.json", serde_json::to_string(&doc)?.as_bytes())?;
    write("docs.html", docs::page_of(&doc).as_bytes())?;

    let package = root.join(SWAGGER_UI);
    let manifest: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(package.join("package.json"))
            .map_err(|e| format!("{SWAGGER_UI}: {e} (run npm ci)"))?,
    )?;
    let version = manifest
        .get("version")
        .and_then(serde_json::Value::as_str)
        .ok_or("swagger-ui-dist has no version")?;
    let vendor = format!("vendor/swagger-ui-{version}");
    for file in SWAGGER_UI_FILES {
        write(&format!("{vendor}/{file}"), &fs::read(package.join(file))?)?;
    }
    write("docs/try.html", console_page(&vendor).as_bytes())?;
    write("_headers", headers::file().as_bytes())?;

    let served = served_paths(out)?;
    for path in &served {
        shadows_nothing(path)?;
    }
    Ok(served.len())
}

/// The URL path of every file served from `out`, as Workers Static Assets maps them
/// with its default `html_handling` (`auto-trailing-slash`): `docs.html` at `/docs`.
fn served_paths(out: &Path) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    let mut dirs = vec![out.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(out)?
                .to_str()
                .ok_or("not a UTF-8 path")?
                .replace('\\', "/");
            if rel == "_headers" {
                continue;
            }
            paths.push(url_path(&rel));
        }
    }
    paths.sort();
    Ok(paths)
}

fn url_path(rel: &str) -> String {
    match rel.strip_suffix(".html") {
        Some(page) => format!("/{}", page.strip_suffix("index").unwrap_or(page)),
        None => format!("/{rel}"),
    }
}

/// Assets are served before the worker runs, so a file whose path the worker routes
/// would hide that route: a file at `/abc` would hide the short link `abc` for good.
/// Only the paths the router hands to the assets on purpose may be files.
fn shadows_nothing(path: &str) -> Result<()> {
    match resolve(Method::Get, path) {
        Ok(Route::Static) | Err(NoRoute::NotFound) => Ok(()),
        Ok(route) => {
            Err(format!("the static file {path} would hide the worker's {route:?}").into())
        }
        Err(NoRoute::MethodNotAllowed(_)) => {
            Err(format!("the static file {path} would hide a worker route").into())
        }
    }
}

/// The console page: Swagger UI in this service's frame, with a way back to the
/// reference for readers without JavaScript.
fn console_page(vendor: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API console — shortener</title>\
         <link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/{vendor}/swagger-ui.css\">\
         <link rel=\"stylesheet\" href=\"/static/console.css\">\
         <script src=\"/{vendor}/swagger-ui-bundle.js\" defer></script>\
         <script src=\"/static/console.js\" defer></script></head>\
         <body><header class=\"frame\"><a class=\"brand\" href=\"/\">\
         <img src=\"/static/favicon.svg\" alt=\"\" width=\"22\" height=\"22\">shortener</a>\
         <nav><a href=\"/docs\">API reference</a> · <a href=\"/dashboard\">Dashboard</a></nav></header>\
         <main><div class=\"intro\"><h1>API console</h1>\
         <p>Calls go to this service. For the operator API, choose <strong>Authorize</strong> \
         and paste the <code>ADMIN_TOKEN</code> or an API key.</p>\
         <noscript><p>The console needs JavaScript. The <a href=\"/docs\">API reference</a> \
         reads without it.</p></noscript></div>\
         <div id=\"swagger-ui\"></div></main></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_is_served_with_the_domain_s_import_fields_and_no_copy_of_its_own() {
        let source = include_str!("../../src/assets/dashboard.js");
        let served = with_import_fields(source).unwrap();
        let line = served
            .lines()
            .find(|l| l.starts_with("const IMPORT_FIELDS = "))
            .unwrap();
        for field in shortener::domain::import::IMPORT_FIELDS {
            assert_eq!(
                line.contains(&format!("\"{field}\"")),
                *field != "url",
                "{field}"
            );
        }
        assert!(with_import_fields("const IMPORT_FIELDS = [\"key\"];").is_err());
    }

    #[test]
    fn every_operation_is_filed_under_one_declared_tag_so_the_console_groups_it() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../src/assets/openapi.json")).unwrap();
        let declared: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(declared.len() >= 4, "{declared:?}");
        let mut used = std::collections::BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                let tags: Vec<&str> = op["tags"]
                    .as_array()
                    .map(|t| t.iter().filter_map(|t| t.as_str()).collect())
                    .unwrap_or_default();
                assert_eq!(tags.len(), 1, "{method} {path} has tags {tags:?}");
                assert!(declared.contains(&tags[0]), "{method} {path}: {tags:?}");
                used.insert(tags[0]);
            }
        }
        assert_eq!(
            used.len(),
            declared.len(),
            "a declared tag with no operation"
        );
    }

    #[test]
    fn html_files_are_served_without_their_extension() {
        assert_eq!(url_path("docs.html"), "/docs");
        assert_eq!(url_path("docs/try.html"), "/docs/try");
        assert_eq!(url_path("docs/index.html"), "/docs/");
        assert_eq!(url_path("static/app.css"), "/static/app.css");
    }

    #[test]
    fn a_file_may_not_hide_a_short_link_or_a_route() {
        for ok in [
            "/docs",
            "/openapi.json",
            "/docs/try",
            "/static/app.css",
            "/static/admin.js",
            "/vendor/swagger-ui-5.35.0/swagger-ui.css",
        ] {
            assert!(shadows_nothing(ok).is_ok(), "{ok}");
        }
        for hides in [
            "/abc",
            "/vendor",
            "/abc+",
            "/abc/qr",
            "/healthz",
            "/api/links",
        ] {
            assert!(shadows_nothing(hides).is_err(), "{hides}");
        }
    }

    #[test]
    fn the_site_builds_from_the_repository() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent();
        let out = std::env::temp_dir().join(format!("shortener-site-{}", std::process::id()));
        if !Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(SWAGGER_UI)
            .exists()
        {
            eprintln!("skipped: no {SWAGGER_UI} (npm ci)");
            return;
        }
        build(root, &out).unwrap();
        let served = served_paths(&out).unwrap();
        for path in [
            "/docs",
            "/docs/try",
            "/openapi.json",
            "/static/app.css",
            "/static/favicon.svg",
        ] {
            assert!(served.iter().any(|p| p == path), "{path} in {served:?}");
        }
        assert!(!served.iter().any(|p| p == "/static/openapi.json"));
        fs::remove_dir_all(out).unwrap();
    }
}
