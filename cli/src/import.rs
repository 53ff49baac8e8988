//! An import run: rows from a source, in calls of up to 1,000 links, several calls in
//! flight, every row accounted for: created, updated, left as it was, or refused (into
//! the reject file with the reason). Idempotent by key, so an interrupted run is resumed
//! by running it again.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over the rows the service has answered, out of the rows in the file (an
/// estimate from the bytes read until the whole file is read), with the time left.
pub fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{wide_bar}] {pos}/{len} rows answered{msg}, about {eta} left ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(" (rows in the file estimated)");
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

use crate::api::{Api, ImportAnswer};
use crate::exit::Failure;
use crate::record::{Record, Refused, Row};

pub struct Options {
    pub batch: usize,
    pub jobs: usize,
    pub update: bool,
    pub dry_run: bool,
    pub rejects: PathBuf,
    pub secrets: Option<PathBuf>,
    /// Rows answered out of rows in the file; hidden when not on a terminal.
    pub progress: ProgressBar,
    /// Bytes of the file read so far, and its size: the estimate of its rows.
    pub bytes_read: Arc<AtomicU64>,
    pub file_bytes: u64,
}

/// What a run did, row by row, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub exists: u64,
    pub refused: u64,
}

/// A batch as sent: each row's number, key and target, for the reject file.
type Sent = Vec<(u64, String, String)>;

/// A batch to send: the domain it goes to (`None`: the service URL's), its rows.
type Batch = (Option<String>, Sent, Vec<Record>);

enum Done {
    Refused(u64, Refused),
    Batch(Sent, Result<ImportAnswer, Failure>),
}

/// "1 row", "3 rows"; and the like for other nouns.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The reject file, created at the first refused row.
struct Rejects {
    path: PathBuf,
    out: Option<csv::Writer<BufWriter<File>>>,
}

impl Rejects {
    fn write(&mut self, row: u64, key: &str, target: &str, reason: &str) -> Result<(), Failure> {
        if self.out.is_none() {
            let file = File::create(&self.path).map_err(|e| {
                Failure::Usage(format!("cannot write {}: {e}", self.path.display()))
            })?;
            let mut w = csv::Writer::from_writer(BufWriter::new(file));
            w.write_record(["row", "key", "target_url", "reason"])
                .map_err(|e| Failure::Usage(e.to_string()))?;
            self.out = Some(w);
        }
        if let Some(w) = self.out.as_mut() {
            w.write_record([row.to_string().as_str(), key, target, reason])
                .map_err(|e| Failure::Usage(e.to_string()))?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Failure> {
        if let Some(w) = self.out.as_mut() {
            w.flush().map_err(|e| Failure::Usage(e.to_string()))?;
        }
        Ok(())
    }
}

/// Runs the import; `Ok` with the counts when every call was answered (rows may still
/// have been refused), `Err` when the service failed midway (what was answered by then
/// is printed; a rerun skips it).
pub fn run(
    api: &Api,
    rows: Box<dyn Iterator<Item = Result<Row, Failure>>>,
    opts: &Options,
) -> Result<(Summary, Duration), Failure> {
    let started = Instant::now();
    let bar = opts.progress.clone();
    let stop = AtomicBool::new(false);
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(opts.jobs);
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let mut summary = Summary::default();
    let mut input_error = None;
    let collected = std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1) {
            let (rx, tx, api, stop) = (Arc::clone(&batch_rx), done_tx.clone(), api.clone(), &stop);
            scope.spawn(move || loop {
                let next = match rx.lock() {
                    Ok(guard) => guard.recv(),
                    Err(_) => return,
                };
                let Ok((domain, sent, records)) = next else {
                    return;
                };
                if stop.load(Ordering::Relaxed) {
                    continue;
                }
                let refs: Vec<&Record> = records.iter().collect();
                let answer = api.import(&refs, opts.update, opts.dry_run, domain.as_deref());
                if answer.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                if tx.send(Done::Batch(sent, answer)).is_err() {
                    return;
                }
            });
        }
        let collector = {
            let bar = bar.clone();
            let rejects_path = opts.rejects.clone();
            let secrets_path = opts.secrets.clone();
            scope.spawn(move || collect(done_rx, &bar, rejects_path, secrets_path))
        };
        // One pending batch per domain: the service imports one domain per call.
        let mut pending: HashMap<Option<String>, (Sent, Vec<Record>)> = HashMap::new();
        for row in rows {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    input_error = Some(e);
                    break;
                }
            };
            summary.read += 1;
            if summary.read % 64 == 1 {
                bar.set_length(estimate(summary.read, opts).max(bar.position()));
            }
            match row.parsed {
                Err(refused) => {
                    let _ = done_tx.send(Done::Refused(row.number, refused));
                }
                Ok(record) => {
                    let (sent, records) = pending.entry(row.domain.clone()).or_default();
                    sent.push((row.number, record.key.clone(), record.target_url.clone()));
                    records.push(record);
                    if records.len() == opts.batch {
                        let full = (row.domain, std::mem::take(sent), std::mem::take(records));
                        if batch_tx.send(full).is_err() {
                            break;
                        }
                    }
                }
            }
        }
        // The whole file is read: its rows are known, no longer estimated.
        bar.set_length(summary.read);
        bar.set_message("");
        if input_error.is_none() {
            for (domain, (sent, records)) in pending {
                if !records.is_empty() {
                    let _ = batch_tx.send((domain, sent, records));
                }
            }
        }
        drop(batch_tx);
        drop(done_tx);
        collector.join()
    });
    bar.finish_and_clear();
    let (counts, failure) = match collected {
        Ok(result) => result,
        Err(_) => return Err(Failure::Service("the result collector stopped".into())),
    };
    summary.created = counts.created;
    summary.updated = counts.updated;
    summary.exists = counts.exists;
    summary.refused = counts.refused;
    let elapsed = started.elapsed();
    match input_error.or(failure) {
        Some(e) => {
            eprintln!("{}", line(&summary, elapsed, opts));
            Err(e)
        }
        None => Ok((summary, elapsed)),
    }
}

