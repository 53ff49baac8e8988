//! CSV sources: a header row names the columns, matched to the import's fields by the
//! names each source uses (or by `--map`); one row per link, streamed.

use std::io::BufRead;

use shortener_domain::import::IMPORT_FIELDS;

use crate::date;
use crate::exit::Failure;
use crate::record::{key_of, split_tags, Record, Refused, Row};

/// Whose column names to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Bitly,
    Yourls,
    Shlink,
    Generic,
}

/// The import's fields a CSV column can fill: the service's, but for `url`, which is
/// only `target_url`'s alias there.
fn fields() -> impl Iterator<Item = &'static str> {
    IMPORT_FIELDS.iter().copied().filter(|f| *f != "url")
}

/// `--map field=Column,...`: which column fills which field, over the source's own
/// names; and how tags are separated in their cell.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub columns: Vec<(String, String)>,
    pub tag_separator: Option<char>,
}

impl Mapping {
    /// Parses `key=Short code,target_url=Long URL`.
    pub fn parse(raw: &[String], tag_separator: Option<char>) -> Result<Mapping, Failure> {
        let mut columns = Vec::new();
        for pair in raw.iter().flat_map(|r| r.split(',')) {
            let (field, column) = pair.split_once('=').ok_or_else(|| {
                Failure::Usage(format!("--map takes field=Column pairs, got '{pair}'"))
            })?;
            let field = field.trim();
            if !fields().any(|f| f == field) {
                return Err(Failure::Usage(format!(
                    "--map: unknown field '{field}'; fields are {}",
                    fields().collect::<Vec<_>>().join(", ")
                )));
            }
            columns.push((field.to_string(), column.trim().to_string()));
        }
        Ok(Mapping {
            columns,
            tag_separator,
        })
    }
}

/// Header names as compared: lower case, letters and digits only (`Short code`,
/// `short_code` and `shortCode` are one name).
fn norm(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The names each source gives a field, tried in order.
fn aliases(flavor: Flavor, field: &str) -> &'static [&'static str] {
    match (flavor, field) {
        // YOURLS: the yourls_url table's own columns.
        (Flavor::Yourls, "key") => &["keyword"],
        (Flavor::Yourls, "target_url") => &["url"],
        (Flavor::Yourls, "created_at") => &["timestamp"],
        // Shlink's importer CSV: Long URL, Short code, Domain, Title, Tags.
        (Flavor::Shlink, "key") => &["shortcode"],
        (Flavor::Shlink, "target_url") => &["longurl"],
        (Flavor::Shlink, "created_at") => &["datecreated", "createdat"],
        (Flavor::Shlink, "clicks") => &["visits", "visitscount"],
        // Bitly's export names its columns for people; accept the common spellings.
        (Flavor::Bitly, "key") => &["bitlink", "link", "shortlink", "shorturl", "id"],
        (Flavor::Bitly, "target_url") => &["longurl", "destination", "destinationurl"],
        (Flavor::Bitly, "created_at") => &["createdat", "datecreated", "created", "creationdate"],
        (Flavor::Bitly, "clicks") => &["clicks", "totalclicks", "engagements", "totalengagements"],
        // Generic: this service's own CSV export, and the usual names.
        (_, "key") => &["key", "keyword", "shortcode", "slug", "code"],
        (_, "target_url") => &["targeturl", "url", "longurl", "target", "destination"],
        (_, "created_at") => &["createdat", "created", "date", "timestamp"],
        (_, "clicks") => &["clicks", "visits", "visitcount", "hits"],
        (_, "title") => &["title", "description", "name"],
        (_, "tags") => &["tags", "tag", "labels"],
        (_, "is_active") => &["isactive", "active"],
        (_, "expires_at") => &["expiresat", "expiration", "validuntil"],
        (_, "max_clicks") => &["maxclicks", "maxvisits"],
        (_, "redirect_status") => &["redirectstatus"],
        (_, "forward_query") => &["forwardquery"],
        _ => &[],
    }
}

/// The YOURLS table's columns in order, for a CSV exported without a header row.
const YOURLS_ORDER: [&str; 6] = ["keyword", "url", "title", "timestamp", "ip", "clicks"];

