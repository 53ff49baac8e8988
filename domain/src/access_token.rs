//! A Cloudflare Access token (`Cf-Access-Jwt-Assertion`): its parts, its claims, and the
//! checks that need no key (algorithm, audience, issuer, validity window, who it names).
//! The RS256 signature itself is verified by the runtime's WebCrypto (`src/signin/`),
//! against the bytes [`AccessToken::signed_part`] returns.

use std::fmt;

use serde_json::Value;

use super::address::parse_host;

/// Seconds of clock difference tolerated on `exp` and `nbf`: Cloudflare's clock and the
/// worker's are the same network's, so a few seconds cover it.
pub const CLOCK_LEEWAY_SECONDS: i64 = 30;
/// Longest token read: Access tokens are about 1 KB; a group-heavy one a few KB.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The Access application this instance trusts: the team's domain
/// (`ACCESS_TEAM_DOMAIN`, e.g. `myteam.cloudflareaccess.com`) and the application's
/// Audience tag (`ACCESS_AUD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessApp {
    team: String,
    aud: String,
}

impl AccessApp {
    /// Reads the two settings; both unset means Access sign-in is off (`Ok(None)`), one
    /// without the other is refused in words.
    pub fn parse(team: Option<&str>, aud: Option<&str>) -> Result<Option<AccessApp>, String> {
        fn clean(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        match (clean(team), clean(aud)) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(
                "ACCESS_TEAM_DOMAIN is set without ACCESS_AUD (the application's Audience tag)"
                    .into(),
            ),
            (None, Some(_)) => Err(
                "ACCESS_AUD is set without ACCESS_TEAM_DOMAIN (e.g. myteam.cloudflareaccess.com)"
                    .into(),
            ),
            (Some(team), Some(aud)) => {
                let host = team
                    .strip_prefix("https://")
                    .unwrap_or(team)
                    .trim_end_matches('/');
                let team = parse_host(host).map_err(|e| format!("ACCESS_TEAM_DOMAIN: {e}"))?;
                Ok(Some(AccessApp {
                    team,
                    aud: aud.to_string(),
                }))
            }
        }
    }

    /// The `iss` every token of this team carries.
    pub fn issuer(&self) -> String {
        format!("https://{}", self.team)
    }

    /// Where the team publishes its signing keys (a JWK set).
    pub fn certs_url(&self) -> String {
        format!("https://{}/cdn-cgi/access/certs", self.team)
    }
}

/// Why a token was refused, in words the client is shown (nothing secret: the token's
/// own claims are the caller's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not three base64url parts of JSON, or a claim of the wrong type.
    Malformed(&'static str),
    /// An algorithm other than RS256 (`none`, HS256…): never accepted.
    Algorithm(String),
    /// Issued for another Access application.
    Audience,
    /// Issued by another team.
    Issuer,
    Expired,
    NotYetValid,
    /// No `email`: an Access service token, which has no person to map.
    NoEmail,
    /// Signed by a key the team does not publish (after a fresh look at its keys).
    UnknownKey,
    BadSignature,
    /// The team's keys could not be fetched, so nothing can be verified.
    KeysUnavailable,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed(what) => write!(f, "the Access token is malformed ({what})"),
            Refusal::Algorithm(alg) => {
                write!(f, "the Access token is signed with {alg}; only RS256 is accepted")
            }
            Refusal::Audience => f.write_str(
                "the Access token was issued for another application (its aud is not ACCESS_AUD)",
            ),
            Refusal::Issuer => f.write_str(
                "the Access token was issued by another team (its iss is not ACCESS_TEAM_DOMAIN)",
            ),
            Refusal::Expired => f.write_str("the Access token has expired: sign in again"),
            Refusal::NotYetValid => f.write_str("the Access token is not valid yet (nbf)"),
            Refusal::NoEmail => f.write_str(
                "the Access token names no person (a service token?): programs use an API key",
            ),
            Refusal::UnknownKey => {
                f.write_str("the Access token is signed by a key the team does not publish")
            }
            Refusal::BadSignature => f.write_str("the Access token's signature does not verify"),
            Refusal::KeysUnavailable => f.write_str(
                "the Access team's signing keys could not be fetched, so the token cannot be verified",
            ),
        }
    }
}

/// The person a verified token names: a lower-cased email and the groups the identity
/// provider sent (when the Access policy passes them on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub email: String,
    pub groups: Vec<String>,
}