/// The rows in the file, estimated from the rows read and the share of bytes read.
fn estimate(read: u64, opts: &Options) -> u64 {
    let bytes = opts.bytes_read.load(Ordering::Relaxed);
    if bytes == 0 || bytes >= opts.file_bytes {
        return read;
    }
    let est = u128::from(read) * u128::from(opts.file_bytes) / u128::from(bytes);
    u64::try_from(est).unwrap_or(u64::MAX).max(read)
}

/// Takes every answer as it comes, keeps the counts, writes refused rows.
fn collect(
    done: mpsc::Receiver<Done>,
    bar: &ProgressBar,
    rejects_path: PathBuf,
    secrets_path: Option<PathBuf>,
) -> (Summary, Option<Failure>) {
    let mut counts = Summary::default();
    let answered = |c: &Summary| c.created + c.updated + c.exists + c.refused;
    let mut rejects = Rejects {
        path: rejects_path,
        out: None,
    };
    let mut secrets = None;
    let mut failure = None;
    let note = |e: Failure, failure: &mut Option<Failure>| {
        if failure.is_none() {
            *failure = Some(e);
        }
    };
    for message in done {
        match message {
            Done::Refused(row, r) => {
                counts.refused += 1;
                if let Err(e) = rejects.write(row, &r.key, &r.target_url, &r.reason) {
                    note(e, &mut failure);
                }
                bar.set_position(answered(&counts));
            }
            Done::Batch(_, Err(e)) => note(e, &mut failure),
            Done::Batch(sent, Ok(answer)) => {
                for ((row, key, target), result) in sent.iter().zip(&answer.results) {
                    match result.outcome.as_str() {
                        "created" => {
                            counts.created += 1;
                            if let (Some(path), Some(secret)) = (&secrets_path, &result.secret_key)
                            {
                                if let Err(e) = write_secret(&mut secrets, path, key, secret) {
                                    note(e, &mut failure);
                                }
                            }
                        }
                        "updated" => counts.updated += 1,
                        "exists" => counts.exists += 1,
                        _ => {
                            counts.refused += 1;
                            let reason = format!(
                                "{} {}",
                                result.status.unwrap_or_default(),
                                result.detail.as_deref().unwrap_or("refused")
                            );
                            if let Err(e) = rejects.write(*row, key, target, &reason) {
                                note(e, &mut failure);
                            }
                        }
                    }
                }
                bar.set_position(answered(&counts));
            }
        }
    }
    if let Err(e) = rejects.finish() {
        note(e, &mut failure);
    }
    if let Some(Err(e)) = secrets.as_mut().map(|w: &mut csv::Writer<File>| w.flush()) {
        note(Failure::Usage(e.to_string()), &mut failure);
    }
    (counts, failure)
}

