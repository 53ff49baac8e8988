//! `shortener`: the command-line tool of the shortener's operator API. Moves links in
//! from other shorteners and out again, lists, creates, and shows statistics.

mod api;
mod config;
mod date;
mod exit;
mod export;
mod import;
mod notes;
mod placement;
mod record;
mod sources;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;
use shortener_domain::access::Role;
use shortener_domain::import::OnConflict;

use api::Api;
use config::Target;
use exit::{Failure, EXIT_CODES};
use sources::{Format, Mapping};

#[derive(Parser)]
#[command(
    name = "shortener",
    version,
    about = "Import, export, list, create and inspect short links, and manage API keys, through the operator API",
    long_about = "Import, export, list, create and inspect short links through the shortener's \
operator API (/api/links). The service address comes from --url or SHORTENER_URL; the operator \
token from SHORTENER_TOKEN or a config file (url = ... and token = ... lines, at \
$SHORTENER_CONFIG or ~/.config/shortener/config). The token is never a flag.",
    after_help = EXIT_CODES
)]
struct Cli {
    /// The service's base URL, for example https://s.example.com
    #[arg(long, env = "SHORTENER_URL", global = true)]
    url: Option<String>,
    /// A config file of `url = ...` and `token = ...` lines
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import links from another shortener's export, keeping keys, dates and clicks
    #[command(after_help = IMPORT_HELP)]
    Import(ImportArgs),
    /// Export links (JSON Lines or CSV) or statistics per link per day (CSV)
    Export(ExportArgs),
    /// List links, newest first
    List(ListArgs),
    /// Create one link
    Create(CreateArgs),
    /// Show a link's statistics
    Stats(StatsArgs),
    /// Manage the team's API keys (needs an admin token): create, list, revoke
    #[command(subcommand, after_help = KEYS_HELP)]
    Keys(KeysCommand),
}

const KEYS_HELP: &str = "Roles: admin (everything), creator (creates links and manages its own), reader (reads links and statistics, exports), stats (statistics only). A key's token is printed once, on stdout, by `keys create`; the service keeps only its hash.

Examples:
  shortener keys create --name \"CI deploys\" --role creator --expires-at 2027-06-30T00:00:00Z
  shortener keys list
  shortener keys revoke key_7hq2m9xkp3rd";

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print its token (shown once)
    Create {
        /// What the key is for, 1-100 characters
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = role_parser())]
        role: Role,
        /// When it stops working, RFC 3339 (for example 2027-06-30T00:00:00Z)
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List every key, newest first, with its state and last use
    List {
        /// Print JSON Lines instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key: its next request is refused
    Revoke {
        /// The key's id (key_...), as `keys list` shows it
        id: String,
    },
}

/// `--role`: the service's own roles, by the names it takes.
fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.map(Role::as_str))
        .try_map(|name| Role::parse(&name).ok_or("not a role"))
}

const IMPORT_HELP: &str =
    "Every row is checked by the service with the rules of creation. A row it \
refuses, or one that cannot be read, goes to the reject file with the reason. A key that exists \
already is counted and left as it is unless --on-conflict=update. Imports are idempotent by key: \
run the same command again to resume an interrupted one.

Things a source held that the import does not keep as they were (a Bitly code that \
cannot become an alias, a tag a link cannot hold, a password an API does not export) are \
written to the notes file, one line each.

Examples:
  shortener import --from auto export.csv
  shortener import --from bitly-json bitlinks.json
  shortener import --from yourls-sql yourls-backup.sql --dry-run
  shortener import --from csv links.csv --map key=Code,target_url=Destination,clicks=Hits";

/// `--on-conflict`: the service's modes, by the names it takes, each with its help.
fn on_conflict_parser() -> impl TypedValueParser<Value = OnConflict> {
    PossibleValuesParser::new(OnConflict::ALL.map(|mode| {
        PossibleValue::new(mode.as_str()).help(match mode {
            OnConflict::Skip => "Leave an existing key as it is and count it",
            OnConflict::Update => "Replace its target, settings, creation date and imported clicks",
        })
    }))
    .try_map(|name| OnConflict::parse(Some(&name)).ok_or("not a mode"))
}

