//! An import run: rows from a source, in calls of up to 1,000 links, several calls in
//! flight, every row accounted for: created, updated, left as it was, or refused (into
//! the reject file with the reason). Idempotent by key, so an interrupted run is resumed
//! by running it again.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over the bytes of the input file, with the rows answered as its message.
pub fn progress_bar(file_bytes: u64) -> ProgressBar {
    let bar = ProgressBar::new(file_bytes);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{wide_bar}] {percent:>3}% of the file, {msg} ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("0 rows answered");
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
    /// The domain every link goes to (`None`: the service URL's).
    pub domain: Option<String>,
    /// Advanced by the source as it reads the file; hidden when not on a terminal.
    pub progress: ProgressBar,
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

enum Done {
    Refused(u64, Refused),
    Batch(Sent, Result<ImportAnswer, Failure>),
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
    let (batch_tx, batch_rx) = mpsc::sync_channel::<(Sent, Vec<Record>)>(opts.jobs);
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
                let Ok((sent, records)) = next else { return };
                if stop.load(Ordering::Relaxed) {
                    continue;
                }
                let refs: Vec<&Record> = records.iter().collect();
                let answer = api.import(&refs, opts.update, opts.dry_run, opts.domain.as_deref());
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
        let mut sent: Sent = Vec::with_capacity(opts.batch);
        let mut records: Vec<Record> = Vec::with_capacity(opts.batch);
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
            match row.parsed {
                Err(refused) => {
                    let _ = done_tx.send(Done::Refused(row.number, refused));
                }
                Ok(record) => {
                    sent.push((row.number, record.key.clone(), record.target_url.clone()));
                    records.push(record);
                    if records.len() == opts.batch {
                        let full = (std::mem::take(&mut sent), std::mem::take(&mut records));
                        if batch_tx.send(full).is_err() {
                            break;
                        }
                    }
                }
            }
        }
        if !records.is_empty() && input_error.is_none() {
            let _ = batch_tx.send((sent, records));
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
                bar.set_message(format!("{} rows answered", answered(&counts)));
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
                bar.set_message(format!("{} rows answered", answered(&counts)));
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

/// The one-line summary a run ends with.
pub fn line(s: &Summary, elapsed: Duration, opts: &Options) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.read as f64 / secs
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
    format!(
        "{mode}: {} rows read, {} created, {} updated, {} exist already (left as they were), {refused}; {:.2} s, {:.0} links/s",
        s.read, s.created, s.updated, s.exists, secs, rate
    )
}
