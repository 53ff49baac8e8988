//! Tags from a source fitted to what a link holds here, so one odd tag does not cost a
//! link: each is tried as the service would store it (trimmed, lower case, inner spaces
//! as `-`), and one it could not hold, or one past the tenth, is left out with a note.
//! The rule mirrors `normalize_tag` in the worker's `src/domain/controls.rs` (the
//! service checks again); it moves to the shared domain crate with the other copies.

const MAX_TAGS: usize = 10;
const MAX_TAG_CHARS: usize = 32;

/// The tags kept, in order and without duplicates, and a note for each left out.
pub fn fit(raw: impl IntoIterator<Item = String>) -> (Vec<String>, Vec<String>) {
    let mut kept: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for tag in raw {
        let stored = tag
            .trim()
            .to_ascii_lowercase()
            .split_ascii_whitespace()
            .collect::<Vec<_>>()
            .join("-");
        if stored.is_empty() {
            continue;
        }
        let fits = stored.chars().count() <= MAX_TAG_CHARS
            && stored.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if !fits {
            notes.push(format!(
                "tag '{tag}' not kept: a tag here is 1 to {MAX_TAG_CHARS} of a-z, 0-9, '-', '_', '.'"
            ));
        } else if kept.contains(&stored) {
            continue;
        } else if kept.len() == MAX_TAGS {
            notes.push(format!(
                "tag '{tag}' not kept: a link here holds at most {MAX_TAGS} tags"
            ));
        } else {
            kept.push(stored);
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
