//! The source formats: each turns a file into numbered rows of [`Record`]s (or the
//! reason a row cannot be one). Field rules stay with the service; a source only maps
//! its names and shapes onto the import's fields. Where each format is defined, and
//! what is assumed where it is not, is written at the top of `json.rs`, `columns.rs`
//! and `sql.rs`, and in docs/migrate.md.
//!
//! [`Record`]: crate::record::Record

mod columns;
mod detect;
mod json;
mod short_link;
mod sql;
mod tags;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::ValueEnum;

use crate::exit::Failure;
use crate::record::Row;
pub use columns::Mapping;

/// Every format `import --from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tell the format from the file's content (and say which it chose)
    Auto,
    /// Bitly API v4 bitlinks JSON (`GET /v4/groups/{group_guid}/bitlinks` pages)
    BitlyJson,
    /// Bitly's CSV export of links (Link, Custom Link, Destination URL, ...)
    BitlyCsv,
    /// YOURLS `yourls_url` table as CSV (keyword,url,title,timestamp,ip,clicks; phpMyAdmin's NULL)
    YourlsCsv,
    /// YOURLS `yourls_url` rows in an SQL dump (`INSERT INTO yourls_url ... VALUES ...`)
    YourlsSql,
    /// Shlink CSV: the importer's (Long URL, Short code, Domain, Title, Tags) or the web client's export
    ShlinkCsv,
    /// Shlink REST short-URL list JSON (`GET /rest/v3/short-urls` pages)
    ShlinkJson,
    /// Kutt REST JSON (`GET /api/v2/links` pages: address, target, description, visit_count, created_at)
    KuttJson,
    /// Sink JSON export (`{"links": [...]}`)
    SinkJson,
    /// Dub's CSV export of links (Short link, Destination URL, Clicks, Created at, Tags)
    DubCsv,
    /// Dub's `GET /api/links` answers (JSON arrays of links)
    DubJson,
    /// This service's own export (`shortener export links --format jsonl`)
    Shortener,
    /// Any CSV with a header row; name its columns with --map
    Csv,
}

impl Format {
    /// The name `--from` takes.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

/// A file that counts the bytes read from it, for the progress estimate.
struct Counted {
    file: File,
    bytes: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The size of the file to import, for the progress estimate.
pub fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The rows of a source, as the import consumes them.
pub type Rows = Box<dyn Iterator<Item = Result<Row, Failure>>>;

/// Reads `path` as `format` (or, for `auto`, as the format its first bytes show),
/// counting the bytes read into `bytes`. The file's shape is checked before the first
/// row is returned. CSV is streamed row by row; JSON sources one top-level value (an
/// API page) at a time; an SQL dump is read whole. Returns the format read.
pub fn read(
    format: Format,
    path: &Path,
    mapping: &Mapping,
    bytes: &Arc<AtomicU64>,
) -> Result<(Format, Rows), Failure> {
    let file = File::open(path)
        .map_err(|e| Failure::Input(format!("cannot open {}: {e}", path.display())))?;
    let counted = Counted {
        file,
        bytes: Arc::clone(bytes),
    };
    let mut reader = BufReader::with_capacity(1 << 16, counted);
    let format = match format {
        Format::Auto => {
            let head = reader
                .fill_buf()
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?;
            let (format, why) = detect::guess(head).ok_or_else(|| {
                let start: String = String::from_utf8_lossy(head).chars().take(60).collect();
                Failure::Input(format!(
                    "--from auto: {} looks like none of the formats (it starts with '{}'); name one with --from",
                    path.display(),
                    start.replace('\n', "\\n")
                ))
            })?;
            eprintln!("--from auto: read as {} ({why})", format.name());
            format
        }
        named => named,
    };
    let rows = match format {
        Format::BitlyCsv => columns::rows(reader, columns::Flavor::Bitly, mapping)?,
        Format::YourlsCsv => columns::rows(reader, columns::Flavor::Yourls, mapping)?,
        Format::ShlinkCsv => columns::rows(reader, columns::Flavor::Shlink, mapping)?,
        Format::DubCsv => columns::rows(reader, columns::Flavor::Dub, mapping)?,
        Format::Csv => columns::rows(reader, columns::Flavor::Generic, mapping)?,
        Format::BitlyJson => json::rows(reader, json::Flavor::Bitly)?,
        Format::ShlinkJson => json::rows(reader, json::Flavor::Shlink)?,
        Format::KuttJson => json::rows(reader, json::Flavor::Kutt)?,
        Format::SinkJson => json::rows(reader, json::Flavor::Sink)?,
        Format::DubJson => json::rows(reader, json::Flavor::Dub)?,
        Format::Shortener => json::rows(reader, json::Flavor::Shortener)?,
        Format::YourlsSql => {
            let mut text = String::new();
            reader
                .read_to_string(&mut text)
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?;
            Box::new(sql::rows(&text)?.into_iter().map(Ok))
        }
        Format::Auto => {
            return Err(Failure::Input("--from auto chose no format".into()));
        }
    };
    Ok((format, rows))
}
