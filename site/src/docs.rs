//! The `/docs` page: the OpenAPI document rendered once, at build time, into a static
//! HTML page: a table of contents, the Markdown of its descriptions rendered, every
//! schema as a table of its properties. Plain HTML under the pages' strict CSP, so it
//! reads the same with JavaScript off.

use pulldown_cmark::{html, Event, Options, Parser};
use serde_json::{Map, Value};
use shortener::web::html::{escape, page};

/// Where the interactive console lives (`docs/try.html` in the assets).
pub const CONSOLE_PATH: &str = "/docs/try";

/// Markdown to HTML. The source is this repository's own OpenAPI document; raw HTML in
/// it is still shown as text rather than passed through, so a stray `<` in a
/// description cannot break the page.
pub fn markdown(src: &str) -> String {
    let events =
        Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|event| {
            match event {
                Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
                other => other,
            }
        });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// Markdown of at most one paragraph, for a table cell or a heading's line: without
/// the `<p>` around it. Longer text keeps its paragraphs.
pub fn markdown_inline(src: &str) -> String {
    let html = markdown(src);
    let trimmed = html.trim_end();
    match trimmed
        .strip_prefix("<p>")
        .and_then(|rest| rest.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The sections of the page, in reading order: (anchor, heading), and which paths
/// belong to each. The OpenAPI document has no tags; the paths say who calls them.
const GROUPS: [(&str, &str); 5] = [
    ("links", "Creating and following links"),
    ("owner", "A link's owner (the admin URL)"),
    ("operator", "Operator API"),
    ("keys", "API keys and the audit log"),
    ("service", "The service"),
];

fn group_of(path: &str) -> &'static str {
    if path.starts_with("/api/keys") || path.starts_with("/api/audit") {
        "keys"
    } else if path.starts_with("/api/") {
        "operator"
    } else if path.starts_with("/admin/") {
        "owner"
    } else if path == "/url" || path.starts_with("/{key}") {
        "links"
    } else {
        "service"
    }
}

/// One operation of the document, in document order.
struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    op: &'a Value,
}

impl Operation<'_> {
    /// The anchor: the operation's id (every operation has one; a test holds to it).
    fn anchor(&self) -> String {
        let id = text(self.op, "operationId");
        if id.is_empty() {
            format!("{}-{}", self.method, slug(self.path))
        } else {
            format!("op-{id}")
        }
    }
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn schema_anchor(name: &str) -> String {
    format!("schema-{}", slug(name))
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            out.push(Operation { method, path, op });
        }
    }
    out
}

/// The type of a schema as HTML: a link to a named schema, or a short description of
/// an inline one with its bounds.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!(
            "<a href=\"#{}\"><code>{}</code></a>",
            schema_anchor(name),
            escape(name)
        );
    }
    for (key, joiner) in [("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            return parts.iter().map(type_of).collect::<Vec<_>>().join(joiner);
        }
    }
    let mut out = match schema.get("type") {
        Some(Value::String(t)) if t == "array" => format!(
            "array of {}",
            schema.get("items").map(type_of).unwrap_or_default()
        ),
        Some(Value::String(t)) => escape(t),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(escape)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "object".to_string(),
    };
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        out.push_str(&format!(" ({})", escape(format)));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", escape(&v.to_string())))
            .collect();
        out.push_str(&format!(": one of {}", values.join(", ")));
    }
    let bound = |name: &str| schema.get(name).map(Value::to_string);
    let bounds: Vec<String> = [
        ("minLength", "at least", " characters"),
        ("maxLength", "at most", " characters"),
        ("minItems", "at least", " items"),
        ("maxItems", "at most", " items"),
        ("minimum", "at least", ""),
        ("maximum", "at most", ""),
    ]
    .into_iter()
    .filter_map(|(name, word, unit)| bound(name).map(|n| format!("{word} {}{unit}", escape(&n))))
    .chain(bound("default").map(|d| format!("default <code>{}</code>", escape(&d))))
    .collect();
    if !bounds.is_empty() {
        out.push_str(&format!(
            " <span class=\"hint\">({})</span>",
            bounds.join(", ")
        ));
    }
    out
}

/// A table of `(name, type, meaning)` rows with a caption, readable at phone width
/// (app.css: `.doc-table`).
fn table(caption: &str, heads: [&str; 3], rows: &[[String; 3]]) -> String {
    let mut html = format!(
        "<table class=\"doc-table\"><caption>{}</caption><thead><tr>",
        escape(caption)
    );
    for h in heads {
        html.push_str(&format!("<th scope=\"col\">{}</th>", escape(h)));
    }
    html.push_str("</tr></thead><tbody>");
    for [a, b, c] in rows {
        html.push_str(&format!("<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>"));
    }
    html.push_str("</tbody></table>");
    html
}

