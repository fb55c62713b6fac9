//! The content codings of the endpoint: compressed request bodies (`Content-Encoding`, decoded
//! in `lib.rs`) and compressed DynamoDB answers for clients that send `Accept-Encoding`.
//!
//! DynamoDB compresses an answer larger than 4 KB with gzip or deflate (the zlib format) when
//! the request accepts one of them, and its `x-amz-crc32` is then the CRC32 of the compressed
//! bytes, which is what clients check. The choice follows RFC 9110's `Accept-Encoding`: quality
//! values, `*` for any coding, and codings Nimbus does not produce ignored. Among equal
//! qualities a coding the client named beats one only `*` allows, the first named wins, and
//! `*` alone means gzip. Entries that are not a coding (a quoted name, two names without a
//! comma) are ignored, and quality values are read as leniently as DynamoDB reads them.
//!
//! Written here rather than with a compression middleware because the CRC header must be
//! recomputed over the compressed body, and only DynamoDB's JSON answers are compressed.

use std::io::Read;

use axum::body::Body;
use axum::response::Response;
use http::HeaderValue;

/// The header that carries the CRC32 of a DynamoDB answer's body.
pub(crate) const CRC_HEADER: &str = "x-amz-crc32";

/// Answers of at most this many bytes are sent as they are.
const THRESHOLD: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }

    /// The coding a request's `Content-Encoding` names (already trimmed and lowercased).
    pub(crate) fn of_content(name: &str) -> Option<Coding> {
        match name {
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "deflate" => Some(Coding::Deflate),
            _ => None,
        }
    }

    /// Reads `data` decoded. Concatenated gzip members are one stream (RFC 1952); HTTP's
    /// "deflate" is the zlib format (RFC 9110).
    pub(crate) fn decoder(self, data: &[u8]) -> Box<dyn Read + '_> {
        match self {
            Coding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
            Coding::Deflate => Box::new(flate2::read::ZlibDecoder::new(data)),
        }
    }

    /// Reads `data` encoded.
    fn encoder(self, data: &[u8]) -> Box<dyn Read + '_> {
        let level = flate2::Compression::default();
        match self {
            Coding::Gzip => Box::new(flate2::read::GzEncoder::new(data, level)),
            Coding::Deflate => Box::new(flate2::read::ZlibEncoder::new(data, level)),
        }
    }
}

/// How a coding is accepted: its quality in millionths, and where the client first named it
/// (`None`: only through `*`).
#[derive(Clone, Copy)]
struct Acceptance {
    quality: u32,
    named_at: Option<usize>,
}

/// The coding to answer with for these `Accept-Encoding` header values (read as one
/// comma-separated list), if any.
pub(crate) fn preferred<'a>(accept: impl IntoIterator<Item = &'a str>) -> Option<Coding> {
    let mut gzip: Option<Acceptance> = None;
    let mut deflate: Option<Acceptance> = None;
    let mut any: Option<u32> = None;
    let entries = accept.into_iter().flat_map(|value| value.split(','));
    for (position, entry) in entries.enumerate() {
        let mut parts = entry.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        // Not a token (`"gzip"`, `gzip br`, `gzip:q=1`): names no coding.
        if coding.is_empty()
            || !coding
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_*".contains(&b))
        {
            continue;
        }
        let quality = parts
            .find_map(|param| param.split_once("q=").map(|(_, value)| value))
            .map_or(MAX_QUALITY, parse_quality);
        let slot = match coding.as_str() {
            "gzip" => &mut gzip,
            "deflate" => &mut deflate,
            "*" => {
                any = Some(any.map_or(quality, |q| q.max(quality)));
                continue;
            }
            _ => continue,
        };
        // A coding named twice is accepted as well as its best mention.
        *slot = Some(match *slot {
            Some(a) => Acceptance {
                quality: a.quality.max(quality),
                named_at: a.named_at,
            },
            None => Acceptance {
                quality,
                named_at: Some(position),
            },
        });
    }
    let through_any = any.map(|quality| Acceptance {
        quality,
        named_at: None,
    });
    let candidates = [
        (Coding::Gzip, gzip.or(through_any)),
        (Coding::Deflate, deflate.or(through_any)),
    ];
    candidates
        .into_iter()
        .filter_map(|(coding, a)| a.filter(|a| a.quality > 0).map(|a| (coding, a)))
        // Highest quality; then named before `*`; then named first; then gzip.
        .min_by_key(|(_, a)| {
            (
                std::cmp::Reverse(a.quality),
                a.named_at.is_none(),
                a.named_at,
            )
        })
        .map(|(coding, _)| coding)
}