#[derive(Args)]
struct ImportArgs {
    /// The file to import
    file: PathBuf,
    /// The file's format (auto: told from its content)
    #[arg(long, value_enum)]
    from: Format,
    /// What an existing key gets
    #[arg(long, value_parser = on_conflict_parser(), default_value = OnConflict::Skip.as_str())]
    on_conflict: OnConflict,
    /// Check every row and report what would change; write nothing
    #[arg(long)]
    dry_run: bool,
    /// Where refused rows go, with the reason (created at the first one)
    #[arg(long, default_value = "rejects.csv")]
    rejects: PathBuf,
    /// Write each created link's secret admin key here (key,secret_key); shown once
    #[arg(long)]
    secrets: Option<PathBuf>,
    /// Where what a source held but the import does not keep is named (created at
    /// the first note)
    #[arg(long, default_value = "import-notes.csv")]
    notes: PathBuf,
    /// CSV columns for the import's fields: field=Column, comma-separated
    /// (fields: key, target_url, title, tags, created_at, clicks, is_active, expires_at,
    /// max_clicks, redirect_status, forward_query)
    #[arg(long, value_name = "FIELD=COLUMN,...")]
    map: Vec<String>,
    /// The character between tags in a CSV cell (default ',' and '|' for shlink-csv)
    #[arg(long)]
    tag_separator: Option<char>,
    /// Links per call (at most 1,000)
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=1000))]
    batch: u16,
    /// Calls in flight at once
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=16))]
    jobs: u8,
    /// The domain every link is imported into (a host in the service's DOMAINS, or
    /// "default"); default: each link's own domain when the service serves it, else
    /// the domain of the service URL
    #[arg(long)]
    domain: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum What {
    /// Every link, every field but secrets
    Links,
    /// Clicks per link per day
    Stats,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LinkFormat {
    Jsonl,
    Csv,
}

#[derive(Args)]
struct ExportArgs {
    /// What to export
    #[arg(value_enum)]
    what: What,
    /// Links as JSON Lines or CSV (statistics are always CSV)
    #[arg(long, value_enum, default_value_t = LinkFormat::Jsonl)]
    format: LinkFormat,
    /// Write here instead of standard output
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Statistics: days of history, 1-365
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    days: u32,
    /// Statistics of one link as its owner, by its secret admin key (no token needed)
    #[arg(long, env = "SHORTENER_SECRET")]
    secret: Option<String>,
}

#[derive(Args)]
struct ListArgs {
    /// Links per page, 1-100
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
    limit: u32,
    /// Only links whose target is on this host
    #[arg(long)]
    host: Option<String>,
    /// Only links on this domain (a host in the service's DOMAINS, or "default")
    #[arg(long)]
    domain: Option<String>,
    /// Follow every page, not only the first
    #[arg(long)]
    all: bool,
    /// Print JSON Lines instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CreateArgs {
    /// The target URL
    target_url: String,
    /// Your own key instead of a random one
    #[arg(long)]
    key: Option<String>,
    /// RFC 3339 date-time after which the link answers 410
    #[arg(long)]
    expires_at: Option<String>,
    /// Clicks after which the link answers 410
    #[arg(long)]
    max_clicks: Option<u64>,
    /// 301, 302, 307 or 308
    #[arg(long)]
    redirect_status: Option<u16>,
    /// The domain of the link (a host in the service's DOMAINS, or "default"); default:
    /// the domain of the service URL
    #[arg(long)]
    domain: Option<String>,
}

#[derive(Args)]
struct StatsArgs {
    /// The link's key
    key: String,
    /// Days of history, 1-365
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    days: u32,
    /// Print the service's JSON answer
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ Failure::Rejected(_)) => {
            eprintln!("shortener: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("shortener: {e}");
            e.into()
        }
    }
}

fn output(path: Option<&PathBuf>) -> Result<Box<dyn Write>, Failure> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(File::create(p).map_err(|e| {
            Failure::Usage(format!("cannot write {}: {e}", p.display()))
        })?)),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

