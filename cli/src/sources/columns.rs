//! CSV sources: a header row names the columns, matched to the import's fields by the
//! names each source uses (or by `--map`); one row per link, streamed.
//!
//! The files, from each source's own definition:
//! - Bitly's link export from the web app (Links, Export): not described in Bitly's API
//!   reference. Its columns as migration guides name them (URLR's "Migration from
//!   Bitly", URLR/urlr-docs `migration/bitly.md`): `Link` (the short link with its
//!   random code), `Custom Link` (the custom back-half as a short link, when there is
//!   one) and `Destination URL`; `Title`, `Tags`, `Date Created` and `Clicks` or
//!   `Engagements` are assumed by their usual names and matched loosely (case, spaces
//!   and punctuation ignored).
//! - YOURLS: the `yourls_url` table (`keyword`, `url`, `title`, `timestamp`, `ip`,
//!   `clicks`; YOURLS `includes/functions-install.php`, `title` the one column that
//!   may be NULL) exported by phpMyAdmin as CSV with its defaults (`config.default.php`,
//!   `$cfg['Export']`): `,` between values, every value enclosed in `"`, a `"` inside
//!   doubled, NULL written as the bare word `NULL`, and a header row only when "Put
//!   columns names in the first row" is ticked (on by default since phpMyAdmin 5.2),
//!   so a header is optional. Older phpMyAdmin escaped with `\`; not read here.
//! - Shlink: the importer's CSV (shlinkio/shlink-importer
//!   `src/Sources/Csv/CsvImporter.php`: headers compared without case or spaces,
//!   `Long URL`, `Short code` or else `Short URL`, `Domain`, `Title`, `Tags` split on
//!   `,` when the cell holds one, else on `|`) and the web client's export
//!   (shlinkio/shlink-web-component `src/short-urls/helpers/ExportShortUrlsBtn.tsx`
//!   through `@json2csv/plainjs`: `createdAt`, `domain`, `shortCode` (the short URL's
//!   whole path, so `events/2025` for a multi-segment slug), `shortUrl`, `longUrl`,
//!   `title` (any text, line breaks included), `tags` joined with `|`, `visits`).
//! - Dub's link export (dubinc/dub `apps/web/lib/zod/schemas/links.ts`
//!   `exportLinksColumns`, `lib/api/links/format-links-for-export.ts`,
//!   `lib/analytics/utils/convert-to-csv.ts` through `json-2-csv`): `Short link`
//!   (`https://<domain>/<key>`), `Destination URL`, `Clicks`, `Created at` (ISO 8601),
//!   and on request `Link ID`, `Updated at`, `Tags` (joined with `, `), `Archived`. A
//!   text cell starting with `=`, `+`, `-`, `@`, tab, CR or LF is written with a `'`
//!   before it (against spreadsheet formulas); that `'` is taken off again here.
//!   The export has no titles.

use std::io::BufRead;

use shortener_domain::import::IMPORT_FIELDS;

use super::short_link::{unfit_key, ShortLink};
use super::tags;
use crate::date;
use crate::exit::Failure;
use crate::record::{split_tags, Record, Refused, Row};

/// Whose column names to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Bitly,
    Yourls,
    Shlink,
    Dub,
    Generic,
}

