//! A link's optional controls: its title, tags and private note, and how it routes
//! (validity window, fallback, targeting rules, A/B split, crawlability). Parsed once
//! from a request body; the routing part travels in the cached redirect rule, so a
//! redirect reads nothing more than it does for a plain link.

mod card;
mod field;
mod parse;
mod parse_rules;
mod routing;
mod stored;
#[cfg(test)]
mod tests;
mod utm;

pub use card::{SocialCard, MAX_CARD_DESCRIPTION_CHARS};
pub use field::*;
pub use parse::*;
pub use routing::*;
pub use stored::Controls;
pub use utm::{
    template_body, template_name, Utm, MAX_TEMPLATE_NAME_CHARS, MAX_UTM_CHARS, UTM_FIELDS,
};
// The classes a rule can name are the User-Agent's vocabulary, kept in one module.
pub use crate::user_agent::{DeviceClass, Os};
