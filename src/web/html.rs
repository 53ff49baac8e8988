//! Escaping and the page frame shared by every HTML answer.

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `title` is text (escaped here), `main` is markup (already escaped).
pub fn page(title: &str, main: &str, with_script: bool) -> String {
    let scripts: &[&str] = if with_script {
        &["/static/app.js"]
    } else {
        &[]
    };
    page_with_scripts(title, main, scripts)
}

/// A whole page that loads `scripts` (the service's own, by path), in this order.
pub fn page_with_scripts(title: &str, main: &str, scripts: &[&str]) -> String {
    let script: String = scripts
        .iter()
        .map(|src| format!("<script src=\"{}\" defer></script>", escape(src)))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"apple-touch-icon\" href=\"/static/apple-touch-icon.png\">\
         <link rel=\"manifest\" href=\"/static/site.webmanifest\">\
         <meta name=\"theme-color\" content=\"#1f5bc4\">\
         <link rel=\"stylesheet\" href=\"/static/app.css\">{script}</head>\
         <body><header><a class=\"brand\" href=\"/\">\
         <img src=\"/static/favicon.svg\" alt=\"\" width=\"22\" height=\"22\">shortener</a>\
         <nav><a href=\"/docs\">API</a></nav></header><main>{main}</main></body></html>",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn pages_name_only_their_own_assets() {
        let html = page("<t>", "<p>x</p>", true);
        assert!(html.contains("<title>&lt;t&gt;</title>"));
        assert!(html.contains("src=\"/static/app.js\""));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!page("t", "", false).contains("<script"));
        let board = page_with_scripts("t", "", &["/static/settings.js", "/static/dashboard.js"]);
        assert!(board.contains("src=\"/static/dashboard.js\"") && !board.contains("app.js"));
        // Deferred scripts run in document order: the shared settings script first.
        assert!(board.contains(
            "<script src=\"/static/settings.js\" defer></script><script src=\"/static/dashboard.js\" defer>"
        ));
    }
}
