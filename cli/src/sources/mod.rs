//! The source formats: each turns a file into numbered rows of [`Record`]s (or the
//! reason a row cannot be one). Field rules stay with the service; a source only maps
//! its names and shapes onto the import's fields.

mod columns;
mod json;
mod sql;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use clap::ValueEnum;
use indicatif::ProgressBar;

use crate::exit::Failure;
use crate::record::Row;
pub use columns::Mapping;

/// Every format `import --from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Bitly API v4 bitlinks JSON (`GET /v4/groups/{group_guid}/bitlinks` pages)
    BitlyJson,
    /// Bitly's CSV export of links
    BitlyCsv,
    /// YOURLS `yourls_url` table as CSV (keyword,url,title,timestamp,ip,clicks)
    YourlsCsv,
    /// YOURLS `yourls_url` rows in an SQL dump (`INSERT INTO yourls_url ... VALUES ...`)
    YourlsSql,
    /// Shlink importer CSV (Long URL, Short code, Domain, Title, Tags)
    ShlinkCsv,
    /// Shlink REST short-URL list JSON (`GET /rest/v3/short-urls` pages)
    ShlinkJson,
    /// Kutt REST JSON (`GET /api/v2/links` pages: address, target, description, visit_count, created_at)
    KuttJson,
    /// Sink JSON export (`GET /api/link/export`: {"links": [...]})
    SinkJson,
    /// This service's own export (`shortener export links --format jsonl`)
    Shortener,
    /// Any CSV with a header row; name its columns with --map
    Csv,
}

/// A file that moves a progress bar by the bytes read from it.
struct Counted {
    file: File,
    bar: ProgressBar,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// The size of the file to import, for the progress bar.
pub fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Reads `path` as `format`, advancing `bar` as it goes. CSV is streamed row by row;
/// JSON sources are streamed one top-level value (an API page) at a time; an SQL dump
/// is read whole.
pub fn read(
    format: Format,
    path: &Path,
    mapping: &Mapping,
    bar: &ProgressBar,
) -> Result<Box<dyn Iterator<Item = Result<Row, Failure>>>, Failure> {
    let file = File::open(path)
        .map_err(|e| Failure::Input(format!("cannot open {}: {e}", path.display())))?;
    let counted = Counted {
        file,
        bar: bar.clone(),
    };
    let reader = BufReader::with_capacity(1 << 16, counted);
    Ok(match format {
        Format::BitlyCsv => columns::rows(reader, columns::Flavor::Bitly, mapping)?,
        Format::YourlsCsv => columns::rows(reader, columns::Flavor::Yourls, mapping)?,
        Format::ShlinkCsv => columns::rows(reader, columns::Flavor::Shlink, mapping)?,
        Format::Csv => columns::rows(reader, columns::Flavor::Generic, mapping)?,
        Format::BitlyJson => json::rows(reader, json::Flavor::Bitly),
        Format::ShlinkJson => json::rows(reader, json::Flavor::Shlink),
        Format::KuttJson => json::rows(reader, json::Flavor::Kutt),
        Format::SinkJson => json::rows(reader, json::Flavor::Sink),
        Format::Shortener => json::rows(reader, json::Flavor::Shortener),
        Format::YourlsSql => {
            let mut text = String::new();
            let mut reader = reader;
            reader
                .read_to_string(&mut text)
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?;
            Box::new(sql::rows(&text)?.into_iter().map(Ok))
        }
    })
}
