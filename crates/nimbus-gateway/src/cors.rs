//! CORS as HTTP APIs do it from `CorsConfiguration`: preflight `OPTIONS` requests are answered
//! by the gateway itself (no route or function involved), and responses to other requests from
//! an allowed origin carry the `Access-Control-*` headers, replacing any the function set.

use crate::model::Cors;

fn origin_allowed(cors: &Cors, origin: &str) -> Option<String> {
    let origins = cors.allow_origins.as_deref().unwrap_or_default();
    if origins.iter().any(|o| o == "*") {
        return Some("*".to_owned());
    }
    origins
        .iter()
        .any(|o| o.eq_ignore_ascii_case(origin) || wildcard_match(o, origin))
        .then(|| origin.to_owned())
}

/// `https://*.example.com` style origins.
fn wildcard_match(pattern: &str, origin: &str) -> bool {
    match pattern.split_once('*') {
        Some((prefix, suffix)) => {
            origin.len() >= prefix.len() + suffix.len()
                && origin.starts_with(prefix)
                && origin.ends_with(suffix)
        }
        None => false,
    }
}

fn join(list: &Option<Vec<String>>) -> Option<String> {
    list.as_ref().filter(|l| !l.is_empty()).map(|l| l.join(","))
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &str, origin: Option<&str>, request_method: Option<&str>) -> bool {
    method == "OPTIONS" && origin.is_some() && request_method.is_some()
}

/// The headers of the answer to a preflight request (status 204). Empty when the origin is
/// not allowed.
pub fn preflight(cors: &Cors, origin: &str) -> Vec<(String, String)> {
    let Some(allowed) = origin_allowed(cors, origin) else {
        return Vec::new();
    };
    let mut h = vec![("access-control-allow-origin".to_owned(), allowed)];
    if let Some(m) = join(&cors.allow_methods) {
        h.push(("access-control-allow-methods".into(), m));
    }
    if let Some(v) = join(&cors.allow_headers) {
        h.push((
            "access-control-allow-headers".into(),
            v.to_ascii_lowercase(),
        ));
    }
    if let Some(v) = join(&cors.expose_headers) {
        h.push((
            "access-control-expose-headers".into(),
            v.to_ascii_lowercase(),
        ));
    }
    if cors.allow_credentials == Some(true) {
        h.push(("access-control-allow-credentials".into(), "true".into()));
    }
    if let Some(age) = cors.max_age.filter(|a| *a >= 0) {
        h.push(("access-control-max-age".into(), age.to_string()));
    }
    h
}

/// The headers added to an actual response to `origin`.
pub fn actual(cors: &Cors, origin: &str) -> Vec<(String, String)> {
    let Some(allowed) = origin_allowed(cors, origin) else {
        return Vec::new();
    };
    let mut h = vec![("access-control-allow-origin".to_owned(), allowed)];
    if let Some(v) = join(&cors.expose_headers) {
        h.push((
            "access-control-expose-headers".into(),
            v.to_ascii_lowercase(),
        ));
    }
    if cors.allow_credentials == Some(true) {
        h.push(("access-control-allow-credentials".into(), "true".into()));
    }
    h
}

/// Replaces the CORS headers of an answer with the configured ones (none for a disallowed
/// origin or a request without `Origin`), as API Gateway and function URLs do when CORS is
/// configured: the function's own CORS headers never reach the client.
pub fn replace_headers(response: &mut axum::response::Response, cors: &Cors, origin: Option<&str>) {
    let names: Vec<http::HeaderName> = response
        .headers()
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for n in names {
        response.headers_mut().remove(n);
    }
    if let Some(origin) = origin {
        crate::server::add_headers(response, actual(cors, origin));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> Cors {
        Cors {
            allow_origins: Some(vec![
                "https://example.com".into(),
                "https://*.test.dev".into(),
            ]),
            allow_methods: Some(vec!["GET".into(), "POST".into()]),
            allow_headers: Some(vec!["Content-Type".into(), "Authorization".into()]),
            expose_headers: Some(vec!["X-Request-Id".into()]),
            allow_credentials: Some(true),
            max_age: Some(300),
        }
    }

    #[test]
    fn preflight_from_an_allowed_origin() {
        let h = preflight(&cors(), "https://example.com");
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(
            get("access-control-allow-origin"),
            Some("https://example.com")
        );
        assert_eq!(get("access-control-allow-methods"), Some("GET,POST"));
        assert_eq!(
            get("access-control-allow-headers"),
            Some("content-type,authorization")
        );
        assert_eq!(get("access-control-allow-credentials"), Some("true"));
        assert_eq!(get("access-control-max-age"), Some("300"));
        assert!(!preflight(&cors(), "https://a.test.dev").is_empty());
        assert!(preflight(&cors(), "https://evil.com").is_empty());
    }

    #[test]
    fn star_and_actual_responses() {
        let c = Cors {
            allow_origins: Some(vec!["*".into()]),
            ..Cors::default()
        };
        assert_eq!(
            actual(&c, "https://x.org"),
            vec![("access-control-allow-origin".to_owned(), "*".to_owned())]
        );
        assert!(is_preflight("OPTIONS", Some("o"), Some("GET")));
        assert!(!is_preflight("OPTIONS", Some("o"), None));
    }
}
