//! Cookie-authenticated requests from other sites. A browser attaches a session cookie to
//! a request that a page of any site makes (where the cookie's `SameSite` lets it), so a
//! route that acts on the cookie must know who asked: the request's `Origin`, or without
//! one the browser's `Sec-Fetch-Site`. Requests that carry neither come from servers and
//! tools, which hold the cookie themselves.

use crate::digits::is_digits;

/// The origins besides the API's own host whose pages may use a session cookie
/// (`BRIDGEKEEPER_ALLOWED_ORIGINS`): `scheme://host[:port]`, as browsers send `Origin`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

/// How many origins a deployment may list.
const MAX_ORIGINS: usize = 50;

impl AllowedOrigins {
    /// A comma-separated list; each entry an origin as a browser sends it.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let normalised = normalise(entry).ok_or_else(|| {
                format!("BRIDGEKEEPER_ALLOWED_ORIGINS: {entry} is not an origin (https://host or https://host:port)")
            })?;
            if !origins.contains(&normalised) {
                origins.push(normalised);
            }
        }
        if origins.len() > MAX_ORIGINS {
            return Err(format!("BRIDGEKEEPER_ALLOWED_ORIGINS: at most {MAX_ORIGINS} origins"));
        }
        Ok(Self(origins))
    }

    /// Whether a request that carries a session cookie may act on it: its `Origin` is the
    /// API itself (`request`) or an allowed origin; or it has no `Origin` and the browser
    /// does not say it is cross-site. `Origin: null` (sandboxed frames, some redirects)
    /// names no site that could be trusted.
    pub fn admit(&self, origin: Option<&str>, fetch_site: Option<&str>, request: &Reached<'_>) -> bool {
        match origin.map(str::trim) {
            Some(origin) => match normalise(origin) {
                Some(origin) => self.0.contains(&origin) || request.is(&origin),
                None => false,
            },
            None => !fetch_site.is_some_and(|site| site.trim().eq_ignore_ascii_case("cross-site")),
        }
    }
}

/// An origin in lower case, without its scheme's default port; None when it is not
/// `http(s)://host[:port]`.
fn normalise(origin: &str) -> Option<String> {
    let origin = origin.to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    let (host, port, bracketed) = match authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:8080`.
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            let port = match after {
                "" => None,
                after => Some(after.strip_prefix(':')?),
            };
            (inside, port, true)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port), false),
            None => (authority, None, false),
        },
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || (bracketed && c == ':'));
    let port_ok = port.is_none_or(|port| is_digits(port) && port.len() <= 5);
    (host_ok && port_ok).then(|| format!("{scheme}://{authority}"))
}

/// Where a request arrived: its `Host`, and its scheme when the gateway says it
/// (`X-Forwarded-Proto`: API Gateway always does; the local server, plain HTTP, does not).
#[derive(Debug, Clone, Copy, Default)]
pub struct Reached<'a> {
    pub host: Option<&'a str>,
    pub scheme: Option<&'a str>,
}

impl Reached<'_> {
    /// Whether a normalised origin is this API itself.
    fn is(&self, origin: &str) -> bool {
        let (Some((scheme, authority)), Some(host)) = (origin.split_once("://"), self.host) else {
            return false;
        };
        if self
            .scheme
            .is_some_and(|reached| !reached.trim().eq_ignore_ascii_case(scheme))
        {
            return false;
        }
        let host = host.trim().to_ascii_lowercase();
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let host = host.strip_suffix(default_port).unwrap_or(&host);
        authority == host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: Reached<'static> = Reached {
        host: Some("otp.example.com"),
        scheme: Some("https"),
    };

    #[test]
    fn own_host_and_listed_origins_pass() {
        let allowed = AllowedOrigins::parse("https://app.example.com, http://localhost:5173").unwrap();
        for origin in [
            "https://otp.example.com",
            "https://OTP.example.com:443",
            "https://app.example.com",
            "http://localhost:5173",
        ] {
            assert!(allowed.admit(Some(origin), None, &API), "{origin}");
        }
        // The local server: plain HTTP, no forwarded scheme.
        let local = |host| Reached {
            host: Some(host),
            scheme: None,
        };
        assert!(allowed.admit(Some("http://localhost:3000"), None, &local("localhost:3000")));
        assert!(allowed.admit(Some("http://[::1]:3000"), None, &local("[::1]:3000")));
    }

    #[test]
    fn other_sites_null_and_lookalikes_are_refused() {
        let allowed = AllowedOrigins::parse("https://app.example.com").unwrap();
        for origin in [
            "https://evil.example",
            "null",
            "https://otp.example.com.evil.example",
            "http://otp.example.com",
            "https://otp.example.com:8443",
            "https://app.example.com:8443",
            "https://app.example.com/path",
            "app.example.com",
            "",
        ] {
            assert!(!allowed.admit(Some(origin), None, &API), "{origin}");
        }
        assert!(
            !allowed.admit(Some("https://otp.example.com"), None, &Reached::default()),
            "no host: only the list"
        );
        // A browser's word, without an Origin.
        assert!(!allowed.admit(None, Some("cross-site"), &API));
        for site in ["same-origin", "same-site", "none"] {
            assert!(allowed.admit(None, Some(site), &API), "{site}");
        }
        assert!(allowed.admit(None, None, &API), "a server or a tool");
    }

    #[test]
    fn a_malformed_list_stops_the_start() {
        for list in [
            "app.example.com",
            "https://app.example.com/",
            "ftp://x.example",
            "https://",
        ] {
            assert!(AllowedOrigins::parse(list).is_err(), "{list}");
        }
        assert_eq!(AllowedOrigins::parse(" , ").unwrap(), AllowedOrigins::default());
    }
}
