//! Domain types: values parsed once from untrusted input, with no dependency on the Workers runtime.

pub mod key;
pub mod link;
pub mod new_link;
pub mod random;
pub mod secret;
pub mod target_url;
pub mod timestamp;
