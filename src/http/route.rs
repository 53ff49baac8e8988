//! Routing as a pure function from (method, path) to a [`Route`], with keys and secrets
//! parsed on the way so that a path that cannot name a link never reaches storage.

use crate::domain::key::Key;
use crate::domain::secret::SecretKey;

/// The request methods the service distinguishes; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl Method {
    pub fn parse(raw: &str) -> Method {
        match raw {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Home,
    Health,
    Create,
    /// `GET` counts a click; `HEAD` answers the same and counts nothing.
    Redirect {
        key: Key,
        count_click: bool,
    },
    Peek {
        key: Key,
    },
    AdminShow {
        secret: SecretKey,
    },
    AdminDeactivate {
        secret: SecretKey,
    },
}

/// Why no route matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRoute {
    NotFound,
    /// The path is known but not with this method; the methods it allows.
    MethodNotAllowed(&'static str),
}

/// The kinds of path the service knows, before the method is considered.
enum Path {
    Home,
    Health,
    Create,
    Link(Key),
    Peek(Key),
    Admin(SecretKey),
}

fn classify(path: &str) -> Option<Path> {
    let rest = path.strip_prefix('/')?;
    match rest {
        "" => return Some(Path::Home),
        "healthz" => return Some(Path::Health),
        "url" => return Some(Path::Create),
        _ => {}
    }
    if let Some(secret) = rest.strip_prefix("admin/") {
        return SecretKey::parse(secret).ok().map(Path::Admin);
    }
    if let Some(key) = rest.strip_suffix('+') {
        return Key::parse(key).ok().map(Path::Peek);
    }
    Key::parse(rest).ok().map(Path::Link)
}

/// Resolves a request to a route.
pub fn resolve(method: Method, path: &str) -> Result<Route, NoRoute> {
    use Method::{Delete, Get, Head, Post};
    let path = classify(path).ok_or(NoRoute::NotFound)?;
    let not_allowed = |allowed| Err(NoRoute::MethodNotAllowed(allowed));
    match (path, method) {
        (Path::Home, Get | Head) => Ok(Route::Home),
        (Path::Home, _) => not_allowed("GET, HEAD"),
        (Path::Health, Get | Head) => Ok(Route::Health),
        (Path::Health, _) => not_allowed("GET, HEAD"),
        (Path::Create, Post) => Ok(Route::Create),
        (Path::Create, _) => not_allowed("POST"),
        (Path::Link(key), Get) => Ok(Route::Redirect {
            key,
            count_click: true,
        }),
        (Path::Link(key), Head) => Ok(Route::Redirect {
            key,
            count_click: false,
        }),
        (Path::Link(_), _) => not_allowed("GET, HEAD"),
        (Path::Peek(key), Get | Head) => Ok(Route::Peek { key }),
        (Path::Peek(_), _) => not_allowed("GET, HEAD"),
        (Path::Admin(secret), Get | Head) => Ok(Route::AdminShow { secret }),
        (Path::Admin(secret), Delete) => Ok(Route::AdminDeactivate { secret }),
        (Path::Admin(_), _) => not_allowed("GET, HEAD, DELETE"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::key::Key;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn fixed_paths_route_by_method() {
        assert_eq!(resolve(Method::Get, "/"), Ok(Route::Home));
        assert_eq!(resolve(Method::Head, "/healthz"), Ok(Route::Health));
        assert_eq!(resolve(Method::Post, "/url"), Ok(Route::Create));
        assert_eq!(
            resolve(Method::Get, "/url"),
            Err(NoRoute::MethodNotAllowed("POST"))
        );
        assert_eq!(
            resolve(Method::Post, "/"),
            Err(NoRoute::MethodNotAllowed("GET, HEAD"))
        );
    }

    #[test]
    fn keys_route_to_redirects_case_insensitively() {
        assert_eq!(
            resolve(Method::Get, "/AbC"),
            Ok(Route::Redirect {
                key: key("abc"),
                count_click: true
            })
        );
        assert_eq!(
            resolve(Method::Head, "/abc"),
            Ok(Route::Redirect {
                key: key("abc"),
                count_click: false
            })
        );
        assert_eq!(
            resolve(Method::Get, "/abc+"),
            Ok(Route::Peek { key: key("abc") })
        );
        assert_eq!(
            resolve(Method::Post, "/abc"),
            Err(NoRoute::MethodNotAllowed("GET, HEAD"))
        );
        assert_eq!(
            resolve(Method::Delete, "/abc+"),
            Err(NoRoute::MethodNotAllowed("GET, HEAD"))
        );
    }

    #[test]
    fn admin_paths_carry_the_hash_of_a_well_formed_secret() {
        let secret = SecretKey::generate(&key("abc")).unwrap();
        let path = format!("/admin/{}", secret.as_str());
        assert_eq!(
            resolve(Method::Get, &path),
            Ok(Route::AdminShow {
                secret: secret.clone()
            })
        );
        assert_eq!(
            resolve(Method::Delete, &path),
            Ok(Route::AdminDeactivate {
                secret: secret.clone()
            })
        );
        assert_eq!(
            resolve(Method::Put, &path),
            Err(NoRoute::MethodNotAllowed("GET, HEAD, DELETE"))
        );
    }

    #[test]
    fn paths_that_cannot_name_anything_are_not_found() {
        for path in [
            "",
            "abc",
            "/ab",
            "/abc/",
            "/abc/def",
            "/abc++",
            "/+",
            "/admin",
            "/admin/",
            "/admin/not-a-secret",
            "/admin/abc_short",
            "/%41bc",
            "/..%2f..%2fetc",
            "/../etc/passwd",
            "/healthz/",
            "/url/",
            "//abc",
        ] {
            assert_eq!(
                resolve(Method::Get, path),
                Err(NoRoute::NotFound),
                "{path:?}"
            );
            assert_eq!(
                resolve(Method::Post, path),
                Err(NoRoute::NotFound),
                "{path:?}"
            );
        }
        let long = format!("/{}", "a".repeat(65));
        assert_eq!(resolve(Method::Get, &long), Err(NoRoute::NotFound));
    }

    #[test]
    fn reserved_words_are_never_routed_as_keys() {
        for path in [
            "/admin", "/api", "/docs", "/static", "/www", "/admin+", "/api+",
        ] {
            assert_eq!(
                resolve(Method::Get, path),
                Err(NoRoute::NotFound),
                "{path:?}"
            );
        }
    }

    #[test]
    fn methods_parse_by_exact_name() {
        assert_eq!(Method::parse("GET"), Method::Get);
        assert_eq!(Method::parse("get"), Method::Other);
        assert_eq!(Method::parse("PROPFIND"), Method::Other);
    }
}
