//! Content negotiation: the request's `Accept-Encoding` read into the [`Encoding`] a response is
//! compressed with (RFC 9110 §12.5.3), in one pass and with no allocation.

use super::config::Compression;
use axum::http::HeaderValue;

/// A content coding dstar streams with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `br`
    Brotli,
    /// `zstd`
    Zstd,
    /// `gzip`
    Gzip,
}

impl Encoding {
    /// The `Content-Encoding` token.
    ///
    /// ```
    /// assert_eq!(dstar::sse::Encoding::Brotli.name(), "br");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
            Encoding::Gzip => "gzip",
        }
    }
}

impl Compression {
    /// The encoding for an `Accept-Encoding` value: br, then zstd, then gzip, skipping what the
    /// client refuses (`;q=0`) and what is turned off.
    ///
    /// ```
    /// use dstar::sse::{Compression, Encoding};
    /// let c = Compression::default();
    /// assert_eq!(c.choose(&"gzip, deflate, br, zstd".parse().unwrap()), Some(Encoding::Brotli));
    /// assert_eq!(c.choose(&"gzip, br;q=0".parse().unwrap()), Some(Encoding::Gzip));
    /// assert_eq!(c.choose(&"identity".parse().unwrap()), None);
    /// assert_eq!(c.choose(&"*, br;q=0".parse().unwrap()), Some(Encoding::Zstd));
    /// assert_eq!(c.choose(&"GZip;q=0.5".parse().unwrap()), Some(Encoding::Gzip));
    /// assert_eq!(c.choose(&"BR;Q=0, gzip".parse().unwrap()), Some(Encoding::Gzip));
    /// assert_eq!(c.choose(&"br;q=0.000, zstd;q=0.001".parse().unwrap()), Some(Encoding::Zstd));
    /// assert_eq!(c.choose(&"br;q=2, gzip".parse().unwrap()), Some(Encoding::Gzip)); // malformed: ignored
    /// assert_eq!(c.choose(&"br;q=x".parse().unwrap()), None);
    /// assert_eq!(c.choose(&"*;q=0".parse().unwrap()), None);
    /// ```
    pub fn choose(&self, accept: &HeaderValue) -> Option<Encoding> {
        // read on every request a browser sends: one pass over the header, no allocation. Per
        // coding: `None` not named, `Some(accepted)` named (with q > 0 or not)
        let accept = accept.to_str().ok()?;
        let (mut br, mut zstd, mut gzip, mut star) = (None, None, None, false);
        for part in accept.split(',') {
            let (coding, params) = part.split_once(';').unwrap_or((part, ""));
            // RFC 9110 §12.4.2: `q` is case-insensitive, a qvalue is 0 to 1 with at most three
            // decimals, and q=0 means "not acceptable"; a member with a malformed q is ignored
            let q = params.split(';').find_map(|p| {
                let (name, value) = p.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| qvalue(value.trim()))
            });
            let accepted = match q {
                None => true,
                Some(Some(q)) => q > 0,
                Some(None) => continue,
            };
            let coding = coding.trim();
            // the first mention of a coding counts
            let slot = if coding.eq_ignore_ascii_case("br") {
                &mut br
            } else if coding.eq_ignore_ascii_case("zstd") {
                &mut zstd
            } else if coding.eq_ignore_ascii_case("gzip") {
                &mut gzip
            } else {
                star |= coding == "*" && accepted;
                continue;
            };
            slot.get_or_insert(accepted);
        }
        // a coding named explicitly wins over `*`, so `*, br;q=0` refuses br
        let accepts = |named: Option<bool>| named.unwrap_or(star);
        [
            (self.brotli.is_some() && accepts(br), Encoding::Brotli),
            (self.zstd.is_some() && accepts(zstd), Encoding::Zstd),
            (self.gzip.is_some() && accepts(gzip), Encoding::Gzip),
        ]
        .into_iter()
        .find_map(|(on, e)| on.then_some(e))
    }
}

/// A qvalue in thousandths (RFC 9110 §12.4.2: `0`, `1`, `0.xxx` or `1.000`), or `None` when it
/// is malformed.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'))
        * 10u16.pow(3 - fraction.len() as u32);
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}