/// A token split into its parts, its claims read; nothing checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The signing key's id, from the header.
    pub kid: String,
    signed: String,
    signature: Vec<u8>,
    aud: Vec<String>,
    iss: String,
    exp: i64,
    nbf: Option<i64>,
    email: Option<String>,
    groups: Vec<String>,
}

impl AccessToken {
    /// Splits and decodes `raw` (`header.payload.signature`, each base64url).
    pub fn parse(raw: &str) -> Result<AccessToken, Refusal> {
        let raw = raw.trim();
        if raw.len() > MAX_TOKEN_LEN {
            return Err(Refusal::Malformed("longer than 16 KB"));
        }
        let mut parts = raw.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Malformed("not three dot-separated parts"));
        };
        let json = |part: &str, what: &'static str| -> Result<Value, Refusal> {
            let bytes = base64url_decode(part).ok_or(Refusal::Malformed(what))?;
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v @ Value::Object(_)) => Ok(v),
                _ => Err(Refusal::Malformed(what)),
            }
        };
        let header = json(h, "header")?;
        let claims = json(p, "payload")?;
        let signature = base64url_decode(s).ok_or(Refusal::Malformed("signature"))?;
        match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => {}
            Some(other) => return Err(Refusal::Algorithm(other.chars().take(20).collect())),
            None => return Err(Refusal::Malformed("no alg")),
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty() && k.len() <= 200)
            .ok_or(Refusal::Malformed("no kid"))?
            .to_string();
        // `aud` is a string or a list of them (RFC 7519 §4.1.3); Access sends a list.
        let aud = match claims.get("aud") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => return Err(Refusal::Malformed("no aud")),
        };
        let time = |name: &str| claims.get(name).and_then(Value::as_f64).map(|t| t as i64);
        Ok(AccessToken {
            kid,
            signed: format!("{h}.{p}"),
            signature,
            aud,
            iss: claims
                .get("iss")
                .and_then(Value::as_str)
                .ok_or(Refusal::Malformed("no iss"))?
                .to_string(),
            exp: time("exp").ok_or(Refusal::Malformed("no exp"))?,
            nbf: time("nbf"),
            email: claims
                .get("email")
                .and_then(Value::as_str)
                .map(|e| e.trim().to_ascii_lowercase())
                .filter(|e| e.contains('@')),
            // `groups` at the top, or under `custom`, where Access puts the claims an
            // identity provider passes through (OIDC claims, SAML attributes).
            groups: groups_of(
                claims
                    .get("groups")
                    .or_else(|| claims.get("custom").and_then(|c| c.get("groups"))),
            ),
        })
    }

    /// Checks everything but the signature against `app` at `now` (Unix seconds), and
    /// names the person. Cheap, so it runs before any key is looked up.
    pub fn check(&self, app: &AccessApp, now: i64) -> Result<Person, Refusal> {
        if !self.aud.contains(&app.aud) {
            return Err(Refusal::Audience);
        }
        if self.iss.trim_end_matches('/') != app.issuer() {
            return Err(Refusal::Issuer);
        }
        if now > self.exp + CLOCK_LEEWAY_SECONDS {
            return Err(Refusal::Expired);
        }
        if self.nbf.is_some_and(|nbf| now + CLOCK_LEEWAY_SECONDS < nbf) {
            return Err(Refusal::NotYetValid);
        }
        let email = self.email.clone().ok_or(Refusal::NoEmail)?;
        Ok(Person {
            email,
            groups: self.groups.clone(),
        })
    }

    /// The bytes the signature covers: `header.payload` as sent.
    pub fn signed_part(&self) -> &[u8] {
        self.signed.as_bytes()
    }

    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// Group names from a `groups` claim: strings, or objects with a `name` (or `id`), as
/// identity providers pass them through Access.
fn groups_of(claim: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(list)) = claim else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|g| match g {
            Value::String(name) => Some(name.clone()),
            Value::Object(o) => o
                .get("name")
                .or_else(|| o.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => None,
        })
        .collect()
}

