//! What a file holds, by its first bytes: its magic number, else whether it is text (or SVG).

/// The mime type a browser declares when it knows none.
pub(super) const OCTET_STREAM: &str = "application/octet-stream";

/// What a file's content is, by its first bytes.
pub(super) fn sniff(bytes: &[u8]) -> &'static str {
    let found = infer::get(bytes).map(|t| t.mime_type());
    match found {
        // a binary format: its magic number says it all
        Some(mime) if mime != "text/xml" && mime != "text/html" => mime,
        // markup or text: an SVG is an image that can hold script, so it is named as such
        _ if looks_like_text(bytes) && is_svg(bytes) => "image/svg+xml",
        Some(markup) => markup,
        None if looks_like_text(bytes) => "text/plain",
        None => OCTET_STREAM,
    }
}

/// How much of a file the text checks read.
const SNIFF_LEN: usize = 8 * 1024;

/// Valid UTF-8 (a character cut at the end of the prefix is fine) with no control characters
/// but whitespace.
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

/// An `<svg` element near the start of a text file.
fn is_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    head.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_judges_content_not_names() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
        assert_eq!(sniff(png), "image/png");
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "image/jpeg");
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff("héllo\nworld".as_bytes()), "text/plain");
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><svg/>"), "image/svg+xml");
        assert_eq!(sniff(b"<!DOCTYPE html><html></html>"), "text/html");
        assert_eq!(sniff(b"\0\x01\x02"), OCTET_STREAM);
        assert_eq!(sniff(b""), OCTET_STREAM);
        // a multi-byte character cut at the sniffing window is still text
        let mut long = "a".repeat(SNIFF_LEN - 1).into_bytes();
        long.extend_from_slice("é".as_bytes());
        assert_eq!(sniff(&long), "text/plain");
    }
}
