//! The pages people use in a browser: HTML rendered on the server (readable without
//! JavaScript), one stylesheet and one small script, all served by the worker itself.

pub mod chart;
pub mod docs;
pub mod html;
pub mod pages;
pub mod qr;

/// The stylesheet of every page.
pub const APP_CSS: &str = include_str!("../assets/app.css");
/// The script of the home and admin pages: form submission and admin actions.
pub const APP_JS: &str = include_str!("../assets/app.js");

/// True when the client prefers a page to JSON: browsers send `Accept: text/html`.
pub fn wants_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::wants_html;

    #[test]
    fn browsers_get_pages_and_api_clients_get_json() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
        assert!(wants_html(Some(chrome)));
        assert!(!wants_html(Some("*/*")));
        assert!(!wants_html(Some("application/json")));
        assert!(!wants_html(None));
    }
}
