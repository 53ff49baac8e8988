//! Drawing a new link's key and secret: shared by single and bulk creation.

use crate::domain::address::LinkName;
use crate::domain::key::Key;
use crate::domain::link_request::NewLink;
use crate::domain::secret::{SecretHash, SecretKey};
use crate::domain::timestamp::Timestamp;
use crate::http::error::ApiError;
use crate::storage::links::NewRow;

/// Fresh keys tried before giving up with 503. At 8 symbols a single collision is already
/// improbable; five in a row means the key space is effectively full.
pub const MAX_KEY_ATTEMPTS: usize = 5;

/// The parts of a new row drawn for one attempt: a key and its secret.
pub struct Draft {
    pub key: Key,
    /// The key on the link's domain.
    pub name: LinkName,
    pub secret: SecretKey,
    pub secret_hash: SecretHash,
}

impl Draft {
    /// Draws a key (unless the creator chose one) on `domain`, and a secret for it.
    pub fn draw(
        new: &NewLink,
        domain: &crate::domain::address::Domain,
        key_length: usize,
    ) -> Result<Draft, ApiError> {
        let key = match &new.custom_key {
            Some(custom) => custom.clone(),
            None => Key::generate(key_length)?,
        };
        let secret = SecretKey::generate(&key)?;
        let secret_hash = secret.hash();
        Ok(Draft {
            name: LinkName::new(domain.clone(), key.clone()),
            key,
            secret,
            secret_hash,
        })
    }

    pub fn row<'a>(&'a self, new: &'a NewLink, target_hash: &'a str, now: Timestamp) -> NewRow<'a> {
        NewRow {
            name: &self.name,
            new,
            target_hash,
            secret_hash: &self.secret_hash,
            now,
            created_by: None,
        }
    }
}