fn render_operation(o: &Operation) -> String {
    let op = o.op;
    let mut html = format!(
        "<section class=\"op\"><h3 id=\"{0}\"><span class=\"m\">{1}</span> <code>{2}</code></h3><p>{3}</p>",
        o.anchor(),
        escape(&o.method.to_uppercase()),
        escape(o.path),
        markdown_inline(text(op, "summary"))
    );
    let description = text(op, "description");
    if !description.is_empty() {
        html.push_str(&markdown(description));
    }
    if op.get("security").is_some() {
        html.push_str(
            "<p>Needs <code>Authorization: Bearer &lt;token&gt;</code>: the <code>ADMIN_TOKEN</code>, \
             or an API key whose role allows this call (see <a href=\"#auth\">Authorization</a>).</p>",
        );
    }
    if let Some(params) = op["parameters"].as_array() {
        let rows: Vec<[String; 3]> = params
            .iter()
            .map(|p| {
                let required = if p["required"] == Value::Bool(true) {
                    ", required"
                } else {
                    ""
                };
                [
                    format!("<code>{}</code>", escape(text(p, "name"))),
                    format!(
                        "{} in {}{required}",
                        p.get("schema").map(type_of).unwrap_or_default(),
                        escape(text(p, "in"))
                    ),
                    markdown_inline(text(p, "description")),
                ]
            })
            .collect();
        html.push_str(&table(
            "Parameters",
            ["parameter", "type", "meaning"],
            &rows,
        ));
    }
    if let Some(content) = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
    {
        for (media, body) in content {
            html.push_str(&format!(
                "<p>Body (<code>{}</code>): {}</p>",
                escape(media),
                body.get("schema").map(type_of).unwrap_or_default()
            ));
        }
    }
    let rows: Vec<[String; 3]> = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, res)| {
            let bodies: Vec<String> = res["content"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(media, c)| {
                    format!(
                        "<code>{}</code>{}",
                        escape(media),
                        c.get("schema")
                            .filter(|s| s.get("$ref").is_some())
                            .map(|s| format!(": {}", type_of(s)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            [
                escape(status),
                markdown_inline(text(res, "description")),
                bodies.join("<br>"),
            ]
        })
        .collect();
    html.push_str(&table("Responses", ["status", "meaning", "body"], &rows));
    html.push_str("</section>");
    html
}

fn render_schema(name: &str, schema: &Value) -> String {
    let anchor = schema_anchor(name);
    let mut html = format!(
        "<section class=\"op\"><h3 id=\"{anchor}\"><code>{}</code></h3>",
        escape(name)
    );
    let description = text(schema, "description");
    if !description.is_empty() {
        html.push_str(&markdown(description));
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let empty = Map::new();
    let properties = schema["properties"].as_object().unwrap_or(&empty);
    if properties.is_empty() {
        html.push_str(&format!("<p>{}</p>", type_of(schema)));
    } else {
        let rows: Vec<[String; 3]> = properties
            .iter()
            .map(|(prop, s)| {
                let req = if required.contains(&prop.as_str()) {
                    ", required"
                } else {
                    ""
                };
                [
                    format!("<code>{}</code>", escape(prop)),
                    format!("{}{req}", type_of(s)),
                    markdown_inline(text(s, "description")),
                ]
            })
            .collect();
        html.push_str(&table("Fields", ["field", "type", "meaning"], &rows));
        match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => html.push_str("<p>No other fields are accepted.</p>"),
            Some(extra @ Value::Object(_)) => {
                html.push_str(&format!("<p>Other fields: {}.</p>", type_of(extra)))
            }
            _ => {}
        }
    }
    html.push_str("</section>");
    html
}

/// The docs page of an OpenAPI document.
pub fn page_of(doc: &Value) -> String {
    let info = &doc["info"];
    let ops = operations(doc);
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let mut html = format!(
        "<div class=\"docs\"><h1>{} API {}</h1>{}\
         <p>Try every call from the browser in the <a href=\"{CONSOLE_PATH}\">interactive console</a> \
         (it needs JavaScript). Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>.</p>",
        escape(text(info, "title")),
        escape(text(info, "version")),
        markdown(text(info, "description")),
    );

    // The table of contents: each section, its operations, and the schemas.
    html.push_str("<nav class=\"toc\" aria-labelledby=\"toc\"><h2 id=\"toc\">Contents</h2><ol>");
    html.push_str("<li><a href=\"#auth\">Authorization</a></li>");
    for (id, title) in GROUPS {
        let members: Vec<&Operation> = ops.iter().filter(|o| group_of(o.path) == id).collect();
        if members.is_empty() {
            continue;
        }
        html.push_str(&format!("<li><a href=\"#{id}\">{}</a><ul>", escape(title)));
        for o in members {
            html.push_str(&format!(
                "<li><a href=\"#{}\"><span class=\"m\">{}</span> <code>{}</code></a></li>",
                o.anchor(),
                escape(&o.method.to_uppercase()),
                escape(o.path)
            ));
        }
        html.push_str("</ul></li>");
    }
    if let Some(schemas) = schemas {
        html.push_str("<li><a href=\"#schemas\">Schemas</a><ul class=\"inline\">");
        for name in schemas.keys() {
            html.push_str(&format!(
                "<li><a href=\"#{}\"><code>{}</code></a></li>",
                schema_anchor(name),
                escape(name)
            ));
        }
        html.push_str("</ul></li>");
    }
    html.push_str("</ol></nav>");

    let scheme = doc.pointer("/components/securitySchemes/bearerAuth");
    html.push_str(&format!(
        "<h2 id=\"auth\">Authorization</h2>{}<p>Calls marked as needing a token take \
         <code>Authorization: Bearer &lt;token&gt;</code>. In the console, choose \
         <strong>Authorize</strong> and paste the token.</p>",
        scheme
            .map(|s| markdown(text(s, "description")))
            .unwrap_or_default()
    ));

    for (id, title) in GROUPS {
        let members: Vec<&Operation> = ops.iter().filter(|o| group_of(o.path) == id).collect();
        if members.is_empty() {
            continue;
        }
        // Each section folds (no script: <details>), open by default so the page still
        // reads top to bottom and a link into it lands on what it names.
        html.push_str(&format!(
            "<details class=\"section\" open><summary><h2 id=\"{id}\">{}</h2></summary>",
            escape(title)
        ));
        for o in members {
            html.push_str(&render_operation(o));
        }
        html.push_str("</details>");
    }
    if let Some(schemas) = schemas {
        html.push_str(
            "<details class=\"section\" open><summary><h2 id=\"schemas\">Schemas</h2></summary>",
        );
        for (name, schema) in schemas {
            html.push_str(&render_schema(name, schema));
        }
        html.push_str("</details>");
    }
    html.push_str("</div>");
    page("API — shortener", &html, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shortener::http::route::ROUTES;

    fn doc() -> Value {
        serde_json::from_str(include_str!("../../src/assets/openapi.json")).unwrap()
    }

    #[test]
    fn the_docs_page_shows_every_path_and_every_operation_in_its_contents() {
        let html = page_of(&doc());
        for (path, _) in ROUTES {
            assert!(
                html.contains(&format!("<code>{}</code>", escape(path))),
                "{path}"
            );
        }
        for o in operations(&doc()) {
            assert!(
                !text(o.op, "operationId").is_empty(),
                "{} {}",
                o.method,
                o.path
            );
            let anchor = o.anchor();
            assert!(
                html.contains(&format!("href=\"#{anchor}\"")),
                "{anchor} in the contents"
            );
            assert!(
                html.contains(&format!("id=\"{anchor}\"")),
                "{anchor} in the page"
            );
        }
        assert!(!html.contains("<script"));
    }

    #[test]
    fn every_link_inside_the_page_has_its_target() {
        let html = page_of(&doc());
        for href in html.split("href=\"#").skip(1) {
            let anchor = href.split('"').next().unwrap();
            assert!(html.contains(&format!("id=\"{anchor}\"")), "#{anchor}");
        }
    }

    #[test]
    fn markdown_is_rendered_and_raw_html_is_shown_as_text() {
        assert_eq!(
            markdown_inline("Send `reuse: true` to [reuse](https://example.com/a) one."),
            "Send <code>reuse: true</code> to <a href=\"https://example.com/a\">reuse</a> one."
        );
        assert_eq!(
            markdown_inline("a <b>bold</b> claim"),
            "a &lt;b&gt;bold&lt;/b&gt; claim"
        );
        assert_eq!(markdown("x\n\ny"), "<p>x</p>\n<p>y</p>\n");
        assert_eq!(markdown_inline("x\n\ny"), "<p>x</p>\n<p>y</p>\n");
    }

    #[test]
    fn types_name_their_schemas_and_bounds() {
        let t = |v: Value| type_of(&v);
        assert_eq!(
            t(serde_json::json!({"$ref": "#/components/schemas/Link"})),
            "<a href=\"#schema-Link\"><code>Link</code></a>"
        );
        assert_eq!(
            t(serde_json::json!({"type": "array", "items": {"type": "string"}})),
            "array of string"
        );
        assert_eq!(
            t(serde_json::json!({"type": "integer", "minimum": 1})),
            "integer <span class=\"hint\">(at least 1)</span>"
        );
        assert_eq!(
            t(serde_json::json!({"type": "string", "enum": ["a", "b"]})),
            "string: one of <code>&quot;a&quot;</code>, <code>&quot;b&quot;</code>"
        );
    }
}
