//! PBKDF2, digests and RS256 signature checks through the runtime's WebCrypto (`crypto.subtle`):
//! the one place that asks the platform for key derivation and signatures. Native code
//! in the runtime derives 100,000 iterations in a few ms, where the same loop in wasm
//! would take tens of ms of the request's CPU, and no crypto crate (RSA included) is
//! added to the wasm. Reached by name through `js_sys::Reflect`, so no extra web-sys
//! bindings are compiled in either.

use worker::js_sys::{self, Array, Function, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

fn get(target: &JsValue, name: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(name)).map_err(|e| format!("{name}: {e:?}"))
}

fn call(subtle: &JsValue, method: &str, args: &[JsValue]) -> Result<js_sys::Promise, String> {
    let f: Function = get(subtle, method)?
        .dyn_into()
        .map_err(|_| format!("crypto.subtle.{method} is not a function"))?;
    let list: Array = args.iter().collect();
    f.apply(subtle, &list)
        .map_err(|e| format!("crypto.subtle.{method}: {e:?}"))?
        .dyn_into()
        .map_err(|_| format!("crypto.subtle.{method} returned no promise"))
}

fn object(pairs: &[(&str, JsValue)]) -> Result<JsValue, String> {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).map_err(|e| format!("{k}: {e:?}"))?;
    }
    Ok(o.into())
}

/// PBKDF2-HMAC-SHA256 of `password` with `salt`, `iterations` times: 32 bytes.
pub async fn pbkdf2_sha256(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, String> {
    let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
    let usages: Array = [JsValue::from_str("deriveBits")].iter().collect();
    let key = JsFuture::from(call(
        &subtle,
        "importKey",
        &[
            "raw".into(),
            Uint8Array::from(password).into(),
            "PBKDF2".into(),
            false.into(),
            usages.into(),
        ],
    )?)
    .await
    .map_err(|e| format!("importKey: {e:?}"))?;
    let params = object(&[
        ("name", "PBKDF2".into()),
        ("hash", "SHA-256".into()),
        ("salt", Uint8Array::from(salt).into()),
        ("iterations", iterations.into()),
    ])?;
    let bits = JsFuture::from(call(
        &subtle,
        "deriveBits",
        &[params, key, JsValue::from(256u32)],
    )?)
    .await
    .map_err(|e| format!("deriveBits: {e:?}"))?;
    Ok(Uint8Array::new(&bits).to_vec())
}

/// The digest of `data` under `algorithm` (a WebCrypto name: `SHA-1`, `SHA-256`,
/// `SHA-512`, or `MD5`, which Workers add to the standard).
pub async fn digest(algorithm: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
    let bytes = JsFuture::from(call(
        &subtle,
        "digest",
        &[algorithm.into(), Uint8Array::from(data).into()],
    )?)
    .await
    .map_err(|e| format!("digest: {e:?}"))?;
    Ok(Uint8Array::new(&bytes).to_vec())
}

/// The parameters of RS256 (RSASSA-PKCS1-v1_5 with SHA-256), the one algorithm
/// Cloudflare Access signs with.
fn rs256() -> Result<JsValue, String> {
    object(&[
        ("name", "RSASSA-PKCS1-v1_5".into()),
        ("hash", "SHA-256".into()),
    ])
}

/// Imports an RSA public key given as a JWK's modulus `n` and exponent `e` (base64url),
/// for RS256 verification only. The key object is what [`verify_rs256`] takes.
pub async fn import_rs256_key(n: &str, e: &str) -> Result<JsValue, String> {
    let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
    let jwk = object(&[
        ("kty", "RSA".into()),
        ("n", n.into()),
        ("e", e.into()),
        ("alg", "RS256".into()),
        ("ext", true.into()),
    ])?;
    let usages: Array = [JsValue::from_str("verify")].iter().collect();
    JsFuture::from(call(
        &subtle,
        "importKey",
        &["jwk".into(), jwk, rs256()?, false.into(), usages.into()],
    )?)
    .await
    .map_err(|e| format!("importKey: {e:?}"))
}

/// Whether `signature` is `key`'s RS256 signature of `data`.
pub async fn verify_rs256(key: &JsValue, signature: &[u8], data: &[u8]) -> Result<bool, String> {
    let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
    let verdict = JsFuture::from(call(
        &subtle,
        "verify",
        &[
            rs256()?,
            key.clone(),
            Uint8Array::from(signature).into(),
            Uint8Array::from(data).into(),
        ],
    )?)
    .await
    .map_err(|e| format!("verify: {e:?}"))?;
    Ok(verdict.as_bool().unwrap_or(false))
}
