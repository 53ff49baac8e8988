//! QR codes of short URLs as SVG. The `qrcodegen` crate encodes (Nayuki's reference
//! implementation; about 6 KB of gzipped wasm against 14.6 KB for the `qrcode` crate);
//! this file only draws the modules it returns.

use std::fmt::Write;

use qrcodegen::{QrCode, QrCodeEcc};

/// Light modules around the code, as the standard asks for.
const QUIET_ZONE: i32 = 4;

/// An SVG of `text` as a QR code, `size` pixels wide and high. One path holds every
/// dark module, so the SVG stays small and renders crisply at any size.
pub fn svg(text: &str, size: u32) -> Result<String, String> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|e| e.to_string())?;
    let n = code.size();
    let dim = n + 2 * QUIET_ZONE;
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if code.get_module(x, y) {
                // Writing to a String cannot fail.
                let _ = write!(path, "M{},{}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE);
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{size}\" height=\"{size}\" \
         viewBox=\"0 0 {dim} {dim}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{dim}\" height=\"{dim}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_has_the_requested_size_and_the_three_finder_patterns() {
        let image = svg("https://sho.rt/abcd2345", 256).unwrap();
        assert!(image.starts_with("<svg") && image.ends_with("</svg>"));
        assert!(image.contains("width=\"256\" height=\"256\""));
        // A short URL fits a version-2 code: 25 modules plus the quiet zone.
        assert!(image.contains("viewBox=\"0 0 33 33\""), "{image}");
        let code = QrCode::encode_text("https://sho.rt/abcd2345", QrCodeEcc::Medium).unwrap();
        let n = code.size();
        for (x, y) in [(0, 0), (n - 1, 0), (0, n - 1)] {
            assert!(code.get_module(x, y), "finder corner at {x},{y}");
        }
        assert!(image.contains("M4,4h1v1h-1z"));
    }

    #[test]
    fn text_too_long_for_any_qr_code_is_an_error() {
        assert!(svg(&"x".repeat(5000), 256).is_err());
    }
}
