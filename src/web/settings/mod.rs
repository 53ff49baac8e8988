//! The admin page's settings: the forms, rendered with a link's current values
//! (`render.rs`), and a form posted without the script read back (`form.rs`).

mod form;
mod render;
#[cfg(test)]
mod tests;

pub use form::{form_patch, in_form_words, FormRefused, PLAIN_FORMS};
pub use render::{health_label, rule_template, settings, variant_template, Notice};
