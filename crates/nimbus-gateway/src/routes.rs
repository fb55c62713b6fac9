//! Route keys and the route table: one table serves HTTP APIs (route keys such as
//! `GET /items/{id}`) and REST APIs (each method of a resource is a route `METHOD /path`);
//! they differ in how a request reaches the table and in selection ([`RouteTable::select`]
//! and [`RouteTable::select_resource`]).
//!
//! Selection follows API Gateway's documented rules: a request matches the route whose path is
//! most specific, segment by segment from the left (a literal beats a `{variable}`, which beats
//! a greedy `{proxy+}`); among equally specific paths a route for the request's method beats
//! `ANY`; `$default` catches what nothing else matches. A greedy variable matches one or more
//! segments, so `/files/{proxy+}` does not match `/files`.

use std::cmp::Ordering;

use crate::error::{GatewayError, Result};

/// The catch-all route key.
pub const DEFAULT_ROUTE: &str = "$default";

/// One segment of a route path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Variable(String),
    Greedy(String),
}

impl Segment {
    /// Larger is more specific.
    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 2,
            Segment::Variable(_) => 1,
            Segment::Greedy(_) => 0,
        }
    }
}

/// A parsed route key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKey {
    /// `$default`.
    Default,
    /// `METHOD /path`; `method` is `None` for `ANY`.
    Path {
        method: Option<String>,
        path: String,
        segments: Vec<Segment>,
    },
}

const METHODS: &[&str] = &[
    "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

impl RouteKey {
    /// Parses and validates a route key as CreateRoute does.
    pub fn parse(key: &str) -> Result<RouteKey> {
        if key == DEFAULT_ROUTE {
            return Ok(RouteKey::Default);
        }
        let bad = |why: &str| GatewayError::BadRequest(format!("Invalid route key '{key}': {why}"));
        let (method, path) = key
            .split_once(' ')
            .ok_or_else(|| bad("expected a method and a path, e.g. 'GET /items'"))?;
        if !METHODS.contains(&method) {
            return Err(bad("unknown HTTP method"));
        }
        if !path.starts_with('/') {
            return Err(bad("the path must start with '/'"));
        }
        let mut segments = Vec::new();
        let parts: Vec<&str> = path[1..].split('/').collect();
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            if part.is_empty() {
                if count == 1 {
                    break;
                }
                return Err(bad("empty path segment"));
            }
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                if let Some(name) = name.strip_suffix('+') {
                    if i + 1 != count {
                        return Err(bad("a greedy path variable must be the last segment"));
                    }
                    if name.is_empty() {
                        return Err(bad("empty path variable name"));
                    }
                    segments.push(Segment::Greedy(name.to_owned()));
                } else {
                    if name.is_empty() || name.contains(['{', '}']) {
                        return Err(bad("invalid path variable"));
                    }
                    segments.push(Segment::Variable(name.to_owned()));
                }
            } else if part.contains(['{', '}']) {
                return Err(bad("path variables must span a whole segment"));
            } else {
                segments.push(Segment::Literal(part.to_owned()));
            }
        }
        Ok(RouteKey::Path {
            method: (method != "ANY").then(|| method.to_owned()),
            path: path.to_owned(),
            segments,
        })
    }
}

/// A route that matched a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched<'a, T> {
    pub value: &'a T,
    /// The route key as written, e.g. `GET /items/{id}`.
    pub route_key: &'a str,
    /// The route's path (`/items/{id}`), or `None` for `$default`.
    pub resource_path: Option<&'a str>,
    /// Path parameters in the order of the path: decoded for HTTP APIs, as sent for REST APIs.
    pub params: Vec<(String, String)>,
}

type Params = Vec<(String, String)>;

struct Entry<T> {
    key: String,
    method: Option<String>,
    path: String,
    segments: Vec<Segment>,
    value: T,
}

/// Routes of one API (or stage), compiled for selection.
pub struct RouteTable<T> {
    entries: Vec<Entry<T>>,
    default: Option<(String, T)>,
}

impl<T> Default for RouteTable<T> {
    fn default() -> Self {
        RouteTable {
            entries: Vec::new(),
            default: None,
        }
    }
}

