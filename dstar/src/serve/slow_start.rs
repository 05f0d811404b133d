//! A deadline on a connection's first bytes.
//!
//! hyper's `header_read_timeout` covers an HTTP/1.1 request head, and nothing covers the first
//! bytes of an HTTP/2 connection: a client that sends its preface and then nothing (or a byte a
//! minute) would hold its connection forever. The peek that tells the protocol
//! ([`peek_protocol`](super::protocol::peek_protocol)) waits for the first bytes until the
//! header-read deadline; [`FirstBytes`] holds the rest of the preface to the same deadline.

use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

// HTTP/2's connection preface: a client sending it is still starting, not stalling
use super::protocol::H2_PREFACE as PREFACE;

pin_project! {
    /// An IO whose reads fail with `TimedOut` until the protocol is known, if that takes longer
    /// than the deadline. Afterwards it is a plain pass-through.
    pub(crate) struct FirstBytes<I> {
        #[pin]
        io: I,
        deadline: Option<Pin<Box<Sleep>>>,
        seen: usize,
    }
}

impl<I> FirstBytes<I> {
    pub(crate) fn new(io: I, timeout: Duration) -> Self {
        FirstBytes {
            io,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
            seen: 0,
        }
    }
}

impl<I: AsyncRead> AsyncRead for FirstBytes<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let Some(deadline) = this.deadline.as_mut() else {
            return this.io.poll_read(cx, buf);
        };
        let before = buf.filled().len();
        match this.io.poll_read(cx, buf) {
            Poll::Ready(result) => {
                let new = &buf.filled()[before..];
                // decided: HTTP/1 (the bytes left the preface) or the whole preface arrived
                let offset = (*this.seen).min(PREFACE.len());
                let end = (offset + new.len()).min(PREFACE.len());
                let still_preface = new[..end - offset] == PREFACE[offset..end];
                *this.seen += new.len();
                if new.is_empty() || !still_preface || *this.seen >= PREFACE.len() {
                    *this.deadline = None;
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                ready!(deadline.as_mut().poll(cx));
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent no request in time",
                )))
            }
        }
    }
}

impl<I: AsyncWrite> AsyncWrite for FirstBytes<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
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
    async fn silence_times_out() {
        let (client, server) = tokio::io::duplex(64);
        let mut io = FirstBytes::new(server, Duration::from_secs(30));
        let mut buf = [0u8; 24];
        let err = io.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickled_preface_times_out() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = FirstBytes::new(server, Duration::from_secs(30));
        client.write_all(b"PRI * ").await.unwrap();
        let mut buf = [0u8; 24];
        assert_eq!(io.read(&mut buf).await.unwrap(), 6);
        let err = io.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn http1_bytes_disarm_the_deadline() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = FirstBytes::new(server, Duration::from_secs(30));
        client.write_all(b"GET").await.unwrap();
        let mut buf = [0u8; 24];
        assert_eq!(io.read(&mut buf).await.unwrap(), 3);
        // from here on hyper's header timeout is in charge: reads wait as long as they must
        let read = tokio::spawn(async move {
            let mut buf = [0u8; 24];
            io.read(&mut buf).await.map(|n| buf[..n].to_vec())
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        client.write_all(b" /").await.unwrap();
        assert_eq!(read.await.unwrap().unwrap(), b" /");
    }
}
