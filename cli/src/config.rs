//! Where the service is and the operator token: flags and the environment first, then
//! a config file of `url = ...` and `token = ...` lines. The token is never a flag, so it
//! stays out of shell history and process lists.

use std::path::{Path, PathBuf};

use crate::exit::Failure;

/// The instance a command talks to.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub token: Option<String>,
}

/// `$SHORTENER_CONFIG`, else `$XDG_CONFIG_HOME/shortener/config`, else
/// `~/.config/shortener/config`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SHORTENER_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("shortener").join("config"))
}

/// `name = value` lines; `#` starts a comment.
fn read_file(path: &Path) -> Result<Vec<(String, String)>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Failure::Usage(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect())
}

impl Target {
    /// The URL from `--url`/`SHORTENER_URL` or the file; the token from
    /// `SHORTENER_TOKEN` or the file.
    pub fn resolve(
        url: Option<String>,
        token: Option<String>,
        file: Option<&Path>,
    ) -> Result<Target, Failure> {
        let entries = match file {
            Some(f) => read_file(f)?,
            None => Vec::new(),
        };
        let from_file = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let url = url.or_else(|| from_file("url")).ok_or_else(|| {
            Failure::Usage("no service URL: pass --url or set SHORTENER_URL".into())
        })?;
        let url = url.trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Failure::Usage(format!(
                "--url must start with http:// or https://, got '{url}'"
            )));
        }
        Ok(Target {
            url,
            token: token
                .filter(|t| !t.is_empty())
                .or_else(|| from_file("token")),
        })
    }

    /// The token, which every operator call needs.
    pub fn token(&self) -> Result<&str, Failure> {
        self.token.as_deref().ok_or_else(|| {
            Failure::Usage(
                "no operator token: set SHORTENER_TOKEN or put token = ... in the config file"
                    .into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_fills_the_rest() {
        let dir = std::env::temp_dir().join(format!("shortener-cli-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config");
        std::fs::write(&file, "# mine\nurl = https://s.example/\ntoken = \"abc\"\n").unwrap();
        let t = Target::resolve(None, None, Some(&file)).unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_deref()),
            ("https://s.example", Some("abc"))
        );
        let t = Target::resolve(
            Some("http://127.0.0.1:1".into()),
            Some("x".into()),
            Some(&file),
        )
        .unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_deref()),
            ("http://127.0.0.1:1", Some("x"))
        );
        assert!(Target::resolve(Some("ftp://x".into()), None, None).is_err());
        assert!(Target::resolve(None, None, None).is_err());
    }
}
