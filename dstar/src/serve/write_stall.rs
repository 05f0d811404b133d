//! A deadline on a connection whose client stops taking bytes.
//!
//! When a client stops reading (or a proxy in front of it stalls), its TCP window closes and
//! every write stays pending. hyper then only tries to flush and stops polling the response body,
//! so a page stream cannot see its takeover or its liveness check, and the connection, its
//! subscription and hyper's buffer would be held for as long as the peer answers window probes.
//! [`WriteStall`] fails the write once it has been pending for the whole deadline; hyper then
//! closes the connection and drops the body.
//!
//! The timer exists only while a write is pending, so a connection whose writes go through holds
//! none.

use super::activity::Activity;
use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

pin_project! {
    /// An IO whose writes fail with `TimedOut` once they have made no progress for `timeout`.
    pub(crate) struct WriteStall<I> {
        #[pin]
        io: I,
        timeout: Duration,
        // armed when a write goes pending, dropped when one makes progress
        stalled: Option<Pin<Box<Sleep>>>,
        // told of every write, for the HTTP/2 stall check
        activity: Option<Arc<Activity>>,
    }
}

impl<I> WriteStall<I> {
    pub(crate) fn new(io: I, timeout: Duration) -> Self {
        WriteStall {
            io,
            timeout,
            stalled: None,
            activity: None,
        }
    }

    /// Tells `activity` how much each write took, so the HTTP/2 stall check knows whether the
    /// client is still taking data.
    pub(crate) fn reporting_to(mut self, activity: Arc<Activity>) -> Self {
        self.activity = Some(activity);
        self
    }
}

/// What a write returned, seen through the deadline: progress disarms it, a pending write arms
/// it (once) and fails when it fires.
fn watch<T>(
    stalled: &mut Option<Pin<Box<Sleep>>>,
    timeout: Duration,
    cx: &mut Context<'_>,
    result: Poll<io::Result<T>>,
) -> Poll<io::Result<T>> {
    if result.is_ready() {
        *stalled = None;
        return result;
    }
    let deadline = stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
    if deadline.as_mut().poll(cx).is_ready() {
        tracing::debug!(
            ?timeout,
            "dstar: the client took no bytes within the write deadline; closing its connection"
        );
        return Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading",
        )));
    }
    Poll::Pending
}

fn report(activity: Option<&Activity>, result: &Poll<io::Result<usize>>) {
    if let (Some(activity), Poll::Ready(Ok(n))) = (activity, result) {
        activity.wrote(*n);
    }
}

impl<I: AsyncRead> AsyncRead for WriteStall<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl<I: AsyncWrite> AsyncWrite for WriteStall<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let result = this.io.poll_write(cx, buf);
        report(this.activity.as_deref(), &result);
        watch(this.stalled, *this.timeout, cx, result)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let result = this.io.poll_flush(cx);
        watch(this.stalled, *this.timeout, cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let result = this.io.poll_shutdown(cx);
        watch(this.stalled, *this.timeout, cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let result = this.io.poll_write_vectored(cx, bufs);
        report(this.activity.as_deref(), &result);
        watch(this.stalled, *this.timeout, cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_reading_is_cut_off() {
        let (client, server) = tokio::io::duplex(16);
        let mut io = WriteStall::new(server, Duration::from_secs(60));
        // the pipe takes 16 bytes, then nobody reads
        let err = io.write_all(&[b'x'; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_taking_bytes_is_not() {
        let (mut client, server) = tokio::io::duplex(16);
        let mut io = WriteStall::new(server, Duration::from_secs(60));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 8];
            loop {
                // each read comes 50 s after the last: under the deadline every time
                tokio::time::sleep(Duration::from_secs(50)).await;
                match client.read(&mut buf).await {
                    Ok(0) | Err(_) => return got,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        io.write_all(&[b'y'; 64]).await.unwrap();
        io.shutdown().await.unwrap();
        drop(io);
        assert_eq!(reader.await.unwrap(), vec![b'y'; 64]);
    }
}
