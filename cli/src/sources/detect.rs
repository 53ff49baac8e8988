//! `--from auto`: the format of a file told from its first bytes, by the names each
//! source gives its fields (see `json.rs` and `columns.rs` for where each comes from).

use super::Format;

/// The format the start of a file shows, and what gave it away; `None` when nothing
/// does.
pub fn guess(head: &[u8]) -> Option<(Format, &'static str)> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with(['{', '[']) {
        let has = |field: &str| text.contains(&format!("\"{field}\""));
        return if has("shortUrls") {
            Some((Format::ShlinkJson, "a JSON \"shortUrls\" page"))
        } else if has("long_url") {
            Some((Format::BitlyJson, "JSON bitlinks with \"long_url\""))
        } else if has("slug") {
            Some((Format::SinkJson, "JSON links with \"slug\""))
        } else if has("address") && has("target") {
            Some((
                Format::KuttJson,
                "JSON links with \"address\" and \"target\"",
            ))
        } else if has("target_url") {
            Some((Format::Shortener, "JSON Lines with \"target_url\""))
        } else if has("key") && has("url") && has("domain") {
            Some((
                Format::DubJson,
                "JSON links with \"domain\", \"key\" and \"url\"",
            ))
        } else {
            None
        };
    }
    let upper = text
        .get(..text.len().min(4096))
        .unwrap_or(text)
        .to_ascii_uppercase();
    if upper.contains("INSERT INTO")
        || upper.starts_with("CREATE TABLE")
        || upper.starts_with("-- ")
    {
        return Some((Format::YourlsSql, "SQL statements"));
    }
    let first_line = text.lines().next().unwrap_or_default();
    let cells: Vec<String> = first_line
        .split([',', ';', '\t'])
        .map(|c| {
            c.trim()
                .trim_matches('"')
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect()
        })
        .collect();
    let has = |name: &str| cells.iter().any(|c| c == name);
    if has("shortlink") && has("destinationurl") {
        Some((
            Format::DubCsv,
            "a CSV header with Short link and Destination URL",
        ))
    } else if has("customlink") || (has("link") && (has("longurl") || has("destinationurl"))) {
        Some((
            Format::BitlyCsv,
            "a CSV header with Link and Custom Link or Destination URL",
        ))
    } else if (has("shortcode") || has("shorturl")) && has("longurl") {
        Some((
            Format::ShlinkCsv,
            "a CSV header with a short code and Long URL",
        ))
    } else if has("keyword") && has("url") {
        Some((Format::YourlsCsv, "a CSV header with keyword and url"))
    } else if has("key") && has("targeturl") {
        Some((Format::Csv, "a CSV header with key and target_url"))
    } else if cells.len() == 6
        && first_line
            .split(',')
            .nth(1)
            .is_some_and(|u| u.trim_matches('"').starts_with("http"))
    {
        Some((
            Format::YourlsCsv,
            "header-less CSV rows of six values, the second a URL",
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_is_told_by_its_own_field_names() {
        let cases = [
            (r#"{"shortUrls": {"data": []}}"#, Format::ShlinkJson),
            (r#"{"links": [{"id": "bit.ly/x", "long_url": "https://e.x/"}]}"#, Format::BitlyJson),
            (r#"{"version": "1.0", "links": [{"slug": "a", "url": "https://e.x/"}]}"#, Format::SinkJson),
            (r#"{"total": 1, "data": [{"address": "a", "target": "https://e.x/"}]}"#, Format::KuttJson),
            (r#"[{"id": "l", "domain": "dub.sh", "key": "a", "url": "https://e.x/"}]"#, Format::DubJson),
            ("{\"key\":\"a\",\"target_url\":\"https://e.x/\"}\n", Format::Shortener),
            ("-- dump\nINSERT INTO `yourls_url` VALUES ('a','https://e.x/',NULL,'2020-01-01 00:00:00','::1',0);", Format::YourlsSql),
            ("Short link,Destination URL,Clicks,Created at\n", Format::DubCsv),
            ("Title,Link,Custom Link,Destination URL\n", Format::BitlyCsv),
            ("Long URL;Short code;Domain\n", Format::ShlinkCsv),
            ("\"createdAt\",\"domain\",\"shortCode\",\"shortUrl\",\"longUrl\"\n", Format::ShlinkCsv),
            ("keyword,url,title,timestamp,ip,clicks\n", Format::YourlsCsv),
            ("\"a\",\"https://e.x/\",NULL,\"2020-01-01 00:00:00\",\"::1\",\"0\"\n", Format::YourlsCsv),
            ("key,target_url,clicks\n", Format::Csv),
        ];
        for (head, want) in cases {
            assert_eq!(guess(head.as_bytes()).map(|(f, _)| f), Some(want), "{head}");
        }
        assert_eq!(guess(b"hello world\n"), None);
    }
}