/// Which column index fills each field (by [`IMPORT_FIELDS`] position; `url`'s slot
/// stays empty).
struct Columns {
    index: [Option<usize>; IMPORT_FIELDS.len()],
    tag_separator: char,
}

impl Columns {
    fn find(headers: &[String], flavor: Flavor, mapping: &Mapping) -> Result<Columns, Failure> {
        let normed: Vec<String> = headers.iter().map(|h| norm(h)).collect();
        let mut index = [None; IMPORT_FIELDS.len()];
        for (slot, field) in index.iter_mut().zip(IMPORT_FIELDS) {
            if *field == "url" {
                continue;
            }
            if let Some((_, column)) = mapping.columns.iter().find(|(f, _)| f == field) {
                let wanted = norm(column);
                *slot = Some(normed.iter().position(|h| *h == wanted).ok_or_else(|| {
                    Failure::Usage(format!(
                        "--map {field}={column}: no such column; the header has {}",
                        headers.join(", ")
                    ))
                })?);
            } else {
                *slot = aliases(flavor, field)
                    .iter()
                    .find_map(|a| normed.iter().position(|h| h == a));
            }
        }
        let named = |f: &str| {
            IMPORT_FIELDS
                .iter()
                .position(|x| *x == f)
                .and_then(|i| index.get(i).copied().flatten())
        };
        if named("key").is_none() || named("target_url").is_none() {
            return Err(Failure::Input(format!(
                "the header ({}) names no key and target columns; name them with --map key=COLUMN,target_url=COLUMN",
                headers.join(", ")
            )));
        }
        // Shlink's importer separates tags with '|'; most exports with ','.
        let default_sep = if flavor == Flavor::Shlink { '|' } else { ',' };
        Ok(Columns {
            index,
            tag_separator: mapping.tag_separator.unwrap_or(default_sep),
        })
    }

    fn cell<'r>(&self, record: &'r csv::StringRecord, field: &str) -> Option<&'r str> {
        let i = IMPORT_FIELDS.iter().position(|f| *f == field)?;
        let col = (*self.index.get(i)?)?;
        record.get(col).map(str::trim).filter(|s| !s.is_empty())
    }

    fn record(&self, row: &csv::StringRecord) -> Result<Record, Refused> {
        let key = self.cell(row, "key").map(key_of).unwrap_or_default();
        let target_url = self.cell(row, "target_url").unwrap_or_default().to_string();
        let refuse = |reason: String| Refused {
            key: key.clone(),
            target_url: target_url.clone(),
            reason,
        };
        let date = |field: &str| {
            self.cell(row, field)
                .map(date::normalize)
                .transpose()
                .map(Option::flatten)
                .map_err(|e| refuse(format!("{field}: {e}")))
        };
        let number = |field: &str| {
            self.cell(row, field)
                .map(|v| v.replace([',', '_', ' '], "").parse::<u64>())
                .transpose()
                .map_err(|_| refuse(format!("{field} is not a whole number")))
        };
        let flag = |field: &str| {
            self.cell(row, field)
                .map(|v| match v.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => Ok(true),
                    "false" | "0" | "no" => Ok(false),
                    _ => Err(refuse(format!("{field} must be true or false"))),
                })
                .transpose()
        };
        if key.is_empty() {
            return Err(refuse("no key in this row".into()));
        }
        if target_url.is_empty() {
            return Err(refuse("no target URL in this row".into()));
        }
        Ok(Record {
            created_at: date("created_at")?,
            expires_at: date("expires_at")?,
            clicks: number("clicks")?,
            max_clicks: number("max_clicks")?,
            redirect_status: number("redirect_status")?.and_then(|n| u16::try_from(n).ok()),
            is_active: flag("is_active")?,
            forward_query: flag("forward_query")?,
            title: self.cell(row, "title").map(str::to_string),
            tags: self
                .cell(row, "tags")
                .map(|t| split_tags(t, self.tag_separator))
                .unwrap_or_default(),
            key,
            target_url,
        })
    }
}

/// The delimiter of a CSV file, guessed from its first line: `;` and tab are common in
/// exports made for spreadsheets.
fn delimiter(first_line: &str) -> u8 {
    let count = |c: char| first_line.matches(c).count();
    [(',', count(',')), (';', count(';')), ('\t', count('\t'))]
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(c, _)| c as u8)
}

