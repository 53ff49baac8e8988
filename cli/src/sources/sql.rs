//! YOURLS rows from an SQL dump (mysqldump or phpMyAdmin): the tuples of every
//! `INSERT INTO <prefix>url [(columns)] VALUES (...), (...);` statement. Other tables
//! (options, log) are skipped. Strings follow MySQL's quoting: `''` or a backslash
//! escape for a quote, `\n`, `\t`, `\0`, `\\`.

use crate::date;
use crate::exit::Failure;
use crate::record::{Record, Refused, Row};

/// The YOURLS table's columns in its own order, used when a statement names none.
const DEFAULT_COLUMNS: [&str; 6] = ["keyword", "url", "title", "timestamp", "ip", "clicks"];

/// One SQL value of a tuple.
#[derive(Debug, Clone, PartialEq)]
enum Sql {
    Null,
    Text(String),
}

struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Scanner<'_> {
    fn skip_space(&mut self) {
        while self.chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        self.skip_space();
        match self.chars.next() {
            Some((_, c)) if c == want => Ok(()),
            Some((i, c)) => Err(format!("expected '{want}' at byte {i}, found '{c}'")),
            None => Err(format!("expected '{want}', found the end")),
        }
    }

    fn identifier(&mut self) -> String {
        self.skip_space();
        let quoted = self.chars.next_if(|(_, c)| *c == '`').is_some();
        let mut out = String::new();
        while let Some((_, c)) = self.chars.next_if(|(_, c)| {
            if quoted {
                *c != '`'
            } else {
                c.is_alphanumeric() || *c == '_' || *c == '.'
            }
        }) {
            out.push(c);
        }
        if quoted {
            self.chars.next();
        }
        out
    }

    fn value(&mut self) -> Result<Sql, String> {
        self.skip_space();
        match self.chars.peek().map(|(_, c)| *c) {
            Some('\'') => {
                self.chars.next();
                let mut out = String::new();
                loop {
                    match self.chars.next().map(|(_, c)| c) {
                        None => return Err("a string is not closed".into()),
                        Some('\\') => match self.chars.next().map(|(_, c)| c) {
                            Some('n') => out.push('\n'),
                            Some('r') => out.push('\r'),
                            Some('t') => out.push('\t'),
                            Some('0') => out.push('\0'),
                            Some(c) => out.push(c),
                            None => return Err("a string is not closed".into()),
                        },
                        Some('\'') if self.chars.next_if(|(_, c)| *c == '\'').is_some() => {
                            out.push('\'')
                        }
                        Some('\'') => return Ok(Sql::Text(out)),
                        Some(c) => out.push(c),
                    }
                }
            }
            _ => {
                let mut word = String::new();
                while let Some((_, c)) = self
                    .chars
                    .next_if(|(_, c)| !matches!(c, ',' | ')') && !c.is_whitespace())
                {
                    word.push(c);
                }
                if word.eq_ignore_ascii_case("null") {
                    Ok(Sql::Null)
                } else if word.is_empty() {
                    Err("a value is missing".into())
                } else {
                    Ok(Sql::Text(word))
                }
            }
        }
    }

    /// `( v, v, ... )`
    fn tuple(&mut self) -> Result<Vec<Sql>, String> {
        self.expect('(')?;
        let mut values = Vec::new();
        loop {
            values.push(self.value()?);
            self.skip_space();
            match self.chars.next().map(|(_, c)| c) {
                Some(',') => continue,
                Some(')') => return Ok(values),
                other => return Err(format!("expected ',' or ')' in a tuple, found {other:?}")),
            }
        }
    }
}

