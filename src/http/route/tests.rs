//! The route table, tested without a network: every path and method, and what each
//! resolves to.

use super::*;

#[test]
fn the_bench_counters_answer_only_when_enabled_and_only_to_the_operator_token() {
    let key = Actor::Key {
        id: "key_abcdefghjkmn".into(),
        role: crate::domain::access::Role::Admin,
        domains: None,
    };
    let cases = [
        (BENCH_COUNTERS_PATH, true, Some(&Actor::Root), true),
        (BENCH_COUNTERS_PATH, false, Some(&Actor::Root), false),
        (BENCH_COUNTERS_PATH, true, Some(&key), false),
        (BENCH_COUNTERS_PATH, true, None, false),
        ("/__bench/counters", true, Some(&Actor::Root), false),
        ("/api/links", true, Some(&Actor::Root), false),
    ];
    for (path, enabled, actor, answers) in cases {
        assert_eq!(
            bench_counters(path, enabled, actor),
            answers,
            "{path} {enabled} {actor:?}"
        );
    }
    assert!(
        is_operator_path(BENCH_COUNTERS_PATH),
        "the operator's authentication runs first"
    );
}

const ALL_METHODS: [Method; 7] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
];

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn secret() -> SecretKey {
    SecretKey::generate(&key("abc")).unwrap()
}

/// A concrete path for a template.
fn sample(template: &str, secret: &SecretKey) -> String {
    template
        .replace("{key}", "abc")
        .replace("{secret_key}", secret.as_str())
        .replace("{id}", "key_23456789abcd")
        .replace("{name}", "spring-2027")
        .replace(
            "webhooks/key_23456789abcd",
            "webhooks/wh_23456789abcdefghjkmn",
        )
}

#[test]
fn every_template_resolves_with_exactly_its_allowed_methods() {
    let secret = secret();
    for (template, allow) in ROUTES {
        let path = sample(template, &secret);
        for method in ALL_METHODS {
            let result = resolve(method, &path);
            if allow.split(", ").any(|m| m == method.as_str()) {
                assert!(result.is_ok(), "{} {path} gave {result:?}", method.as_str());
            } else {
                assert_eq!(
                    result,
                    Err(NoRoute::MethodNotAllowed(allow)),
                    "{} {path}",
                    method.as_str()
                );
            }
        }
        assert_eq!(
            resolve(Method::Other, &path),
            Err(NoRoute::MethodNotAllowed(allow))
        );
    }
}