fn run(cli: Cli) -> Result<(), Failure> {
    let config = cli.config.or_else(config::default_path);
    let target = Target::resolve(
        cli.url,
        std::env::var("SHORTENER_TOKEN").ok(),
        config.as_deref(),
    )?;
    let api = Api::new(target);
    match cli.command {
        Command::Import(a) => import(&api, a)?,
        Command::Export(a) => {
            let mut out = output(a.out.as_ref())?;
            let n = match a.what {
                What::Links => export::links(&api, a.format == LinkFormat::Csv, &mut out)?,
                What::Stats => export::stats(&api, a.days, a.secret.as_deref(), &mut out)?,
            };
            out.flush()
                .map_err(|e| Failure::Usage(format!("cannot write the output: {e}")))?;
            eprintln!("export: {n} links");
        }
        Command::List(a) => list(&api, &a)?,
        Command::Keys(command) => keys(&api, command)?,
        Command::Create(a) => {
            let mut body = serde_json::json!({ "target_url": a.target_url });
            let fields = [
                ("custom_key", a.key.map(Value::from)),
                ("expires_at", a.expires_at.map(Value::from)),
                ("max_clicks", a.max_clicks.map(Value::from)),
                ("redirect_status", a.redirect_status.map(Value::from)),
                ("domain", a.domain.map(Value::from)),
            ];
            for (name, value) in fields {
                if let (Some(v), Some(o)) = (value, body.as_object_mut()) {
                    o.insert(name.into(), v);
                }
            }
            let link = api.create(&body)?;
            println!(
                "{}",
                link.get("url").and_then(Value::as_str).unwrap_or_default()
            );
            eprintln!(
                "admin (shown once): {}",
                link.get("admin_url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            );
        }
        Command::Stats(a) => {
            let days = a.days.to_string();
            let key = a.key.to_ascii_lowercase();
            let stats = stats_of(&api, &key, &days)?;
            if a.json {
                println!("{stats}");
            } else {
                let n = |f: &str| stats.get(f).map_or_else(String::new, |v| v.to_string());
                let clicks = stats
                    .get("clicks")
                    .and_then(Value::as_u64)
                    .unwrap_or_default();
                println!(
                    "{key}: {} ({} humans, {} bots), last {days} days:",
                    import::count(clicks, "click", "clicks"),
                    n("humans"),
                    n("bots")
                );
                for day in stats
                    .get("by_day")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let clicks = day
                        .get("clicks")
                        .and_then(Value::as_u64)
                        .unwrap_or_default();
                    if clicks > 0 {
                        println!(
                            "  {} {clicks}",
                            day.get("date").and_then(Value::as_str).unwrap_or_default()
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// An import run: the token and the service checked (and the domains they serve read)
/// before the file is opened, each row placed on its domain, notes written as rows
/// pass, and the summary.
fn import(api: &Api, a: ImportArgs) -> Result<(), Failure> {
    let mapping = Mapping::parse(&a.map, a.tag_separator)?;
    let served = placement::Served::fetch(api)?;
    let bar = if io::stderr().is_terminal() {
        import::progress_bar()
    } else {
        indicatif::ProgressBar::hidden()
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (_, rows) = sources::read(a.from, &a.file, &mapping, &bytes_read)?;
    let placement = std::rc::Rc::new(std::cell::RefCell::new(placement::Placement::new(
        served,
        a.domain.clone(),
    )));
    let notes = std::rc::Rc::new(std::cell::RefCell::new(notes::Notes::new(a.notes)));
    let rows: sources::Rows = {
        let (placement, notes) = (placement.clone(), notes.clone());
        Box::new(rows.map(move |row| {
            let mut row = row?;
            // A row refused as read goes nowhere, so it is not counted as placed.
            if row.parsed.is_ok() {
                row.domain = placement.borrow_mut().place(row.domain.as_deref());
            }
            if !row.notes.is_empty() {
                let key = match &row.parsed {
                    Ok(r) => r.key.as_str(),
                    Err(r) => r.key.as_str(),
                };
                notes.borrow_mut().write(row.number, key, &row.notes)?;
            }
            Ok(row)
        }))
    };
    let opts = import::Options {
        batch: usize::from(a.batch),
        jobs: usize::from(a.jobs),
        update: a.on_conflict == OnConflict::Update,
        dry_run: a.dry_run,
        rejects: a.rejects,
        secrets: a.secrets,
        progress: bar,
        bytes_read,
        file_bytes: sources::size(&a.file),
    };
    let result = import::run(api, rows, &opts);
    let noted = notes.borrow_mut().finish();
    let (summary, elapsed) = result?;
    println!("{}", import::line(&summary, elapsed, &opts));
    if let Some(report) = placement.borrow().report() {
        println!("{report}");
    }
    if let Some(noted) = noted? {
        println!("{noted}");
    }
    if summary.refused > 0 {
        return Err(Failure::Rejected(summary.refused));
    }
    Ok(())
}

/// A link's statistics; an unknown key is its own failure (exit 6), told apart from an
/// operator API that is off (both answer 404) by a second, key-free operator call.
fn stats_of(api: &Api, key: &str, days: &str) -> Result<Value, Failure> {
    match api.get_json(&format!("/api/links/{key}/stats"), &[("days", days)], true) {
        Err(Failure::Auth(why)) if why.contains("404") => {
            // Only an operator API that is off answers this one with 404 too (a stats
            // key may be refused it: 403, which still says the API is on).
            if let Err(off @ Failure::Auth(_)) = api.get_json("/api/domains", &[], true) {
                return Err(off);
            }
            Err(Failure::NotFound(format!(
                "no link with the key '{key}' here"
            )))
        }
        other => other,
    }
}

fn keys(api: &Api, command: KeysCommand) -> Result<(), Failure> {
    match command {
        KeysCommand::Create {
            name,
            role,
            expires_at,
        } => {
            let body = serde_json::json!({ "name": name, "role": role.as_str(), "expires_at": expires_at });
            let key = api.call_json("POST", "/api/keys", Some(&body), "keys create")?;
            let s = |f: &str| key.get(f).and_then(Value::as_str).unwrap_or_default();
            // The token alone on stdout, so a script can capture it.
            println!("{}", s("token"));
            eprintln!(
                "created {} ({}, {}); the token above is shown once",
                s("id"),
                s("role"),
                s("name")
            );
        }
        KeysCommand::List { json } => {
            let answer = api.call_json("GET", "/api/keys", None, "keys list")?;
            let stdout = io::stdout();
            let mut out = stdout.lock();
            let write_err = |e: io::Error| Failure::Usage(format!("cannot write the output: {e}"));
            for key in answer
                .get("keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if json {
                    writeln!(out, "{key}").map_err(write_err)?;
                } else {
                    let s = |f: &str| key.get(f).and_then(Value::as_str).unwrap_or("-");
                    writeln!(
                        out,
                        "{:<16} {:<7} {:<7} {:<20} {}",
                        s("id"),
                        s("role"),
                        s("state"),
                        s("last_used_at"),
                        s("name")
                    )
                    .map_err(write_err)?;
                }
            }
        }
        KeysCommand::Revoke { id } => {
            let path = format!("/api/keys/{id}");
            let key = api.call_json("DELETE", &path, None, "keys revoke")?;
            println!(
                "revoked {}",
                key.get("id").and_then(Value::as_str).unwrap_or(&id)
            );
        }
    }
    Ok(())
}

fn list(api: &Api, a: &ListArgs) -> Result<(), Failure> {
    let limit = a.limit.to_string();
    let mut cursor: Option<String> = None;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let write_err = |e: io::Error| Failure::Usage(format!("cannot write the output: {e}"));
    loop {
        let mut query = vec![("limit", limit.as_str())];
        if let Some(host) = &a.host {
            query.push(("q", host.as_str()));
        }
        if let Some(domain) = &a.domain {
            query.push(("domain", domain.as_str()));
        }
        if let Some(c) = &cursor {
            query.push(("cursor", c.as_str()));
        }
        let page = api.get_json("/api/links", &query, true)?;
        for link in page
            .get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if a.json {
                writeln!(out, "{link}").map_err(write_err)?;
            } else {
                let s = |f: &str| link.get(f).and_then(Value::as_str).unwrap_or_default();
                let clicks = link
                    .get("clicks")
                    .and_then(Value::as_i64)
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{:<20} {:>8} {:<11} {}",
                    s("key"),
                    clicks,
                    s("state"),
                    s("target_url")
                )
                .map_err(write_err)?;
            }
        }
        cursor = page
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !a.all || cursor.is_none() {
            return Ok(());
        }
    }
}
