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
    fn the_log_line_names_the_operation_and_the_cause() {
        let e = StorageError::new("D1 find", "D1_ERROR: no such table: links");
        assert_eq!(e.to_string(), "D1 find: D1_ERROR: no such table: links");
    }
}