impl Flavor {
    /// The file this flavor expects, in words, for an error that names it.
    fn expected(self) -> &'static str {
        match self {
            Flavor::Bitly => "Bitly's CSV export (a header with Link, Custom Link and Destination URL or Long URL)",
            Flavor::Yourls => "the yourls_url table as CSV (keyword,url,title,timestamp,ip,clicks, with or without that header)",
            Flavor::Shlink => "a Shlink CSV (Long URL and Short code, or the web client's shortCode and longUrl)",
            Flavor::Dub => "Dub's CSV export (a header with Short link and Destination URL)",
            Flavor::Generic => "a CSV with a header naming key and target_url columns (or --map)",
        }
    }
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
        // Shlink: the importer's CSV and the web client's export.
        (Flavor::Shlink, "key") => &["shortcode"],
        (Flavor::Shlink, "target_url") => &["longurl"],
        (Flavor::Shlink, "created_at") => &["createdat", "datecreated"],
        (Flavor::Shlink, "clicks") => &["visits", "visitscount"],
        // Bitly's export names its columns for people; accept the common spellings.
        (Flavor::Bitly, "key") => &["link", "bitlink", "shortlink", "shorturl", "id"],
        (Flavor::Bitly, "target_url") => &["destinationurl", "longurl", "destination"],
        (Flavor::Bitly, "created_at") => &["datecreated", "createdat", "created", "creationdate"],
        (Flavor::Bitly, "clicks") => &["clicks", "totalclicks", "engagements", "totalengagements"],
        // Dub: exportLinksColumns' labels.
        (Flavor::Dub, "key") => &["shortlink"],
        (Flavor::Dub, "target_url") => &["destinationurl"],
        (Flavor::Dub, "created_at") => &["createdat"],
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
/// stays empty), and the columns only
/// some sources have.
struct Columns {
    flavor: Flavor,
    index: [Option<usize>; IMPORT_FIELDS.len()],
    tag_separator: Option<char>,
    /// Bitly's `Custom Link`.
    custom: Option<usize>,
    /// Shlink's `Domain`.
    domain: Option<usize>,
    /// Shlink's `Short URL`, the key's source when no `Short code` column is there.
    short_url: Option<usize>,
}

