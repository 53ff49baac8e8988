//! Sign-in with Cloudflare Access: a person whom Access let through (its JWT in
//! `Cf-Access-Jwt-Assertion`) acts in the dashboard and the operator API with the role
//! `ACCESS_ROLES` gives them. The token's claims and the role mapping are pure
//! (`domain::access_token`, `domain::access_roles`); this module owns the team's keys
//! and the request-side steps.

mod keys;
mod person;

pub use person::{sign_in, ASSERTION_HEADER};
