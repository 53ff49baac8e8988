//! Which other shorteners' APIs this instance answers (`COMPAT_APIS`): Shlink's REST
//! API v3, Kutt's API v2 and YOURLS's `yourls-api.php`, each one adapter over the
//! service's own operations (docs/compat.md).

/// One of the foreign APIs an adapter speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompatApi {
    /// Shlink REST API v3: `/rest/v3/...` and `/rest/health`.
    Shlink,
    /// Kutt API v2: `/api/v2/...`.
    Kutt,
    /// YOURLS: `/yourls-api.php`.
    Yourls,
}

impl CompatApi {
    /// Every API, in the order `COMPAT_APIS` lists them by default.
    pub const ALL: [CompatApi; 3] = [CompatApi::Shlink, CompatApi::Kutt, CompatApi::Yourls];

    /// The name `COMPAT_APIS` spells it with.
    pub fn as_str(self) -> &'static str {
        match self {
            CompatApi::Shlink => "shlink",
            CompatApi::Kutt => "kutt",
            CompatApi::Yourls => "yourls",
        }
    }

    /// The API whose paths `path` lies under, whether it is switched on or not: a
    /// handful of prefix comparisons, so a redirect's path is answered `None` at once.
    pub fn of_path(path: &str) -> Option<CompatApi> {
        if path == "/yourls-api.php" {
            Some(CompatApi::Yourls)
        } else if path == "/rest/health" || path.starts_with("/rest/v3/") {
            Some(CompatApi::Shlink)
        } else if path == "/api/v2" || path.starts_with("/api/v2/") {
            Some(CompatApi::Kutt)
        } else {
            None
        }
    }
}

/// The APIs switched on. Default (the variable unset): all three, since each answers
/// only to this service's own API keys, as the operator API does; `COMPAT_APIS=none`
/// (or empty) switches all off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompatApis {
    on: [bool; 3],
}

impl Default for CompatApis {
    fn default() -> CompatApis {
        CompatApis { on: [true; 3] }
    }
}

impl CompatApis {
    /// Parses the comma list (`shlink,kutt,yourls`, any case and spacing); `None` is
    /// the variable unset. An unknown name is an error that names it, so a typo never
    /// leaves an API silently on or off.
    pub fn parse(raw: Option<&str>) -> Result<CompatApis, String> {
        let Some(raw) = raw else {
            return Ok(CompatApis::default());
        };
        let mut on = [false; 3];
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("none") {
                continue;
            }
            let api = CompatApi::ALL
                .into_iter()
                .position(|api| api.as_str().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!("COMPAT_APIS: unknown API '{name}' (use shlink, kutt, yourls or none)")
                })?;
            if let Some(slot) = on.get_mut(api) {
                *slot = true;
            }
        }
        Ok(CompatApis { on })
    }

    /// No API at all (what an invalid `COMPAT_APIS` falls back to: closed, not open).
    pub fn none() -> CompatApis {
        CompatApis { on: [false; 3] }
    }

    /// Whether `api` answers here.
    pub fn allows(&self, api: CompatApi) -> bool {
        let i = CompatApi::ALL.into_iter().position(|a| a == api);
        i.and_then(|i| self.on.get(i)).copied().unwrap_or(false)
    }

    /// The API switched on that `path` belongs to.
    pub fn serving(&self, path: &str) -> Option<CompatApi> {
        CompatApi::of_path(path).filter(|api| self.allows(*api))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_is_on_when_the_variable_is_unset() {
        let apis = CompatApis::parse(None).unwrap();
        assert!(CompatApi::ALL.into_iter().all(|api| apis.allows(api)));
    }

    #[test]
    fn a_list_switches_on_only_the_apis_it_names() {
        let table = [
            ("shlink", [true, false, false]),
            (" Kutt , yourls ", [false, true, true]),
            ("shlink,kutt,yourls", [true, true, true]),
            ("", [false, false, false]),
            ("none", [false, false, false]),
        ];
        for (raw, expected) in table {
            let apis = CompatApis::parse(Some(raw)).unwrap();
            let got = CompatApi::ALL.map(|api| apis.allows(api));
            assert_eq!(got, expected, "{raw:?}");
        }
    }

    #[test]
    fn an_unknown_name_is_refused_with_its_name() {
        let err = CompatApis::parse(Some("shlink,bitly")).unwrap_err();
        assert!(err.contains("'bitly'"), "{err}");
    }

    #[test]
    fn paths_belong_to_the_api_they_lie_under() {
        let table = [
            ("/rest/v3/short-urls", Some(CompatApi::Shlink)),
            ("/rest/health", Some(CompatApi::Shlink)),
            ("/rest/v2/short-urls", None),
            ("/api/v2/links", Some(CompatApi::Kutt)),
            ("/api/v2", Some(CompatApi::Kutt)),
            ("/api/v20", None),
            ("/api/links", None),
            ("/yourls-api.php", Some(CompatApi::Yourls)),
            ("/abc123", None),
            ("/", None),
        ];
        for (path, expected) in table {
            assert_eq!(CompatApi::of_path(path), expected, "{path}");
        }
    }

    #[test]
    fn a_switched_off_api_serves_none_of_its_paths() {
        let apis = CompatApis::parse(Some("kutt")).unwrap();
        assert_eq!(apis.serving("/rest/v3/short-urls"), None);
        assert_eq!(apis.serving("/api/v2/links"), Some(CompatApi::Kutt));
        assert_eq!(CompatApis::none().serving("/api/v2/links"), None);
    }
}