/// What one CSV row became.
struct Read1 {
    parsed: Result<Record, Refused>,
    domain: Option<String>,
    notes: Vec<String>,
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
        let column = |names: &[&str]| {
            names
                .iter()
                .find_map(|a| normed.iter().position(|h| h == a))
        };
        let (custom, domain, short_url) = match flavor {
            Flavor::Bitly => (
                column(&["customlink", "custombitlink", "custombackhalf"]),
                None,
                None,
            ),
            Flavor::Shlink => (None, column(&["domain"]), column(&["shorturl"])),
            _ => (None, None, None),
        };
        let named = |f: &str| {
            IMPORT_FIELDS
                .iter()
                .position(|x| *x == f)
                .and_then(|i| index.get(i).copied().flatten())
        };
        let key_found = named("key").is_some() || short_url.is_some();
        if !key_found || named("target_url").is_none() {
            return Err(Failure::Input(format!(
                "expected {}; found a header of {} (name the key and target columns with --map key=COLUMN,target_url=COLUMN)",
                flavor.expected(),
                headers.join(", ")
            )));
        }
        Ok(Columns {
            flavor,
            index,
            tag_separator: mapping.tag_separator,
            custom,
            domain,
            short_url,
        })
    }

    fn at<'r>(&self, record: &'r csv::StringRecord, col: Option<usize>) -> Option<&'r str> {
        let cell = record.get(col?)?.trim();
        let cell = match self.flavor {
            // phpMyAdmin writes SQL NULL as the bare word NULL ($cfg['Export']['csv_null']).
            Flavor::Yourls if cell == "NULL" => "",
            // json-2-csv as Dub calls it puts a ' before a cell a spreadsheet would run.
            Flavor::Dub => match cell.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']) => rest,
                _ => cell,
            },
            _ => cell,
        };
        Some(cell).filter(|s| !s.is_empty())
    }

    fn cell<'r>(&self, record: &'r csv::StringRecord, field: &str) -> Option<&'r str> {
        let i = IMPORT_FIELDS.iter().position(|f| *f == field)?;
        self.at(record, *self.index.get(i)?)
    }

    /// The link's key and source domain, as its owner knows them.
    fn short_link(&self, row: &csv::StringRecord, notes: &mut Vec<String>) -> ShortLink {
        let key_cell = self.cell(row, "key");
        match self.flavor {
            // A short code is taken whole (Shlink's may hold '/'); the short URL only
            // when the file has no short code column, as Shlink's importer does.
            Flavor::Shlink => match key_cell {
                Some(code) => ShortLink {
                    domain: self.at(row, self.domain).map(str::to_ascii_lowercase),
                    key: code.to_string(),
                },
                None => {
                    let mut link =
                        ShortLink::parse(self.at(row, self.short_url).unwrap_or_default());
                    if let Some(d) = self.at(row, self.domain) {
                        link.domain = Some(d.to_ascii_lowercase());
                    }
                    link
                }
            },
            Flavor::Yourls => ShortLink {
                domain: None,
                key: key_cell.unwrap_or_default().to_string(),
            },
            Flavor::Bitly => {
                let code = ShortLink::parse(key_cell.unwrap_or_default());
                let customs: Vec<ShortLink> = self
                    .at(row, self.custom)
                    .map(|c| {
                        c.split([',', ' ', '|'])
                            .filter(|s| !s.trim().is_empty())
                            .map(ShortLink::parse)
                            .filter(|l| !l.key.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                let Some((first, others)) = customs.split_first() else {
                    return code;
                };
                if !code.key.is_empty() && code != *first {
                    notes.push(format!(
                        "Bitly code {}/{} not kept as an alias: the link is imported under its custom back-half, and this service's import takes no aliases",
                        code.domain.as_deref().unwrap_or_default(),
                        code.key
                    ));
                }
                for other in others {
                    notes.push(format!(
                        "custom link {}/{} not kept: a link is imported under its first custom back-half",
                        other.domain.as_deref().unwrap_or_default(),
                        other.key
                    ));
                }
                first.clone()
            }
            Flavor::Dub | Flavor::Generic => ShortLink::parse(key_cell.unwrap_or_default()),
        }
    }

    fn read(&self, row: &csv::StringRecord) -> Read1 {
        let mut notes = Vec::new();
        let link = self.short_link(row, &mut notes);
        let parsed = self.record(row, link.key, &mut notes);
        Read1 {
            parsed,
            domain: link.domain,
            notes,
        }
    }

    fn record(
        &self,
        row: &csv::StringRecord,
        key: String,
        notes: &mut Vec<String>,
    ) -> Result<Record, Refused> {
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
        if let Some(why) = unfit_key(&key) {
            return Err(refuse(why));
        }
        if target_url.is_empty() {
            return Err(refuse("no target URL in this row".into()));
        }
        let raw_tags = self
            .cell(row, "tags")
            .map(|t| {
                let sep = self.tag_separator.unwrap_or(match self.flavor {
                    // Shlink's importer splits on ',' when the cell holds one, else '|'.
                    Flavor::Shlink if !t.contains(',') => '|',
                    _ => ',',
                });
                split_tags(t, sep)
            })
            .unwrap_or_default();
        let (tags, dropped) = tags::fit(raw_tags);
        notes.extend(dropped);
        Ok(Record {
            created_at: date("created_at")?,
            expires_at: date("expires_at")?,
            clicks: number("clicks")?,
            max_clicks: number("max_clicks")?,
            redirect_status: number("redirect_status")?.and_then(|n| u16::try_from(n).ok()),
            is_active: flag("is_active")?,
            forward_query: flag("forward_query")?,
            title: self.cell(row, "title").map(str::to_string),
            tags,
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

/// True when a header-less first row is a `yourls_url` row: six values, the second an
/// http(s) URL.
fn is_yourls_row(cells: &[String]) -> bool {
    cells.len() == YOURLS_ORDER.len()
        && cells
            .get(1)
            .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"))
}

/// Rows of a CSV source, streamed. The header is checked here, before any row, so a
/// file of another format stops the run with what was expected and what was found.
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
    if first_line.trim_start().starts_with(['{', '[']) {
        return Err(Failure::Input(format!(
            "expected {}; found JSON (pick a JSON format, or --from auto)",
            flavor.expected()
        )));
    }
    let csv = csv::ReaderBuilder::new()
        .delimiter(delimiter(&first_line))
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut records = csv.into_records();
    let first = match records.next() {
        None => {
            return Err(Failure::Input(format!(
                "expected {}; found an empty file",
                flavor.expected()
            )))
        }
        Some(r) => r.map_err(|e| Failure::Input(format!("row 1: {e}")))?,
    };
    let mut headers: Vec<String> = first
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    // A YOURLS table dumped without a header: its columns are known by position.
    let mut pending = None;
    if flavor == Flavor::Yourls
        && !headers.iter().any(|h| norm(h) == "keyword")
        && is_yourls_row(&headers)
    {
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
            let one = columns.read(&record);
            Ok(Row {
                number,
                parsed: one.parsed,
                domain: one.domain,
                notes: one.notes,
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

    fn full(text: &str, flavor: Flavor) -> Vec<Row> {
        rows(
            std::io::Cursor::new(text.to_string().into_bytes()),
            flavor,
            &Mapping::default(),
        )
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    }

    #[test]
    fn phpmyadmin_csv_quoting_and_its_bare_null_are_read_as_phpmyadmin_writes_them() {
        let got = read(
            "\"yo-null\",\"https://example.com/a\",NULL,\"2016-01-01 12:00:00\",\"::1\",\"3\"\n\"yo-q\",\"https://example.com/b\",\"Say \"\"hi\"\", twice\",\"2016-01-01 12:00:00\",\"::1\",\"0\"\n",
            Flavor::Yourls,
            &Mapping::default(),
        );
        assert_eq!(got[0].as_ref().unwrap().title, None);
        assert_eq!(got[0].as_ref().unwrap().clicks, Some(3));
        assert_eq!(
            got[1].as_ref().unwrap().title.as_deref(),
            Some("Say \"hi\", twice")
        );
    }

    #[test]
    fn a_bitly_custom_link_is_the_key_and_the_code_is_named_in_a_note() {
        let got = full(
            "Title,Link,Custom Link,Destination URL,Date Created,Tags,Clicks\nSale,https://bit.ly/2xk7pqr,https://go.example.com/spring-sale,https://example.com/sale,2021-03-01 09:00:00,,4\n",
            Flavor::Bitly,
        );
        let r = got[0].parsed.as_ref().unwrap();
        assert_eq!(
            (r.key.as_str(), r.target_url.as_str()),
            ("spring-sale", "https://example.com/sale")
        );
        assert_eq!(got[0].domain.as_deref(), Some("go.example.com"));
        assert!(got[0].notes[0].contains("bit.ly/2xk7pqr not kept as an alias"));
    }

    #[test]
    fn the_shlink_web_client_export_keeps_a_multi_segment_code_whole_and_refuses_it() {
        let got = full(
            "\"createdAt\",\"domain\",\"shortCode\",\"shortUrl\",\"longUrl\",\"title\",\"tags\",\"visits\"\n\"2025-01-01T10:00:00+00:00\",\"s.test\",\"events/2025\",\"https://s.test/events/2025\",\"https://example.com/e\",\"Two\nlines\",\"a|b\",5\n\"2025-01-02T10:00:00+00:00\",\"s.test\",\"abc\",\"https://s.test/abc\",\"https://example.com/a\",\"\",\"\",0\n",
            Flavor::Shlink,
        );
        let refused = got[0].parsed.as_ref().unwrap_err();
        assert_eq!(refused.key, "events/2025");
        assert!(refused.reason.contains("several path segments"));
        assert_eq!(got[1].parsed.as_ref().unwrap().key, "abc");
        assert_eq!(got[1].domain.as_deref(), Some("s.test"));
    }

    #[test]
    fn a_dub_export_yields_domain_and_key_and_loses_the_formula_guard() {
        let got = full(
            "Short link,Destination URL,Clicks,Created at,Tags\nhttps://dub.sh/launch,https://example.com/l,12,2024-03-01T10:00:00.000Z,\"'-minus, Product\"\n",
            Flavor::Dub,
        );
        let r = got[0].parsed.as_ref().unwrap();
        assert_eq!((r.key.as_str(), r.clicks), ("launch", Some(12)));
        assert_eq!(r.tags, vec!["-minus", "product"]);
        assert_eq!(got[0].domain.as_deref(), Some("dub.sh"));
    }

    #[test]
    fn a_file_of_another_format_is_refused_with_what_was_expected_and_found() {
        let err = |text: &str, flavor| match rows(
            std::io::Cursor::new(text.as_bytes().to_vec()),
            flavor,
            &Mapping::default(),
        ) {
            Err(Failure::Input(why)) => why,
            _ => panic!("{text} as {flavor:?} must be an input error"),
        };
        assert!(err("{\"links\": []}", Flavor::Bitly).contains("found JSON"));
        let why = err(
            "keyword,url,title\nabc,https://example.com/,x\n",
            Flavor::Dub,
        );
        assert!(why.starts_with("expected Dub's CSV export"), "{why}");
        assert!(
            why.contains("found a header of keyword, url, title"),
            "{why}"
        );
        assert!(
            err("Long URL;Short code\n", Flavor::Yourls).contains("expected the yourls_url table")
        );
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
