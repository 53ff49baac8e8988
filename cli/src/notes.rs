//! The notes file: what a source held that the import does not keep (a Bitly code that
//! cannot become an alias, a tag a link cannot hold, a password an API does not
//! export), one line per thing, so nothing is lost without a word. Created at the
//! first note; the summary names it.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use crate::exit::Failure;

/// The notes of one run.
pub struct Notes {
    path: PathBuf,
    out: Option<csv::Writer<BufWriter<File>>>,
    count: u64,
}

impl Notes {
    pub fn new(path: PathBuf) -> Notes {
        Notes {
            path,
            out: None,
            count: 0,
        }
    }

    /// Writes one row's notes.
    pub fn write(&mut self, row: u64, key: &str, notes: &[String]) -> Result<(), Failure> {
        for note in notes {
            if self.out.is_none() {
                let file = File::create(&self.path).map_err(|e| {
                    Failure::Usage(format!("cannot write {}: {e}", self.path.display()))
                })?;
                let mut w = csv::Writer::from_writer(BufWriter::new(file));
                w.write_record(["row", "key", "note"])
                    .map_err(|e| Failure::Usage(e.to_string()))?;
                self.out = Some(w);
            }
            if let Some(w) = self.out.as_mut() {
                w.write_record([row.to_string().as_str(), key, note])
                    .map_err(|e| Failure::Usage(e.to_string()))?;
            }
            self.count += 1;
        }
        Ok(())
    }

    /// Flushes the file; a sentence for the summary when anything was noted.
    pub fn finish(&mut self) -> Result<Option<String>, Failure> {
        if let Some(w) = self.out.as_mut() {
            w.flush().map_err(|e| Failure::Usage(e.to_string()))?;
        }
        Ok((self.count > 0).then(|| {
            let things = if self.count == 1 { "thing" } else { "things" };
            format!(
                "notes: {} {things} the source held not kept as they were (see {})",
                self.count,
                self.path.display()
            )
        }))
    }
}
