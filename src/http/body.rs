//! Reading a JSON request body without trusting its declared or actual size.

use futures_util::StreamExt;
use worker::Request;

use super::error::ApiError;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 8 * 1024;
/// Largest accepted bulk body: 100 items of up to about 2.5 KiB each.
pub const MAX_BULK_BODY_BYTES: usize = 256 * 1024;
/// Largest accepted import body: 1,000 items of up to about 4 KiB each (a 2,048-character
/// target, a title and ten tags), read once and written in one D1 batch.
pub const MAX_IMPORT_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Reads the body of a request that must carry JSON. A body declared as another media
/// type is refused (415); a missing `Content-Type` is tolerated for simple clients. The
/// body is read in chunks and abandoned as soon as it passes the limit, so a huge or
/// endless upload costs at most one chunk more than the limit.
pub async fn read_json(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    if let Some(content_type) = req.headers().get("Content-Type")? {
        if !is_json_media_type(&content_type) {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    read_limited(req, limit).await
}

/// The form field `name` of an HTML form's POST (`application/x-www-form-urlencoded`,
/// what a `<form method="post">` sends), or, for a client that posts JSON, of a JSON
/// object: the password form of a protected link.
pub async fn read_form_field(
    req: &mut Request,
    name: &str,
    limit: usize,
) -> Result<Option<String>, ApiError> {
    let json = req
        .headers()
        .get("Content-Type")?
        .is_some_and(|ct| is_json_media_type(&ct));
    let body = read_limited(req, limit).await?;
    if json {
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::Unprocessable(format!("request body is not valid JSON: {e}")))?;
        return Ok(value.get(name).and_then(|v| v.as_str()).map(str::to_string));
    }
    Ok(url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned()))
}

/// Every field of an HTML form's POST (`application/x-www-form-urlencoded`), in order:
/// the admin page's settings forms without the script.
pub async fn read_form(req: &mut Request, limit: usize) -> Result<Vec<(String, String)>, ApiError> {
    let body = read_limited(req, limit).await?;
    Ok(url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// How much of an oversized body is read (and thrown away) before the `413` is sent.
/// An answer sent while the client is still writing makes the connection close under
/// it, and the client may see a reset instead of the `413`; reading the rest first lets
/// a client that sent a few too many kilobytes read why. A body declared larger than
/// this is refused at once: a client sending that much is not waiting for an answer.
const DRAIN_MAX_BYTES: u64 = 1 << 20;

async fn read_limited(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    if let Some(length) = req.headers().get("Content-Length")? {
        match length.trim().parse::<u64>() {
            Ok(n) if n <= limit as u64 => {}
            Ok(n) if n <= DRAIN_MAX_BYTES => {
                if let Ok(mut stream) = req.stream() {
                    drain(&mut stream, DRAIN_MAX_BYTES).await;
                }
                return Err(ApiError::PayloadTooLarge(limit));
            }
            _ => return Err(ApiError::PayloadTooLarge(limit)),
        }
    }
    // A request without a body has no stream; that is an empty body, not a fault.
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::Unprocessable(format!("could not read body: {e}")))?;
        if body.len() + chunk.len() > limit {
            drain(&mut stream, DRAIN_MAX_BYTES.saturating_sub(limit as u64)).await;
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads and drops at most `max` more bytes of `stream` (see [`DRAIN_MAX_BYTES`]).
async fn drain(stream: &mut worker::ByteStream, max: u64) {
    let mut read: u64 = 0;
    while read < max {
        match stream.next().await {
            Some(Ok(chunk)) => read += chunk.len() as u64,
            _ => return,
        }
    }
}

/// `application/json` or any `+json` type, with or without parameters such as charset.
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::is_json_media_type;

    #[test]
    fn json_media_types_are_recognized_with_parameters_and_any_case() {
        for ct in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json_media_type(ct), "{ct}");
        }
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "text/json+",
            "",
        ] {
            assert!(!is_json_media_type(ct), "{ct}");
        }
    }
}
