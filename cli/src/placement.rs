//! Which of the service's domains each imported link goes to. A source export can span
//! domains (Bitly's branded domains, Shlink's and Kutt's custom domains, Dub): a link
//! whose source domain this service serves (`GET /api/domains`) goes onto it; one from
//! any other domain goes where the run's `--domain` (or the service URL) points, and
//! the summary names those domains. `--domain` given puts every link on that domain.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::Api;
use crate::exit::Failure;

/// The domains the service serves, as (host or name in lower case, the name the API
/// takes in `?domain=`).
pub struct Served(Vec<(String, String)>);

impl Served {
    /// Asks the service. This is also the run's first operator call, so a refused token
    /// or a service that does not answer stops the run before the file is read.
    pub fn fetch(api: &Api) -> Result<Served, Failure> {
        let answer = api.get_json("/api/domains", &[], true)?;
        let mut names = Vec::new();
        for d in answer
            .get("domains")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|d| d.get("served").and_then(Value::as_bool) == Some(true))
        {
            let Some(name) = d.get("name").and_then(Value::as_str) else {
                continue;
            };
            names.push((name.to_ascii_lowercase(), name.to_string()));
            // The primary is named "default" when DOMAINS is unset; its URL has the host.
            if let Some(host) = d
                .get("url")
                .and_then(Value::as_str)
                .and_then(|u| u.split_once("://"))
                .and_then(|(_, rest)| rest.split(['/', ':']).next())
            {
                names.push((host.to_ascii_lowercase(), name.to_string()));
            }
        }
        Ok(Served(names))
    }
}

/// The placing of one run's links, and what it did, for the summary.
pub struct Placement {
    served: Served,
    fixed: Option<String>,
    placed: BTreeMap<String, u64>,
    elsewhere: BTreeMap<String, u64>,
}

impl Placement {
    pub fn new(served: Served, fixed: Option<String>) -> Placement {
        Placement {
            served,
            fixed,
            placed: BTreeMap::new(),
            elsewhere: BTreeMap::new(),
        }
    }

    /// The `?domain=` for a link from `source` (`None`: the service URL's domain).
    pub fn place(&mut self, source: Option<&str>) -> Option<String> {
        if let Some(fixed) = &self.fixed {
            return Some(fixed.clone());
        }
        let source = source?.to_ascii_lowercase();
        match self.served.0.iter().find(|(host, _)| *host == source) {
            Some((_, name)) => {
                *self.placed.entry(name.clone()).or_default() += 1;
                Some(name.clone())
            }
            None => {
                *self.elsewhere.entry(source).or_default() += 1;
                None
            }
        }
    }

    /// A sentence on where links from several domains went, or `None` when the source
    /// named no domain (or `--domain` chose one for all).
    pub fn report(&self) -> Option<String> {
        if self.placed.is_empty() && self.elsewhere.is_empty() {
            return None;
        }
        let list = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(d, n)| format!("{d} ({})", links(*n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !self.placed.is_empty() {
            parts.push(format!("onto their own domain: {}", list(&self.placed)));
        }
        if !self.elsewhere.is_empty() {
            parts.push(format!(
                "from domains not served here, onto the default domain: {}",
                list(&self.elsewhere)
            ));
        }
        Some(format!("domains: {}", parts.join("; ")))
    }
}

/// "1 link", "3 links".
pub fn links(n: u64) -> String {
    if n == 1 {
        "1 link".into()
    } else {
        format!("{n} links")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Served {
        Served(vec![
            ("default".into(), "default".into()),
            ("s.example".into(), "default".into()),
            ("go.example.com".into(), "go.example.com".into()),
        ])
    }

    #[test]
    fn links_go_onto_their_served_domain_and_the_others_are_named() {
        let mut p = Placement::new(served(), None);
        assert_eq!(
            p.place(Some("Go.Example.com")).as_deref(),
            Some("go.example.com")
        );
        assert_eq!(p.place(Some("bit.ly")), None);
        assert_eq!(p.place(Some("bit.ly")), None);
        assert_eq!(p.place(None), None);
        assert_eq!(
            p.report().as_deref(),
            Some("domains: onto their own domain: go.example.com (1 link); from domains not served here, onto the default domain: bit.ly (2 links)")
        );
    }

    #[test]
    fn a_chosen_domain_takes_every_link_and_a_source_without_domains_reports_nothing() {
        let mut p = Placement::new(served(), Some("go.example.com".into()));
        assert_eq!(p.place(Some("bit.ly")).as_deref(), Some("go.example.com"));
        assert_eq!(p.report(), None);
    }
}