const MAX_QUALITY: u32 = 1_000_000;

/// A quality value in millionths, read leniently as DynamoDB does: a value that is not a
/// number counts as 1, and numbers are clamped to 0..=1.
fn parse_quality(value: &str) -> u32 {
    match value.trim().parse::<f64>() {
        Ok(q) if q.is_nan() => MAX_QUALITY,
        Ok(q) => (q.clamp(0.0, 1.0) * MAX_QUALITY as f64).ceil() as u32,
        Err(_) => MAX_QUALITY,
    }
}

/// `response` with its body compressed by `coding` and its CRC recomputed, when the body is
/// larger than [`THRESHOLD`]; unchanged otherwise.
pub(crate) async fn response(response: Response, coding: Coding) -> Response {
    let (mut parts, body) = response.into_parts();
    // The body of a DynamoDB answer is already in memory: this only takes it out.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if bytes.len() <= THRESHOLD {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let mut compressed = Vec::new();
    // Encoding from memory cannot fail; should it, the answer goes out uncompressed.
    if coding.encoder(&bytes).read_to_end(&mut compressed).is_err() {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts
        .headers
        .insert(CRC_HEADER, HeaderValue::from(crc32fast::hash(&compressed)));
    parts.headers.insert(
        http::header::CONTENT_ENCODING,
        HeaderValue::from_static(coding.name()),
    );
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(compressed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_choices() {
        use Coding::{Deflate, Gzip};
        let cases: &[(&str, Option<Coding>)] = &[
            ("", None),
            ("identity", None),
            ("br", None),
            ("x-gzip", None),
            ("gzip, deflate", Some(Gzip)),
            ("br, identity, deflate, gzip", Some(Deflate)),
            ("GZIP, identity", Some(Gzip)),
            ("dog, gzip ,, cat", Some(Gzip)),
            ("gzip;q=0.8, deflate;q=0.5", Some(Gzip)),
            (
                "br, gzip;q=0, deflate; q = 0.5 , identity;q=0",
                Some(Deflate),
            ),
            ("*", Some(Gzip)),
            ("*, deflate;q=0.5", Some(Gzip)),
            ("*, deflate", Some(Deflate)),
            ("*, gzip;q=0.5", Some(Deflate)),
            ("gzip ;q=0", None),
            ("*;q=0", None),
            ("*;q=0.5,identity", Some(Gzip)),
            ("br;q=0.8,identity;q=0.5,*;q=0", None),
            ("\"gzip\"", None),
            ("gzip br", None),
            ("gzip:q=1", None),
            ("deflate;q=0.5, gzip;q=31", Some(Gzip)),
            ("gzip;q=31,deflate;q=51", Some(Gzip)),
            ("deflate;q=0.5, gzip;q=0.2", Some(Deflate)),
            ("deflate;q=0.5, gzip;q=1;q=0.2", Some(Gzip)),
            ("deflate;q=0.5,gzip;q=0.", Some(Deflate)),
            ("deflate;q=0.5,gzip;q=0.x", Some(Gzip)),
            ("deflate;q=-0.5,gzip;q=0.2", Some(Gzip)),
            ("gzip;q= 0;q=1", None),
            ("gzip;q =0;q=1", Some(Gzip)),
            ("gzip; q=0;q=1", None),
            ("gzip;q=0, gzip;q=1, gzip;q=0", Some(Gzip)),
            ("br,identity;q=0.5,gzip;q=0.0001", Some(Gzip)),
        ];
        for (header, want) in cases {
            assert_eq!(preferred([*header]), *want, "{header:?}");
        }
        // Several header lines are one list.
        assert_eq!(preferred(["br", "deflate;q=0.5", "gzip"]), Some(Gzip));
    }
}
