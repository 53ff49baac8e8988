//! A link as read from any source: the one model every importer fills and the import
//! endpoint receives (`POST /api/links/import`, one JSON object per link).

use serde::Serialize;

/// One link from a source file, before the service checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    pub key: String,
    pub target_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clicks: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_clicks: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_query: Option<bool>,
    /// Carried to the service, which stores them once links have titles and tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A row of the source, numbered from 1 in the order read, and what it became.
pub struct Row {
    pub number: u64,
    pub parsed: Result<Record, Refused>,
    /// The host the link lived on at its source (`bit.ly`, a branded domain), when the
    /// source says; the import puts it on that domain when this service serves it.
    pub domain: Option<String>,
    /// What the source held that the import does not keep, one sentence each, for the
    /// notes file (a Bitly code that cannot become an alias, a tag that cannot be held).
    pub notes: Vec<String>,
}

/// A row refused before it reached the service: what could be read of it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub key: String,
    pub target_url: String,
    pub reason: String,
}

/// Tags written in one cell: split on `sep`, trimmed, empty ones dropped.
pub fn split_tags(raw: &str, sep: char) -> Vec<String> {
    raw.split(sep)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_fields_a_source_gave_are_sent() {
        let r = Record {
            key: "abc".into(),
            target_url: "https://example.com/".into(),
            clicks: Some(3),
            ..Record::default()
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"key":"abc","target_url":"https://example.com/","clicks":3}"#
        );
        assert_eq!(split_tags(" a| b ||c", '|'), vec!["a", "b", "c"]);
    }
}
