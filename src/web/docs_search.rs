//! The search of the API reference (`GET /docs/search?q=`): the query parsed, the
//! entries of `/docs/search.json` (written by `site/src/docs.rs`) that hold every word
//! of it, and the page that shows them. `/docs` itself is a static file with no script,
//! so its search is answered here, on the server.

use serde_json::Value;

use super::html::{escape, page};

/// The longest query taken, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// A search: its words, in lower case; none for an empty query.
pub struct Query {
    shown: String,
    words: Vec<String>,
}

impl Query {
    /// Parses the `q` parameter; `Err` is a sentence for a query that is too long.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let shown = raw.unwrap_or("").trim().to_string();
        if shown.chars().count() > MAX_QUERY_CHARS {
            return Err(format!(
                "field 'q' must be at most {MAX_QUERY_CHARS} characters"
            ));
        }
        let words = shown
            .to_lowercase()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        Ok(Query { shown, words })
    }

    /// Whether there is anything to search for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// One entry of the index that matched.
pub struct Hit<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub html: &'a str,
}

/// The entries of `index` whose text holds every word of `query`, in the order of
/// `/docs` (operations, then schemas).
pub fn matches<'a>(index: &'a Value, query: &Query) -> Vec<Hit<'a>> {
    let field = |e: &'a Value, name: &str| e.get(name).and_then(Value::as_str).unwrap_or("");
    index
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| {
                    let text = field(e, "text");
                    !query.words.is_empty() && query.words.iter().all(|w| text.contains(w.as_str()))
                })
                .map(|e| Hit {
                    id: field(e, "id"),
                    title: field(e, "title"),
                    html: field(e, "html"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The results page: the search form with the query, how many sections matched and
/// each one as `/docs` shows it, with a link to its place there.
pub fn results(query: &Query, hits: &[Hit]) -> String {
    let q = escape(&query.shown);
    let mut main = format!(
        "<div class=\"docs\"><h1>Search the API reference</h1>\
         <p><a href=\"/docs\">The whole reference</a></p>\
         <form class=\"docs-search\" role=\"search\" action=\"/docs/search\" method=\"get\">\
         <label for=\"docs-q\">Search the reference</label> \
         <input id=\"docs-q\" name=\"q\" type=\"search\" maxlength=\"{MAX_QUERY_CHARS}\" required value=\"{q}\"> \
         <button type=\"submit\">Search</button></form>"
    );
    if !query.is_empty() {
        let n = hits.len();
        main.push_str(&format!(
            "<p role=\"status\">{} for <strong>{q}</strong>.</p>",
            match n {
                0 => "No section matches every word".to_string(),
                1 => "1 section matches".to_string(),
                n => format!("{n} sections match"),
            }
        ));
        if n > 0 {
            main.push_str("<nav aria-label=\"Matching sections\"><ol>");
            for h in hits {
                main.push_str(&format!(
                    "<li><a href=\"/docs#{}\">{}</a></li>",
                    escape(h.id),
                    escape(h.title)
                ));
            }
            main.push_str("</ol></nav>");
        }
        for h in hits {
            // The index's HTML is the reference's own, rendered and escaped by site/.
            main.push_str(h.html);
        }
    }
    main.push_str("</div>");
    page("Search the API reference — shortener", &main, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Value {
        serde_json::json!([
            {"id": "op-createLink", "title": "POST /url", "text": "post /url create a short link target_url", "html": "<section class=\"op\">create</section>"},
            {"id": "op-listLinks", "title": "GET /api/links", "text": "get /api/links list every link", "html": "<section class=\"op\">list</section>"},
            {"id": "schema-Link", "title": "Link", "text": "link target_url clicks", "html": "<section>schema</section>"}
        ])
    }

    #[test]
    fn every_word_of_the_query_must_be_in_a_section_in_any_case() {
        let index = index();
        let ids = |q: &str| -> Vec<String> {
            matches(&index, &Query::parse(Some(q)).unwrap())
                .iter()
                .map(|h| h.id.to_string())
                .collect()
        };
        assert_eq!(ids("TARGET_URL"), ["op-createLink", "schema-Link"]);
        assert_eq!(ids("target_url  create"), ["op-createLink"]);
        assert_eq!(ids("nothing here"), Vec::<String>::new());
        assert_eq!(ids("   "), Vec::<String>::new());
    }

    #[test]
    fn a_query_longer_than_100_characters_is_refused() {
        assert!(Query::parse(Some(&"a".repeat(100))).is_ok());
        let refused = Query::parse(Some(&"a".repeat(101))).err().unwrap();
        assert!(refused.starts_with("field 'q' must be at most 100"));
    }

    #[test]
    fn the_results_page_escapes_the_query_and_says_how_many_sections_match() {
        let index = index();
        let q = Query::parse(Some("<b>link")).unwrap();
        let page = results(&q, &matches(&index, &q));
        assert!(page.contains("value=\"&lt;b&gt;link\""));
        assert!(page.contains("No section matches every word for <strong>&lt;b&gt;link</strong>."));
        let q = Query::parse(Some("link")).unwrap();
        let page = results(&q, &matches(&index, &q));
        assert!(page.contains("3 sections match"));
        assert!(page.contains("<a href=\"/docs#op-listLinks\">GET /api/links</a>"));
        assert!(page.contains("<section class=\"op\">list</section>"));
        assert!(!page.contains("<script"));
    }
}