#[test]
fn routes_carry_their_parsed_parameters() {
    let s = secret();
    let admin = format!("/admin/{}", s.as_str());
    let cases = [
        (
            Method::Get,
            "/AbC".to_string(),
            Route::Redirect {
                key: key("abc"),
                count_click: true,
                qr: false,
            },
        ),
        (
            Method::Get,
            "/AbC/scan".to_string(),
            Route::Redirect {
                key: key("abc"),
                count_click: true,
                qr: true,
            },
        ),
        (
            Method::Post,
            "/abc/scan".to_string(),
            Route::Unlock {
                key: key("abc"),
                qr: true,
            },
        ),
        (
            Method::Head,
            "/abc".to_string(),
            Route::Redirect {
                key: key("abc"),
                count_click: false,
                qr: false,
            },
        ),
        (
            Method::Get,
            "/abc+".to_string(),
            Route::Peek { key: key("abc") },
        ),
        (
            Method::Put,
            "/api/utm-templates/Spring".to_string(),
            Route::TemplateReplace {
                name: "Spring".into(),
            },
        ),
        (
            Method::Post,
            "/api/utm-templates".to_string(),
            Route::TemplateCreate,
        ),
        (
            Method::Get,
            "/ABC/qr".to_string(),
            Route::Qr { key: key("abc") },
        ),
        (
            Method::Get,
            admin.clone(),
            Route::AdminShow { secret: s.clone() },
        ),
        (
            Method::Post,
            admin.clone(),
            Route::AdminForm { secret: s.clone() },
        ),
        (
            Method::Patch,
            admin.clone(),
            Route::AdminPatch { secret: s.clone() },
        ),
        (
            Method::Delete,
            admin.clone(),
            Route::AdminDeactivate { secret: s.clone() },
        ),
        (
            Method::Get,
            format!("{admin}/stats"),
            Route::AdminStats { secret: s.clone() },
        ),
        (
            Method::Get,
            format!("{admin}/visits"),
            Route::AdminVisits { secret: s.clone() },
        ),
        (Method::Get, "/api/links".to_string(), Route::ApiList),
        (Method::Get, "/dashboard".to_string(), Route::Dashboard),
        (Method::Post, "/api/links/bulk".to_string(), Route::ApiBulk),
        (
            Method::Get,
            "/api/links/export".to_string(),
            Route::ApiExport,
        ),
        (
            Method::Get,
            "/api/links/Abc".to_string(),
            Route::ApiShow { key: key("abc") },
        ),
        (
            Method::Patch,
            "/api/links/abc".to_string(),
            Route::ApiPatch { key: key("abc") },
        ),
        (
            Method::Delete,
            "/api/links/abc".to_string(),
            Route::ApiDelete { key: key("abc") },
        ),
        (
            Method::Post,
            "/api/links/import".to_string(),
            Route::ApiImport,
        ),
        (
            Method::Get,
            "/api/links/ABC/stats".to_string(),
            Route::ApiStats { key: key("abc") },
        ),
        (
            Method::Post,
            format!("{admin}/check"),
            Route::AdminCheck { secret: s.clone() },
        ),
        (
            Method::Post,
            "/api/links/ABC/check".to_string(),
            Route::ApiCheck { key: key("abc") },
        ),
    ];
    for (method, path, want) in cases {
        assert_eq!(
            resolve(method, &path),
            Ok(want),
            "{} {path}",
            method.as_str()
        );
    }
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
        "/admin/abc_short/stats",
        "/%41bc",
        "/..%2f..%2fetc",
        "/../etc/passwd",
        "/healthz/",
        "/url/",
        "//abc",
        "/abc/qr/",
        "/abc+/qr",
        "/abc/scan/",
        "/abc+/scan",
        "/ab/scan",
        "/abc/scan/qr",
        "/api",
        "/api/",
        "/api/links/",
        "/api/links/a",
        "/api/links/abc/x",
        "/docs/",
        "/openapi.json/",
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
        "/admin", "/api", "/static", "/www", "/admin+", "/api+", "/bulk", "/export", "/import",
        "/url/qr",
    ] {
        assert_eq!(
            resolve(Method::Get, path),
            Err(NoRoute::NotFound),
            "{path:?}"
        );
    }
}

#[test]
fn no_link_can_take_the_name_of_a_page() {
    // A fixed path wins over a key of the same name, so such a link could never be
    // reached: the key rules must refuse it at creation and import.
    for (template, _) in ROUTES {
        let Some(word) = template.strip_prefix('/') else {
            continue;
        };
        if word.is_empty() || word.contains('/') || word.contains('{') {
            continue;
        }
        assert!(Key::parse(word).is_err(), "{word} can be taken as a key");
    }
}

#[test]
fn operator_paths_are_recognised_before_routing() {
    assert!(is_operator_path("/api"));
    assert!(is_operator_path("/api/links"));
    assert!(is_operator_path("/api/anything"));
    assert!(!is_operator_path("/apiary"));
    assert!(!is_operator_path("/"));
}

/// The OpenAPI document, as written; served as a static asset, so only the tests
/// read it here.
const OPENAPI: &str = include_str!("../../assets/openapi.json");

#[test]
fn the_openapi_document_lists_exactly_the_routes_the_router_knows() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (path.clone(), m.to_uppercase()))
        })
        .collect();
    // HEAD is implied by GET and described once in info.description.
    let routed: std::collections::BTreeSet<(String, String)> = ROUTES
        .iter()
        .flat_map(|(path, allow)| {
            allow
                .split(", ")
                .filter(|m| *m != "HEAD")
                .map(move |m| (path.to_string(), m.to_string()))
        })
        .collect();
    assert_eq!(documented, routed);
}

#[test]
fn every_operation_documents_its_responses_and_path_parameters() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                !op["responses"].as_object().unwrap().is_empty(),
                "{method} {path}"
            );
            for name in ["key", "secret_key"] {
                if path.contains(&format!("{{{name}}}")) {
                    let params = op["parameters"].as_array().unwrap();
                    assert!(
                        params
                            .iter()
                            .any(|p| p["name"] == name && p["in"] == "path"),
                        "{method} {path}"
                    );
                }
            }
        }
    }
}

#[test]
fn methods_parse_by_exact_name() {
    assert_eq!(Method::parse("GET"), Method::Get);
    assert_eq!(Method::parse("get"), Method::Other);
    assert_eq!(Method::parse("PROPFIND"), Method::Other);
}
