//! The body of a refused request, read and thrown away while the `413` goes out, so a browser
//! still sending it reads the refusal.

/// The most of a refused body read and thrown away, and for how long.
const DRAIN_BYTES: u64 = 16 << 20;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads a refused body and throws it away, at most [`DRAIN_BYTES`] for at most [`DRAIN_TIME`],
/// while the `413` goes out. Nothing of it is kept. A browser that is still sending its upload
/// when the refusal arrives reads the refusal only if the server goes on taking bytes: closing
/// the connection on unread data resets it, and the browser then reports a network error
/// instead of the `413`, so the page could not say "too large". Bodies declared larger than
/// [`DRAIN_BYTES`] or four times the limit are not read at all (their connection closes).
pub(super) fn drain_in_background(body: axum::body::Body, declared: u64, limit: u64) {
    // a little over the limit is a user's honest mistake worth an answer; far over, it is not
    let most = DRAIN_BYTES.min(limit.saturating_mul(4));
    if declared > most || tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut body = std::pin::pin!(body);
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            let mut read = 0u64;
            while let Some(Ok(frame)) = http_body_util::BodyExt::frame(&mut body).await {
                read += frame.data_ref().map_or(0, |d| d.len() as u64);
                if read > most {
                    break;
                }
            }
        })
        .await;
    });
}
