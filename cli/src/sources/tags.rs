//! Tags from a source fitted to what a link holds here, so one odd tag does not cost a
//! link: each is stored by the domain's own rule (`normalize_tag`: trimmed, lower case,
//! inner spaces as `-`), and one it refuses, or one past the tenth, is left out with a
//! note (the service checks again).

use shortener_domain::controls::{normalize_tag, MAX_TAGS};

/// The tags kept, in order and without duplicates, and a note for each left out.
pub fn fit(raw: impl IntoIterator<Item = String>) -> (Vec<String>, Vec<String>) {
    let mut kept: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for tag in raw {
        if tag.trim().is_empty() {
            continue;
        }
        match normalize_tag(&tag) {
            Err(why) => notes.push(format!("tag '{tag}' not kept: {why}")),
            Ok(stored) if kept.contains(&stored) => {}
            Ok(_) if kept.len() == MAX_TAGS => notes.push(format!(
                "tag '{tag}' not kept: a link here holds at most {MAX_TAGS} tags"
            )),
            Ok(stored) => kept.push(stored),
        }
    }
    (kept, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_stored_as_the_service_would_and_the_unfit_ones_are_named() {
        let raw = ["Summer Sale", "summer-sale", "été", " docs "].map(String::from);
        let (kept, notes) = fit(raw);
        assert_eq!(kept, vec!["summer-sale", "docs"]);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("'été' not kept"));
    }

    #[test]
    fn an_eleventh_tag_is_left_out_with_a_note() {
        let (kept, notes) = fit((0..11).map(|i| format!("t{i}")));
        assert_eq!(kept.len(), 10);
        assert!(notes[0].contains("'t10'") && notes[0].contains("at most 10"));
    }
}