/// Rows of a CSV source, streamed.
pub fn rows<R: BufRead + 'static>(
    mut reader: R,
    flavor: Flavor,
    mapping: &Mapping,
) -> Result<Box<dyn Iterator<Item = Result<Row, Failure>>>, Failure> {
    let sniff = reader
        .fill_buf()
        .map_err(|e| Failure::Input(format!("cannot read the input: {e}")))?;
    let first_line: String = String::from_utf8_lossy(sniff)
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches('\u{feff}')
        .to_string();
    let csv = csv::ReaderBuilder::new()
        .delimiter(delimiter(&first_line))
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut records = csv.into_records();
    let first = match records.next() {
        None => return Ok(Box::new(std::iter::empty())),
        Some(r) => r.map_err(|e| Failure::Input(format!("row 1: {e}")))?,
    };
    let mut headers: Vec<String> = first
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    // A YOURLS table dumped without a header: its columns are known by position.
    let mut pending = None;
    if flavor == Flavor::Yourls && !headers.iter().any(|h| norm(h) == "keyword") {
        pending = Some(first);
        headers = YOURLS_ORDER.iter().map(|s| s.to_string()).collect();
    }
    let columns = Columns::find(&headers, flavor, mapping)?;
    let mut number = if pending.is_some() { 0 } else { 1 };
    let rows = pending
        .into_iter()
        .map(Ok)
        .chain(records)
        .map(move |record| {
            number += 1;
            let record = record.map_err(|e| Failure::Input(format!("row {number}: {e}")))?;
            Ok(Row {
                number,
                parsed: columns.record(&record),
            })
        });
    Ok(Box::new(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, flavor: Flavor, mapping: &Mapping) -> Vec<Result<Record, Refused>> {
        rows(
            std::io::Cursor::new(text.to_string().into_bytes()),
            flavor,
            mapping,
        )
        .unwrap()
        .map(|r| r.unwrap().parsed)
        .collect()
    }

    #[test]
    fn shlink_csv_takes_its_names_and_pipe_separated_tags() {
        let got = read(
            "Long URL;Short code;Domain;Title;Tags\nhttps://example.com/a;abc;;A;x|y\n",
            Flavor::Shlink,
            &Mapping::default(),
        );
        let r = got[0].as_ref().unwrap();
        assert_eq!(
            (r.key.as_str(), r.target_url.as_str()),
            ("abc", "https://example.com/a")
        );
        assert_eq!(r.tags, vec!["x", "y"]);
        assert_eq!(r.title.as_deref(), Some("A"));
    }

    #[test]
    fn a_yourls_table_without_a_header_is_read_by_position() {
        let got = read(
            "abc,https://example.com/,Ex,2019-05-01 10:00:00,127.0.0.1,42\n",
            Flavor::Yourls,
            &Mapping::default(),
        );
        let r = got[0].as_ref().unwrap();
        assert_eq!(r.clicks, Some(42));
        assert_eq!(r.created_at.as_deref(), Some("2019-05-01T10:00:00Z"));
    }

    #[test]
    fn a_mapping_names_the_columns_of_any_csv() {
        let mapping =
            Mapping::parse(&["key=Code,target_url=Where,clicks=Hits".into()], None).unwrap();
        let got = read(
            "Code,Where,Hits\nabc,https://example.com/,1,234\nxyz,,3\n",
            Flavor::Generic,
            &mapping,
        );
        assert_eq!(got[0].as_ref().unwrap().clicks, Some(1));
        assert!(got[1].as_ref().unwrap_err().reason.contains("no target"));
        assert!(Mapping::parse(&["size=Code".into()], None).is_err());
    }

    #[test]
    fn a_bitly_export_yields_the_key_from_the_short_link() {
        let got = read(
            "Date created,Title,Link,Long URL,Tags,Clicks\n2019-05-01 10:00:00,Docs,https://bit.ly/3xYz,https://example.com/docs,\"a,b\",7\n",
            Flavor::Bitly,
            &Mapping::default(),
        );
        let r = got[0].as_ref().unwrap();
        assert_eq!(r.key, "3xYz");
        assert_eq!(r.tags, vec!["a", "b"]);
        assert_eq!(r.clicks, Some(7));
    }
}
