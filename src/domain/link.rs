//! A stored short link as the rest of the service sees it.

use super::timestamp::Timestamp;

/// One row of the `links` table, minus the secret hash, which never leaves storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub key: String,
    pub target_url: String,
    pub is_active: bool,
    pub clicks: i64,
    pub created_at: Timestamp,
}