fn write_secret(
    out: &mut Option<csv::Writer<File>>,
    path: &PathBuf,
    key: &str,
    secret: &str,
) -> Result<(), Failure> {
    if out.is_none() {
        let file = File::create(path)
            .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record(["key", "secret_key"])
            .map_err(|e| Failure::Usage(e.to_string()))?;
        *out = Some(w);
    }
    if let Some(w) = out.as_mut() {
        w.write_record([key, secret])
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    Ok(())
}

/// The one-line summary a run ends with. The rate is of links imported (created or
/// updated, or that would be in a dry run), not of rows read: rows read from a file
/// against a service that answers nothing are no speed.
pub fn line(s: &Summary, elapsed: Duration, opts: &Options) -> String {
    let secs = elapsed.as_secs_f64();
    let imported = s.created + s.updated;
    let rate = if secs > 0.0 {
        imported as f64 / secs
    } else {
        0.0
    };
    let mode = if opts.dry_run {
        "import (dry run: nothing written)"
    } else {
        "import"
    };
    let refused = if s.refused > 0 {
        format!("{} refused (see {})", s.refused, opts.rejects.display())
    } else {
        "0 refused".into()
    };
    let exist = if s.exists == 1 {
        "1 exists already (left as it was)".to_string()
    } else {
        format!("{} exist already (left as they were)", s.exists)
    };
    format!(
        "{mode}: {} read, {} created, {} updated, {exist}, {refused}; {:.2} s, {:.0} links/s imported",
        count(s.read, "row", "rows"),
        s.created,
        s.updated,
        secs,
        rate
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            batch: 1000,
            jobs: 1,
            update: false,
            dry_run: false,
            rejects: PathBuf::from("rejects.csv"),
            secrets: None,
            progress: ProgressBar::hidden(),
            bytes_read: Arc::new(AtomicU64::new(0)),
            file_bytes: 0,
        }
    }

    #[test]
    fn the_summary_counts_links_imported_per_second_and_says_one_thing_in_the_singular() {
        let s = Summary {
            read: 1,
            created: 0,
            updated: 0,
            exists: 1,
            refused: 0,
        };
        let line = line(&s, Duration::from_secs(1), &opts());
        assert!(line.contains("1 row read,"), "{line}");
        assert!(line.contains("1 exists already (left as it was)"), "{line}");
        assert!(line.ends_with("0 links/s imported"), "{line}");
        let s = Summary {
            read: 10_000,
            created: 0,
            ..Summary::default()
        };
        assert!(
            line_rate(&s).ends_with(" 0 links/s imported"),
            "nothing imported is no speed"
        );
    }

    fn line_rate(s: &Summary) -> String {
        line(s, Duration::from_millis(500), &opts())
    }

    #[test]
    fn the_rows_of_a_file_are_estimated_from_the_bytes_read() {
        let o = Options {
            file_bytes: 1000,
            ..opts()
        };
        o.bytes_read.store(250, Ordering::Relaxed);
        assert_eq!(estimate(10, &o), 40);
        o.bytes_read.store(1000, Ordering::Relaxed);
        assert_eq!(estimate(37, &o), 37);
    }
}
