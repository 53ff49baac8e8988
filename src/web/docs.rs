//! The `/docs` page: the OpenAPI document rendered on the server as one self-contained
//! page, so it needs no script and no CDN.

use serde_json::Value;

use super::html::{escape, page as html_page};

/// The OpenAPI 3.1 description of every route (a unit test holds it to the router),
/// compacted at build time from `src/assets/openapi.json` (see `build.rs`).
pub const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// The docs page of an OpenAPI document.
pub fn page(openapi: &str) -> Result<String, serde_json::Error> {
    let doc: Value = serde_json::from_str(openapi)?;
    Ok(render_docs(&doc))
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The name of a `$ref`, or a short description of an inline schema.
fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match schema.get("type") {
        Some(Value::String(t)) if t == "array" => format!(
            "array of {}",
            schema.get("items").map(schema_name).unwrap_or_default()
        ),
        Some(Value::String(t)) => t.clone(),
        _ => "object".into(),
    }
}

fn render_docs(doc: &Value) -> String {
    let mut html = String::new();
    let info = &doc["info"];
    html.push_str(&format!(
        "<h1>{} API {}</h1><p>{}</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a></p>",
        escape(text(info, "title")),
        escape(text(info, "version")),
        escape(text(info, "description"))
    ));
    html.push_str("<h2>Endpoints</h2>");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, ops) in paths {
            for (method, op) in ops.as_object().into_iter().flatten() {
                html.push_str(&format!(
                    "<div class=\"op\"><p><span class=\"m\">{}</span> <code>{}</code> — {}</p>",
                    escape(method),
                    escape(path),
                    escape(text(op, "summary"))
                ));
                if !text(op, "description").is_empty() {
                    html.push_str(&format!("<p>{}</p>", escape(text(op, "description"))));
                }
                if op.get("security").is_some() {
                    html.push_str(
                        "<p>Requires <code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code>.</p>",
                    );
                }
                if let Some(params) = op["parameters"].as_array() {
                    html.push_str("<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>");
                    for p in params {
                        html.push_str(&format!(
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                            escape(text(p, "name")),
                            escape(text(p, "in")),
                            escape(text(p, "description"))
                        ));
                    }
                    html.push_str("</table>");
                }
                if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                    html.push_str(&format!(
                        "<p>Body: <code>{}</code> (JSON)</p>",
                        escape(&schema_name(schema))
                    ));
                }
                html.push_str("<table><tr><th>status</th><th>meaning</th></tr>");
                for (status, res) in op["responses"].as_object().into_iter().flatten() {
                    html.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td></tr>",
                        escape(status),
                        escape(text(res, "description"))
                    ));
                }
                html.push_str("</table></div>");
            }
        }
    }
    html.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let schema_json = serde_json::to_string(schema).unwrap_or_default();
            html.push_str(&format!(
                "<h3 id=\"{0}\">{0}</h3><pre>{1}</pre>",
                escape(name),
                escape(&schema_json)
            ));
        }
    }
    html_page("API — shortener", &html, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::route::ROUTES;
    use std::collections::BTreeSet;

    #[test]
    fn the_openapi_document_lists_exactly_the_routes_the_router_knows() {
        let doc: Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| (path.clone(), m.to_uppercase()))
            })
            .collect();
        // HEAD is implied by GET and described once in info.description.
        let routed: BTreeSet<(String, String)> = ROUTES
            .iter()
            .flat_map(|(path, allow)| {
                allow
                    .split(", ")
                    .filter(|m| *m != "HEAD")
                    .map(move |m| (path.to_string(), m.to_string()))
            })
            .collect();
        assert_eq!(documented, routed);
    }

    #[test]
    fn every_operation_documents_its_responses_and_path_parameters() {
        let doc: Value = serde_json::from_str(OPENAPI).unwrap();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                assert!(
                    !op["responses"].as_object().unwrap().is_empty(),
                    "{method} {path}"
                );
                for name in ["key", "secret_key"] {
                    if path.contains(&format!("{{{name}}}")) {
                        let params = op["parameters"].as_array().unwrap();
                        assert!(
                            params
                                .iter()
                                .any(|p| p["name"] == name && p["in"] == "path"),
                            "{method} {path}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_docs_page_shows_every_path_and_escapes_text() {
        let doc: Value = serde_json::from_str(OPENAPI).unwrap();
        let html = render_docs(&doc);
        for (path, _) in ROUTES {
            assert!(
                html.contains(&format!("<code>{}</code>", escape(path))),
                "{path}"
            );
        }
        assert!(!html.contains("<script"));
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