impl<T> RouteTable<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route; keys were validated when the route was created.
    pub fn insert(&mut self, key: &str, value: T) -> Result<()> {
        match RouteKey::parse(key)? {
            RouteKey::Default => self.default = Some((key.to_owned(), value)),
            RouteKey::Path {
                method,
                path,
                segments,
            } => self.entries.push(Entry {
                key: key.to_owned(),
                method,
                path,
                segments,
                value,
            }),
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.default.is_none()
    }

    /// Whether some route other than `$default` has this path, for any method.
    pub fn has_path_route(&self, path: &str) -> bool {
        let segments = split_path(path);
        self.entries
            .iter()
            .any(|e| match_segments(&e.segments, &segments, true).is_some())
    }

    /// Selects the route for `method` and `path` (the path without any stage prefix, not yet
    /// percent-decoded).
    pub fn select(&self, method: &str, path: &str) -> Option<Matched<'_, T>> {
        let segments = split_path(path);
        let mut best: Option<(&Entry<T>, Params)> = None;
        for entry in &self.entries {
            if entry.method.as_deref().is_some_and(|m| m != method) {
                continue;
            }
            let Some(params) = match_segments(&entry.segments, &segments, true) else {
                continue;
            };
            let better = match &best {
                None => true,
                Some((current, _)) => more_specific(entry, current) == Ordering::Greater,
            };
            if better {
                best = Some((entry, params));
            }
        }
        if let Some((entry, params)) = best {
            return Some(Matched {
                value: &entry.value,
                route_key: &entry.key,
                resource_path: Some(&entry.path),
                params,
            });
        }
        self.default.as_ref().map(|(key, value)| Matched {
            value,
            route_key: key,
            resource_path: None,
            params: Vec::new(),
        })
    }
}

impl<T> RouteTable<T> {
    /// Selects as REST APIs do: first the resource (the most specific path that matches,
    /// whatever its methods), then the request's method on it, else its `ANY`. `None` when no
    /// resource matches or the resource does not define the method (API Gateway answers
    /// both with 403 `Missing Authentication Token`).
    pub fn select_resource(&self, method: &str, path: &str) -> Option<Matched<'_, T>> {
        let segments = split_path(path);
        let mut best: Option<(&Entry<T>, Params)> = None;
        for entry in &self.entries {
            // REST APIs hand path parameters over as sent, percent-encoding and all.
            let Some(params) = match_segments(&entry.segments, &segments, false) else {
                continue;
            };
            let better = match &best {
                None => true,
                Some((current, _)) => {
                    more_specific_path(&entry.segments, &current.segments) == Ordering::Greater
                }
            };
            if better {
                best = Some((entry, params));
            }
        }
        let (resource, params) = best?;
        let on_resource = || self.entries.iter().filter(|e| e.path == resource.path);
        let entry = on_resource()
            .find(|e| e.method.as_deref() == Some(method))
            .or_else(|| on_resource().find(|e| e.method.is_none()))?;
        Some(Matched {
            value: &entry.value,
            route_key: &entry.key,
            resource_path: Some(&entry.path),
            params,
        })
    }
}

fn more_specific_path(a: &[Segment], b: &[Segment]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.rank().cmp(&y.rank()) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

fn more_specific<T>(a: &Entry<T>, b: &Entry<T>) -> Ordering {
    for (x, y) in a.segments.iter().zip(&b.segments) {
        match x.rank().cmp(&y.rank()) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    // Same shape so far: the longer (non-greedy) path is more specific.
    match a.segments.len().cmp(&b.segments.len()) {
        Ordering::Equal => {}
        other => return other,
    }
    // A route for the method beats ANY.
    a.method.is_some().cmp(&b.method.is_some())
}

/// The segments of a request path: `/` has none, a trailing slash is ignored.
fn split_path(path: &str) -> Vec<&str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    }
}

/// The parameters of `path` if it matches `pattern`, percent-decoded when `decode` (HTTP
/// APIs) or as sent (REST APIs).
fn match_segments(
    pattern: &[Segment],
    path: &[&str],
    decode: bool,
) -> Option<Vec<(String, String)>> {
    let value_of = |s: &str| {
        if decode {
            percent_decode(s)
        } else {
            s.to_owned()
        }
    };
    let mut params = Vec::new();
    for (i, seg) in pattern.iter().enumerate() {
        match seg {
            Segment::Greedy(name) => {
                let rest = path.get(i..)?;
                if rest.is_empty() {
                    return None;
                }
                let value: Vec<String> = rest.iter().map(|s| value_of(s)).collect();
                params.push((name.clone(), value.join("/")));
                return Some(params);
            }
            Segment::Variable(name) => {
                let value = path.get(i)?;
                if value.is_empty() {
                    return None;
                }
                params.push((name.clone(), value_of(value)));
            }
            Segment::Literal(lit) => {
                let value = path.get(i)?;
                if *value != lit && percent_decode(value) != *lit {
                    return None;
                }
            }
        }
    }
    (pattern.len() == path.len()).then_some(params)
}