/// base64url without padding (RFC 7515 §2); `None` on any other symbol.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone leftover symbol (6 bits) cannot end a valid encoding.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn token(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(b"sig")
        )
    }

    fn app() -> AccessApp {
        AccessApp::parse(Some("team.cloudflareaccess.com"), Some("aud-tag"))
            .unwrap()
            .unwrap()
    }

    const NOW: i64 = 1_800_000_000;

    fn claims() -> Value {
        serde_json::json!({
            "aud": ["aud-tag"], "iss": "https://team.cloudflareaccess.com",
            "exp": NOW + 3600, "nbf": NOW - 10, "iat": NOW - 10,
            "email": "Ops@Example.com", "groups": ["marketing", {"name": "ops", "id": "g1"}],
        })
    }

    fn rs256() -> Value {
        serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for n in 0..40u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base64url_decode(&b64(&bytes)), Some(bytes));
        }
        assert_eq!(base64url_decode("a+b/"), None, "standard base64 symbols");
        assert_eq!(base64url_decode("A"), None, "a lone symbol");
    }

    #[test]
    fn a_valid_token_names_the_person_in_lower_case_with_their_groups() {
        let t = AccessToken::parse(&token(rs256(), claims())).unwrap();
        assert_eq!(t.kid, "k1");
        assert_eq!(t.signature(), b"sig");
        let person = t.check(&app(), NOW).unwrap();
        assert_eq!(person.email, "ops@example.com");
        assert_eq!(person.groups, vec!["marketing", "ops"]);
        assert!(t
            .signed_part()
            .starts_with(b64(rs256().to_string().as_bytes()).as_bytes()));
    }

    #[test]
    fn groups_passed_through_as_custom_claims_are_read_too() {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("groups");
        c["custom"] = serde_json::json!({"groups": ["sales"]});
        let person = AccessToken::parse(&token(rs256(), c))
            .unwrap()
            .check(&app(), NOW)
            .unwrap();
        assert_eq!(person.groups, vec!["sales"]);
    }

    #[test]
    fn each_failed_check_is_refused_with_its_reason() {
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            AccessToken::parse(&token(rs256(), c))
                .unwrap()
                .check(&app(), NOW)
        };
        let cases: Vec<(&str, Result<Person, Refusal>, Refusal)> = vec![
            (
                "another audience",
                with("aud", "other".into()),
                Refusal::Audience,
            ),
            (
                "another team",
                with("iss", "https://evil.cloudflareaccess.com".into()),
                Refusal::Issuer,
            ),
            (
                "expired an hour ago",
                with("exp", (NOW - 3600).into()),
                Refusal::Expired,
            ),
            (
                "valid only tomorrow",
                with("nbf", (NOW + 86_400).into()),
                Refusal::NotYetValid,
            ),
            ("no email", with("email", Value::Null), Refusal::NoEmail),
        ];
        for (case, got, want) in cases {
            assert_eq!(got, Err(want), "{case}");
        }
    }

    #[test]
    fn the_clock_leeway_is_honoured_on_both_ends() {
        let t = AccessToken::parse(&token(rs256(), claims())).unwrap();
        assert!(t.check(&app(), NOW + 3600 + CLOCK_LEEWAY_SECONDS).is_ok());
        assert_eq!(
            t.check(&app(), NOW + 3600 + CLOCK_LEEWAY_SECONDS + 1),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn only_rs256_is_accepted() {
        for alg in ["none", "HS256", "RS512", "ES256"] {
            let h = serde_json::json!({"alg": alg, "kid": "k1"});
            assert_eq!(
                AccessToken::parse(&token(h, claims())),
                Err(Refusal::Algorithm(alg.into())),
                "{alg}"
            );
        }
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_check() {
        let no_kid = token(serde_json::json!({"alg": "RS256"}), claims());
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        for raw in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.e30",
            &no_kid,
            &token(rs256(), no_exp),
            &"a".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert!(
                matches!(AccessToken::parse(raw), Err(Refusal::Malformed(_))),
                "{raw:.40}"
            );
        }
    }

    #[test]
    fn the_team_domain_is_read_with_or_without_its_scheme() {
        for raw in [
            "team.cloudflareaccess.com",
            "https://team.cloudflareaccess.com/",
            " Team.CloudflareAccess.com ",
        ] {
            let app = AccessApp::parse(Some(raw), Some("aud-tag"))
                .unwrap()
                .unwrap();
            assert_eq!(app.issuer(), "https://team.cloudflareaccess.com", "{raw}");
            assert_eq!(
                app.certs_url(),
                "https://team.cloudflareaccess.com/cdn-cgi/access/certs"
            );
        }
    }

    #[test]
    fn access_is_off_without_both_settings_and_refused_with_one() {
        assert_eq!(AccessApp::parse(None, Some(" ")), Ok(None));
        assert!(AccessApp::parse(Some("team.cloudflareaccess.com"), None).is_err());
        assert!(AccessApp::parse(None, Some("aud")).is_err());
        assert!(AccessApp::parse(Some("not a host"), Some("aud")).is_err());
    }
}
