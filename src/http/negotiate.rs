//! Content negotiation: whether a client gets a page or JSON, from its `Accept`
//! header. One answer for every route that has both forms.

use worker::Request;

/// True when the client asked for a page rather than JSON (a browser).
pub fn accepts_html(req: &Request) -> bool {
    wants_html(req.headers().get("Accept").ok().flatten().as_deref())
}

/// True when the client prefers a page to JSON, judged by its `Accept` header with
/// q-values (RFC 9110 §12.5.1): a page when `text/html` or `application/xhtml+xml`
/// has a weight above 0 and above that of `application/json`, or equal to it when the
/// client named the page type itself. So browsers get pages, `*/*` and no header get
/// JSON, and `text/html;q=0` refuses a page.
pub fn wants_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let accept = accept.to_ascii_lowercase();
    let ranges: Vec<MediaRange> = accept.split(',').filter_map(media_range).collect();
    let page = [("text", "html"), ("application", "xhtml+xml")]
        .into_iter()
        .filter_map(|(kind, sub)| best_match(&ranges, kind, sub))
        .max_by_key(|m| (m.weight, m.specificity));
    let json = best_match(&ranges, "application", "json").map_or(0, |m| m.weight);
    page.is_some_and(|p| {
        p.weight > 0 && (p.weight > json || (p.weight == json && p.specificity == EXACT))
    })
}

// A hand parser rather than a crate: the grammar is a few lines of RFC 9110, only one
// yes/no answer is needed, and every dependency adds to the wasm that each cold start
// loads.

/// One element of an `Accept` header (lower case): `type/subtype` and its weight.
struct MediaRange<'a> {
    kind: &'a str,
    sub: &'a str,
    /// The q-value in thousandths, 0..=1000.
    weight: u16,
}

// How specifically a range names a type; a more specific range overrides a wider one.
/// A `*/*` range.
const ANY: u8 = 0;
/// A `type/*` range.
const ANY_SUBTYPE: u8 = 1;
/// A `type/subtype` range: the type itself.
const EXACT: u8 = 2;

/// How a type is weighted: by the most specific range that matches it (RFC 9110 §12.5.1).
#[derive(Clone, Copy)]
struct Match {
    specificity: u8,
    weight: u16,
}

/// Parses one element; `None` for junk (no `type/subtype`, `*/subtype`, an empty part,
/// a malformed q-value), which is then ignored as if it had not been sent.
fn media_range(element: &str) -> Option<MediaRange<'_>> {
    let mut parts = element.split(';');
    let (kind, sub) = parts.next()?.trim().split_once('/')?;
    let (kind, sub) = (kind.trim(), sub.trim());
    // RFC 9110 §5.6.2 token characters.
    let is_token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !is_token(kind) || !is_token(sub) || (kind == "*" && sub != "*") {
        return None;
    }
    // Other parameters (`level=1`, `charset=utf-8`) are ignored: the service has one page
    // and one JSON form, and a client that asks for `text/html;charset=utf-8` wants that
    // page. The first `q` is the weight; anything after it is an extension (§12.5.1).
    let weight = match parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        (name.trim() == "q").then(|| value.trim())
    }) {
        None => 1000,
        Some(q) => qvalue(q)?,
    };
    Some(MediaRange { kind, sub, weight })
}