/// Decodes `%XX` escapes; invalid escapes and invalid UTF-8 are kept as they are.
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(keys: &[&str]) -> RouteTable<String> {
        let mut t = RouteTable::new();
        for k in keys {
            t.insert(k, (*k).to_owned()).expect("valid key");
        }
        t
    }

    /// The example of "Working with routes for HTTP APIs": routes and which one each request
    /// selects.
    #[test]
    fn selection_follows_the_documented_example() {
        let t = table(&[
            "GET /pets/dog/1",
            "GET /pets/dog/{id}",
            "GET /pets/{proxy+}",
            "ANY /{proxy+}",
            "$default",
        ]);
        let cases = [
            ("GET", "/pets/dog/1", "GET /pets/dog/1"),
            ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),
            ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),
            ("GET", "/pets/dog/1/toys", "GET /pets/{proxy+}"),
            ("POST", "/pets/dog/1", "ANY /{proxy+}"),
            ("GET", "/pets", "ANY /{proxy+}"),
            ("GET", "/", "$default"),
            ("DELETE", "/", "$default"),
        ];
        for (method, path, want) in cases {
            let m = t.select(method, path).expect("a route");
            assert_eq!(m.route_key, want, "{method} {path}");
        }
    }

    #[test]
    fn literals_beat_variables_beat_greedy_and_methods_beat_any() {
        let t = table(&[
            "ANY /items/{id}",
            "GET /items/{id}",
            "GET /items/special",
            "ANY /files/{proxy+}",
            "GET /{a}/b",
            "GET /a/{b}",
        ]);
        let cases = [
            ("GET", "/items/42", Some("GET /items/{id}")),
            ("PUT", "/items/42", Some("ANY /items/{id}")),
            ("GET", "/items/special", Some("GET /items/special")),
            ("GET", "/files/a/b/c.txt", Some("ANY /files/{proxy+}")),
            ("GET", "/files", None),
            ("GET", "/a/b", Some("GET /a/{b}")),
            ("GET", "/items/42/more", None),
        ];
        for (method, path, want) in cases {
            assert_eq!(
                t.select(method, path).map(|m| m.route_key),
                want,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn parameters_are_decoded_and_greedy_keeps_slashes() {
        let t = table(&["GET /items/{id}", "ANY /files/{proxy+}"]);
        let m = t.select("GET", "/items/a%20b").expect("route");
        assert_eq!(m.params, vec![("id".to_owned(), "a b".to_owned())]);
        assert_eq!(m.resource_path, Some("/items/{id}"));
        let m = t.select("POST", "/files/x/y/z").expect("route");
        assert_eq!(m.params, vec![("proxy".to_owned(), "x/y/z".to_owned())]);
        assert!(t.select("GET", "/other").is_none());
    }

    #[test]
    fn root_route_and_trailing_slash() {
        let t = table(&["GET /", "GET /items"]);
        assert_eq!(t.select("GET", "/").map(|m| m.route_key), Some("GET /"));
        assert_eq!(
            t.select("GET", "/items/").map(|m| m.route_key),
            Some("GET /items")
        );
    }

    /// REST APIs pick the resource first: a resource that matches but lacks the method does
    /// not fall back to a less specific one.
    #[test]
    fn rest_selection_picks_the_resource_then_the_method() {
        let t = table(&[
            "GET /items",
            "POST /items",
            "GET /items/{id}",
            "ANY /files/{proxy+}",
            "ANY /{proxy+}",
            "GET /",
        ]);
        let cases = [
            ("GET", "/items", Some("GET /items")),
            ("POST", "/items", Some("POST /items")),
            ("DELETE", "/items", None),
            ("GET", "/items/7", Some("GET /items/{id}")),
            ("PUT", "/items/7", None),
            ("PATCH", "/files/a/b", Some("ANY /files/{proxy+}")),
            ("GET", "/other/x", Some("ANY /{proxy+}")),
            ("GET", "/", Some("GET /")),
            ("POST", "/", None),
        ];
        for (method, path, want) in cases {
            assert_eq!(
                t.select_resource(method, path).map(|m| m.route_key),
                want,
                "{method} {path}"
            );
        }
        // REST APIs pass path parameters on as sent.
        let m = t.select_resource("GET", "/items/a%2Fb").expect("route");
        assert_eq!(m.params, vec![("id".to_owned(), "a%2Fb".to_owned())]);
        let empty: RouteTable<String> = RouteTable::new();
        assert!(empty.select_resource("GET", "/").is_none());
    }

    #[test]
    fn invalid_keys_are_refused() {
        for key in [
            "GET",
            "FETCH /x",
            "GET x",
            "GET /{proxy+}/x",
            "GET /a//b",
            "GET /a{b}",
            "GET /{}",
        ] {
            assert!(RouteKey::parse(key).is_err(), "{key}");
        }
        for key in ["$default", "GET /", "ANY /{proxy+}", "POST /a/{b}/c"] {
            assert!(RouteKey::parse(key).is_ok(), "{key}");
        }
    }
}
