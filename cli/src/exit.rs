//! Exit codes scripts can rely on, and the one error type that carries them.

use std::fmt;
use std::process::ExitCode;

/// Why a command stopped, with the exit code a script sees.
#[derive(Debug)]
pub enum Failure {
    /// 1: the run finished, but some rows were refused (see the reject file).
    Rejected(u64),
    /// 2: bad arguments or configuration (no URL, no token, a bad `--map`).
    Usage(String),
    /// 3: the input could not be read or is not in the format named.
    Input(String),
    /// 4: the service refused the token (401), or its operator API is off (404).
    Auth(String),
    /// 5: the service could not be reached or failed (5xx, a broken stream). Nothing
    /// half-written: rerun the same command, keys already imported are skipped.
    Service(String),
    /// 6: the link named does not exist on the service (`stats unknown-key`).
    NotFound(String),
}

impl Failure {
    pub fn code(&self) -> u8 {
        match self {
            Failure::Rejected(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Input(_) => 3,
            Failure::Auth(_) => 4,
            Failure::Service(_) => 5,
            Failure::NotFound(_) => 6,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Rejected(1) => f.write_str("1 row was refused; see the reject file"),
            Failure::Rejected(n) => write!(f, "{n} rows were refused; see the reject file"),
            Failure::NotFound(why)
            | Failure::Usage(why)
            | Failure::Input(why)
            | Failure::Auth(why)
            | Failure::Service(why) => f.write_str(why),
        }
    }
}

impl From<Failure> for ExitCode {
    fn from(f: Failure) -> ExitCode {
        ExitCode::from(f.code())
    }
}

/// Help text listing the codes, shown by `--help`.
pub const EXIT_CODES: &str = "Exit codes:
  0  done, nothing refused
  1  done, but some rows were refused (written to the reject file with the reason)
  2  bad arguments or configuration
  3  the input file cannot be read or is not in the named format
  4  the token was refused (401) or the operator API is off (404)
  5  the service is unreachable or failed; nothing half-written, rerun to resume
  6  the link named does not exist (stats)";
