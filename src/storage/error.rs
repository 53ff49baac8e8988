//! What storage reports when it fails: which operation, and the cause the runtime gave.
//! Storage never decides an HTTP outcome; `http::error` maps this once.

use std::fmt;

/// A failed storage operation. `Display` is the server-side log line: the operation
/// and the real cause, never a client-facing sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError {
    /// What was being done, for example `"D1 find"` or `"D1 binding DB"`.
    pub operation: String,
    /// The underlying error, as the runtime or the decoder reported it.
    pub cause: String,
}

impl StorageError {
    /// A failure of `operation` caused by `cause`.
    pub fn new(operation: impl Into<String>, cause: impl fmt::Display) -> StorageError {
        StorageError {
            operation: operation.into(),
            cause: cause.to_string(),
        }
    }
}

impl StorageError {
    /// Whether the database answered and refused the write (a UNIQUE, CHECK or foreign
    /// key constraint, or a trigger's `RAISE`): the same request would be refused
    /// again, so this is a fault to fix, not an outage to wait out. SQLite names every
    /// such refusal `SQLITE_CONSTRAINT` (D1 passes that on), or says `constraint
    /// failed`.
    pub fn is_refusal(&self) -> bool {
        self.cause.contains("SQLITE_CONSTRAINT") || self.cause.contains("constraint failed")
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.cause)
    }
}

impl std::error::Error for StorageError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_write_is_told_apart_from_an_unavailable_store() {
        for (cause, refusal) in [
            (
                "D1_ERROR: key is an alias of another link: SQLITE_CONSTRAINT",
                true,
            ),
            (
                "D1_ERROR: UNIQUE constraint failed: links.stats_key: SQLITE_CONSTRAINT",
                true,
            ),
            (
                "D1_ERROR: CHECK constraint failed: length(key) BETWEEN 3 AND 64",
                true,
            ),
            ("D1_ERROR: Network connection lost.", false),
            ("D1 binding DB: no such binding", false),
            ("D1_ERROR: no such table: links", false),
        ] {
            assert_eq!(
                StorageError::new("D1 import", cause).is_refusal(),
                refusal,
                "{cause}"
            );
        }
    }

    #[test]
    fn the_log_line_names_the_operation_and_the_cause() {
        let e = StorageError::new("D1 find", "D1_ERROR: no such table: links");
        assert_eq!(e.to_string(), "D1 find: D1_ERROR: no such table: links");
    }
}