/// A q-value in thousandths: `0` to `1` with at most three decimals (RFC 9110 §12.4.2).
fn qvalue(raw: &str) -> Option<u16> {
    let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = frac
        .bytes()
        .fold(0_u16, |n, d| n * 10 + u16::from(d - b'0'));
    // "5" is 500 thousandths, "05" is 50, "005" is 5.
    let thousandths = digits * 10_u16.pow(3 - frac.len() as u32);
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The most specific range that matches `kind/sub`, and its weight.
fn best_match(ranges: &[MediaRange], kind: &str, sub: &str) -> Option<Match> {
    ranges
        .iter()
        .filter_map(|r| {
            let specificity = match (r.kind, r.sub) {
                ("*", "*") => ANY,
                (k, "*") if k == kind => ANY_SUBTYPE,
                (k, s) if k == kind && s == sub => EXACT,
                _ => return None,
            };
            Some(Match {
                specificity,
                weight: r.weight,
            })
        })
        // Of two equally specific ranges (a repeated type), the higher weight counts.
        .max_by_key(|m| (m.specificity, m.weight))
}

#[cfg(test)]
mod tests {
    use super::{qvalue, wants_html};

    #[test]
    fn browsers_get_pages_and_api_clients_get_json() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
        assert!(wants_html(Some(chrome)));
        assert!(!wants_html(Some("*/*")));
        assert!(!wants_html(Some("application/json")));
        assert!(!wants_html(None));
    }

    #[test]
    fn the_accept_header_is_weighed_by_its_q_values() {
        let cases = [
            // Browsers, as they send it.
            ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7", true),
            ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true),
            ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", true),
            ("application/xhtml+xml", true),
            // API clients.
            ("*/*", false),
            ("", false),
            ("application/json", false),
            ("application/json, text/plain, */*", false),
            ("application/*", false),
            // Weights decide.
            ("text/html;q=0", false),
            ("text/html; q=0.000", false),
            ("text/html;q=0, */*", false),
            ("*/*, text/html;q=0", false),
            ("application/json, text/html;q=0.5", false),
            ("text/html;q=0.5, application/json", false),
            ("text/html;q=0.001, application/json;q=0", true),
            ("text/html, application/json;q=0.9", true),
            ("application/json;q=0.9, text/html", true),
            ("text/html;q=0.8, application/json;q=0.8", true),
            ("text/html, application/json", true),
            ("text/*", true),
            ("text/*, application/json", false),
            ("text/*;q=0.9, */*;q=0.1", true),
            ("application/json;q=0, */*", true),
            ("application/xhtml+xml;q=0.9, application/json;q=0.5", true),
            ("text/html;q=0, application/xhtml+xml;q=0.2, application/json;q=0.1", true),
            // Case and whitespace do not matter.
            ("TEXT/HTML", true),
            ("Text/Html;Q=0", false),
            ("  text/html  ;  q=0.7 , application/json ; q=0.6 ", true),
            ("\ttext/html;q=1.000", true),
            // Other parameters do not stop a match; the first q is the weight.
            ("text/html;level=1", true),
            ("text/html;charset=utf-8;q=0", false),
            ("text/html;q=0;ext=1", false),
            ("text/html;q=0;q=1", false),
        ];
        for (accept, page) in cases {
            assert_eq!(wants_html(Some(accept)), page, "{accept:?}");
        }
    }

    #[test]
    fn junk_and_garbled_q_values_count_as_not_sent() {
        let cases = [
            ("text/html;q=abc", false),
            ("text/html;q=", false),
            ("text/html;q=1.5", false),
            ("text/html;q=2", false),
            ("text/html;q=-1", false),
            ("text/html;q=0.5e1", false),
            ("text/html;q=0.0001", false),
            ("text/html;q=NaN", false),
            ("text/html;q=.5", false),
            ("text/html;q=1.001", false),
            ("text/html;q=0,5", false),
            ("text/html;q=0.5;", true),
            ("text/html, application/json;q=oops", true),
            ("application/json, text/html;q=junk", false),
            ("html", false),
            ("text/", false),
            ("/html", false),
            ("*/html", false),
            ("text /html", true),
            ("te xt/html", false),
            (",,,;;;===", false),
            ("text/html\u{0}", false),
            ("téxt/html", false),
            (";q=1", false),
        ];
        for (accept, page) in cases {
            assert_eq!(wants_html(Some(accept)), page, "{accept:?}");
        }
        let long = "x/y;q=0.5,".repeat(10_000) + "text/html";
        assert!(wants_html(Some(&long)));
    }

    #[test]
    fn q_values_are_read_in_thousandths() {
        let cases = [
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.005", Some(5)),
            ("0.999", Some(999)),
            ("1", Some(1000)),
            ("1.", Some(1000)),
            ("1.000", Some(1000)),
            ("1.0001", None),
            ("1.5", None),
            ("01", None),
            ("", None),
            ("+0.5", None),
            ("0.٥", None),
        ];
        for (raw, want) in cases {
            assert_eq!(qvalue(raw), want, "{raw:?}");
        }
    }
}
