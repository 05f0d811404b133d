//! A connection's slot under the connection cap, held by its byte stream rather than by the task
//! that serves it. A connection handed to an upgrade (a WebSocket route) leaves hyper and that
//! task; its stream goes on in the handler's task, and keeps its slot until it closes. So
//! upgraded connections count against `Server::max_connections`, and the shutdown drain waits
//! for them (up to its deadline) like any other.

use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;

pin_project! {
    /// A connection's byte stream and its slot under the cap, given back when it is dropped.
    pub(crate) struct Slotted<I> {
        #[pin]
        io: I,
        slot: OwnedSemaphorePermit,
    }
}

impl<I> Slotted<I> {
    pub(crate) fn new(io: I, slot: OwnedSemaphorePermit) -> Self {
        Slotted { io, slot }
    }
}

impl<I: AsyncRead> AsyncRead for Slotted<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl<I: AsyncWrite> AsyncWrite for Slotted<I> {
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