/// Every `yourls_url` row of the dump, in order.
pub fn rows(text: &str) -> Result<Vec<Row>, Failure> {
    let mut out = Vec::new();
    let upper = text.to_ascii_uppercase();
    let mut from = 0;
    let mut number = 0_u64;
    // INSERT statements of the links table seen: none means this is not a YOURLS dump.
    let mut tables = 0_u32;
    while let Some(found) = upper.get(from..).and_then(|rest| rest.find("INSERT INTO")) {
        let start = from + found + "INSERT INTO".len();
        let mut s = Scanner {
            chars: text
                .get(start..)
                .unwrap_or_default()
                .char_indices()
                .peekable(),
        };
        let table = s.identifier();
        let consumed = |s: &mut Scanner| s.chars.peek().map_or(text.len(), |(i, _)| start + i);
        // `yourls_url`, or the table under another prefix (YOURLS_DB_PREFIX).
        if !(table == "url" || table.ends_with("_url")) {
            from = consumed(&mut s);
            continue;
        }
        s.skip_space();
        let mut columns: Vec<String> = DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect();
        if s.chars.peek().is_some_and(|(_, c)| *c == '(') {
            s.chars.next();
            columns.clear();
            loop {
                columns.push(s.identifier().to_ascii_lowercase());
                s.skip_space();
                match s.chars.next().map(|(_, c)| c) {
                    Some(',') => continue,
                    Some(')') => break,
                    _ => return Err(Failure::Input(format!("{table}: unreadable column list"))),
                }
            }
        }
        let values_kw = s.identifier();
        if !values_kw.eq_ignore_ascii_case("values") {
            return Err(Failure::Input(format!(
                "{table}: expected VALUES, found '{values_kw}'"
            )));
        }
        loop {
            let tuple = s
                .tuple()
                .map_err(|e| Failure::Input(format!("{table}: {e}")))?;
            number += 1;
            out.push(Row {
                number,
                parsed: record(&columns, &tuple),
                domain: None,
                notes: Vec::new(),
            });
            s.skip_space();
            match s.chars.next().map(|(_, c)| c) {
                Some(',') => continue,
                Some(';') | None => break,
                Some(c) => {
                    return Err(Failure::Input(format!(
                        "{table}: expected ',' or ';' after a row, found '{c}'"
                    )))
                }
            }
        }
        from = consumed(&mut s);
        tables += 1;
    }
    if tables == 0 {
        let start: String = text.trim_start().chars().take(40).collect();
        return Err(Failure::Input(format!(
            "expected an SQL dump with INSERT INTO yourls_url ... VALUES rows; found none (the file starts with '{}')",
            start.replace('\n', " ")
        )));
    }
    Ok(out)
}

fn record(columns: &[String], tuple: &[Sql]) -> Result<Record, Refused> {
    let get = |name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .and_then(|i| tuple.get(i))
            .and_then(|v| match v {
                Sql::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
                _ => None,
            })
    };
    let key = get("keyword").unwrap_or_default();
    let target_url = get("url").unwrap_or_default();
    let refuse = |reason: String| Refused {
        key: key.clone(),
        target_url: target_url.clone(),
        reason,
    };
    if key.is_empty() || target_url.is_empty() {
        return Err(refuse("no keyword or url in this row".into()));
    }
    let created_at = get("timestamp")
        .map(|t| date::normalize(&t))
        .transpose()
        .map_err(|e| refuse(format!("timestamp: {e}")))?
        .flatten();
    let clicks = get("clicks")
        .map(|c| c.parse::<u64>())
        .transpose()
        .map_err(|_| refuse("clicks is not a whole number".into()))?;
    Ok(Record {
        title: get("title"),
        created_at,
        clicks,
        key,
        target_url,
        ..Record::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_extended_inserts_are_read_with_their_quoting() {
        let dump = "CREATE TABLE `yourls_url` (...);\n\
            INSERT INTO `yourls_options` VALUES (1,'version','1.9');\n\
            INSERT INTO `yourls_url` (`keyword`, `url`, `title`, `timestamp`, `ip`, `clicks`) VALUES\n\
            ('ozh','https://ozh.org/','Ozh\\'s (blog), \"quoted\"','2019-05-01 10:00:00','127.0.0.1',12),\n\
            ('it''s','https://example.com/?a=1&b=2',NULL,'2019-05-02 10:00:00','::1',0);\n\
            INSERT INTO yourls_url VALUES ('abc','https://example.com/x','X','2019-05-03 00:00:00','::1',3);";
        let rows = rows(dump).unwrap();
        assert_eq!(rows.len(), 3);
        let first = rows[0].parsed.as_ref().unwrap();
        assert_eq!(first.title.as_deref(), Some("Ozh's (blog), \"quoted\""));
        assert_eq!(first.clicks, Some(12));
        assert_eq!(rows[1].parsed.as_ref().unwrap().key, "it's");
        assert_eq!(rows[1].parsed.as_ref().unwrap().title, None);
        assert_eq!(
            rows[2].parsed.as_ref().unwrap().created_at.as_deref(),
            Some("2019-05-03T00:00:00Z")
        );
    }

    #[test]
    fn a_file_without_a_yourls_insert_is_an_input_error_that_says_so() {
        let Err(Failure::Input(why)) = rows("{\"data\": []}") else {
            panic!("JSON is not an SQL dump");
        };
        assert!(
            why.contains("found none (the file starts with '{\"data\": []}')"),
            "{why}"
        );
    }

    #[test]
    fn a_broken_statement_is_an_input_error() {
        assert!(rows("INSERT INTO `yourls_url` VALUES ('abc','https://x.test/'").is_err());
    }
}
