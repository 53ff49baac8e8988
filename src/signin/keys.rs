//! The Access team's signing keys (`https://<team>/cdn-cgi/access/certs`), fetched and
//! cached per isolate. Access publishes the current and the previous key and rotates
//! every six weeks, so a token whose key id is not in the cache makes one fresh fetch
//! (a rotation); an id still unknown after that is remembered for a while, so a stream
//! of made-up ids cannot turn every request into a fetch.

use std::cell::RefCell;
use std::time::Duration;

use futures_util::future::{select, Either};
use serde_json::Value;
use worker::wasm_bindgen::JsValue;
use worker::{Delay, Fetch, Url};

use crate::domain::access_token::{AccessApp, AccessToken, Refusal};
use crate::log::LogLine;
use crate::webcrypto::{import_rs256_key, verify_rs256};

/// How long a fetched key set is trusted before it is fetched again: a removed key
/// stops being accepted within this time.
const KEYS_TTL_MS: i64 = 60 * 60 * 1000;
/// How long a key id that the team's fresh key set did not hold is refused without
/// another fetch.
const UNKNOWN_KID_TTL_MS: i64 = 5 * 60 * 1000;
/// Unknown key ids remembered at most (the list is emptied when full).
const MAX_UNKNOWN_KIDS: usize = 32;
/// Time the key fetch may take.
const FETCH_TIMEOUT_MS: u64 = 5_000;

#[derive(Default)]
struct Cache {
    /// The certs URL the keys came from (a changed setting is a new team).
    from: String,
    fetched_at: i64,
    /// Key id -> the imported WebCrypto key.
    keys: Vec<(String, JsValue)>,
    unknown: Vec<(String, i64)>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

fn cached(url: &str, kid: &str, now: i64) -> Option<JsValue> {
    CACHE.with(|c| {
        let c = c.borrow();
        (c.from == url && now - c.fetched_at < KEYS_TTL_MS)
            .then(|| {
                c.keys
                    .iter()
                    .find(|(k, _)| k == kid)
                    .map(|(_, key)| key.clone())
            })
            .flatten()
    })
}

fn known_unknown(url: &str, kid: &str, now: i64) -> bool {
    CACHE.with(|c| {
        let c = c.borrow();
        c.from == url
            && now - c.fetched_at < KEYS_TTL_MS
            && c.unknown
                .iter()
                .any(|(k, at)| k == kid && now - at < UNKNOWN_KID_TTL_MS)
    })
}

/// Verifies `token`'s signature with the team's key it names; `now` in Unix ms.
pub async fn verify(app: &AccessApp, token: &AccessToken, now: i64) -> Result<(), Refusal> {
    let url = app.certs_url();
    let key = match cached(&url, &token.kid, now) {
        Some(key) => key,
        None if known_unknown(&url, &token.kid, now) => return Err(Refusal::UnknownKey),
        None => {
            refresh(&url, now).await?;
            match cached(&url, &token.kid, now) {
                Some(key) => key,
                None => {
                    CACHE.with(|c| {
                        let mut c = c.borrow_mut();
                        if c.unknown.len() >= MAX_UNKNOWN_KIDS {
                            c.unknown.clear();
                        }
                        c.unknown.push((token.kid.clone(), now));
                    });
                    return Err(Refusal::UnknownKey);
                }
            }
        }
    };
    match verify_rs256(&key, token.signature(), token.signed_part()).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Refusal::BadSignature),
        Err(e) => {
            LogLine::error("access.verify").cause(e).emit();
            Err(Refusal::BadSignature)
        }
    }
}

/// Fetches the key set and replaces the cache with its RSA keys.
async fn refresh(url: &str, now: i64) -> Result<(), Refusal> {
    let body = fetch(url).await.map_err(|e| {
        LogLine::error("access.keys")
            .route(url)
            .cause(format!("not fetched: {e}"))
            .emit();
        Refusal::KeysUnavailable
    })?;
    let mut keys = Vec::new();
    let listed = body
        .get("keys")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for jwk in &listed {
        let field = |name: &str| jwk.get(name).and_then(Value::as_str);
        let (Some(kid), Some("RSA"), Some(n), Some(e)) =
            (field("kid"), field("kty"), field("n"), field("e"))
        else {
            continue;
        };
        match import_rs256_key(n, e).await {
            Ok(key) => keys.push((kid.to_string(), key)),
            Err(e) => LogLine::error("access.keys")
                .route(url)
                .cause(format!("key {kid} not imported: {e}"))
                .emit(),
        }
    }
    if keys.is_empty() {
        LogLine::error("access.keys")
            .route(url)
            .cause("no RSA key in the answer")
            .emit();
        return Err(Refusal::KeysUnavailable);
    }
    CACHE.with(|c| {
        *c.borrow_mut() = Cache {
            from: url.to_string(),
            fetched_at: now,
            keys,
            unknown: Vec::new(),
        }
    });
    Ok(())
}

async fn fetch(url: &str) -> Result<Value, String> {
    let url = Url::parse(url).map_err(|e| e.to_string())?;
    let request = Box::pin(async move {
        let mut res = Fetch::Url(url).send().await.map_err(|e| e.to_string())?;
        if res.status_code() != 200 {
            return Err(format!("status {}", res.status_code()));
        }
        res.json::<Value>().await.map_err(|e| e.to_string())
    });
    let timer = Delay::from(Duration::from_millis(FETCH_TIMEOUT_MS));
    match select(request, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err("timed out".into()),
    }
}
