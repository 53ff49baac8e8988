//! Domain types: values parsed once from untrusted input, with no dependency on the Workers runtime.

pub mod access;
pub mod access_roles;
pub mod access_token;
pub mod address;
pub mod controls;
pub mod domains;
pub mod health;
pub mod import;
pub mod key;
pub mod link;
pub mod link_request;
pub mod outcome;
pub mod password;
pub mod random;
pub mod request;
pub mod secret;
pub mod shard;
pub mod signature;
pub mod stats;
pub mod target_url;
pub mod timestamp;
pub mod token;
pub mod user_agent;
pub mod visit;
pub mod visitors;
