//! Bare-LF line ends in HTTP/1 request heads are refused. RFC 9112 §2.2 lets a server read a lone
//! LF as a line end, but a proxy in front may read it otherwise, and the two then disagree on
//! where a request ends: that is how requests are smuggled. hyper reads them and has no switch,
//! so this wrapper watches the bytes hyper reads, follows each request's framing (heads, then
//! `Content-Length` or chunked bodies, which may hold any byte), and turns a lone LF inside a
//! head into a NUL: hyper then fails to parse that head and answers `400 Bad Request`.
//!
//! Anything it does not follow (an upgrade, `CONNECT`, HTTP/2, a head it cannot parse, framing
//! hyper would refuse anyway) turns it off for the rest of the connection.

use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Heads longer than this are not followed (hyper refuses them on its own).
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In a request head.
    Head,
    /// In a body of this many more bytes.
    Body(u64),
    /// In a chunk-size line (the size so far, and whether an extension began).
    ChunkSize { size: u64, ext: bool, digits: bool },
    /// In a chunk's data.
    ChunkData(u64),
    /// The CRLF after a chunk's data: this many bytes left.
    ChunkEnd(u8),
    /// In the trailer section; whether the current line is still empty.
    Trailer { empty: bool },
    /// Not followed any more.
    Off,
}

pin_project! {
    /// The IO wrapper (see the module docs).
    pub(crate) struct StrictLineEnds<I> {
        #[pin]
        io: I,
        state: State,
        head: Head,
    }
}

impl<I> StrictLineEnds<I> {
    pub(crate) fn new(io: I) -> Self {
        StrictLineEnds {
            io,
            state: State::Head,
            head: Head::default(),
        }
    }
}

/// What is known of the request head being read: the line that began in an earlier read, and
/// the framing its headers gave so far.
#[derive(Debug, Default)]
pub(crate) struct Head {
    /// The part of a line that began in an earlier read (rare: most heads arrive whole).
    carry: Vec<u8>,
    /// Whether the request line has been read.
    started: bool,
    length: Option<u64>,
    chunked: bool,
    /// Something this wrapper does not follow (an upgrade, `CONNECT`, HTTP/2, odd framing).
    unfollowed: bool,
}

impl Head {
    /// Reads one complete line (without its LF, with its CR) of a head. `Some` when it ended
    /// the head: the state that follows.
    fn line(&mut self, line: &[u8]) -> Option<State> {
        let content = line.strip_suffix(b"\r").unwrap_or(line);
        if content.is_empty() {
            if !self.started {
                return None; // an empty line before the request line is ignored (RFC 9112 §2.2)
            }
            let next = match (self.unfollowed, self.chunked, self.length) {
                (true, _, _) | (false, true, Some(_)) => State::Off,
                (false, true, None) => State::ChunkSize {
                    size: 0,
                    ext: false,
                    digits: false,
                },
                (false, false, Some(0) | None) => State::Head,
                (false, false, Some(n)) => State::Body(n),
            };
            *self = Head {
                carry: std::mem::take(&mut self.carry),
                ..Head::default()
            };
            return Some(next);
        }
        if !self.started {
            self.started = true;
            self.unfollowed |= content.starts_with(b"CONNECT ") || content.starts_with(b"PRI ");
            return None;
        }
        let Some(colon) = content.iter().position(|&b| b == b':') else {
            self.unfollowed = true;
            return None;
        };
        let (name, value) = (&content[..colon], content[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<u64>().ok());
            match (self.length, n) {
                (None, Some(n)) => self.length = Some(n),
                _ => self.unfollowed = true,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            let last = value.rsplit(|&b| b == b',').next().map(<[u8]>::trim_ascii);
            if self.chunked || !last.is_some_and(|v| v.eq_ignore_ascii_case(b"chunked")) {
                self.unfollowed = true;
            }
            self.chunked = true;
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            self.unfollowed = true;
        }
        None
    }
}

/// Follows `bytes` (just read) from `state`, blanking a lone LF in a head.
fn scan(state: &mut State, head: &mut Head, bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        match *state {
            State::Off => return,
            State::Head => {
                let Some(at) = memchr::memchr(b'\n', &bytes[i..]) else {
                    head.carry.extend_from_slice(&bytes[i..]);
                    if head.carry.len() > MAX_HEAD {
                        *state = State::Off;
                    }
                    return;
                };
                let end = i + at;
                let ended = if head.carry.is_empty() {
                    let line = &bytes[i..end];
                    if line.last() != Some(&b'\r') {
                        None
                    } else {
                        Some(head.line(line))
                    }
                } else {
                    let mut carry = std::mem::take(&mut head.carry);
                    carry.extend_from_slice(&bytes[i..end]);
                    let result = if carry.last() != Some(&b'\r') {
                        None
                    } else {
                        Some(head.line(&carry))
                    };
                    carry.clear();
                    head.carry = carry;
                    result
                };
                match ended {
                    None => {
                        // a line end without its CR
                        bytes[end] = 0;
                        tracing::debug!("dstar: a request head with a bare LF line end (400)");
                        *state = State::Off;
                        return;
                    }
                    Some(Some(next)) => *state = next,
                    Some(None) => {}
                }
                i = end + 1;
            }
            State::Body(left) => {
                let take = left.min((bytes.len() - i) as u64);
                i += take as usize;
                *state = if left == take {
                    State::Head
                } else {
                    State::Body(left - take)
                };
            }
            State::ChunkData(left) => {
                let take = left.min((bytes.len() - i) as u64);
                i += take as usize;
                *state = if left == take {
                    State::ChunkEnd(2)
                } else {
                    State::ChunkData(left - take)
                };
            }
            State::ChunkEnd(left) => {
                i += 1;
                *state = if left <= 1 {
                    State::ChunkSize {
                        size: 0,
                        ext: false,
                        digits: false,
                    }
                } else {
                    State::ChunkEnd(left - 1)
                };
            }
            State::ChunkSize { size, ext, digits } => {
                let b = bytes[i];
                i += 1;
                *state = match b {
                    b'\n' if !digits => State::Off,
                    b'\n' if size == 0 => State::Trailer { empty: true },
                    b'\n' => State::ChunkData(size),
                    _ if ext || b == b'\r' => State::ChunkSize { size, ext, digits },
                    b';' | b' ' | b'\t' => State::ChunkSize {
                        size,
                        ext: true,
                        digits,
                    },
                    _ => match (b as char).to_digit(16) {
                        Some(d) if size < (1 << 56) => State::ChunkSize {
                            size: size * 16 + u64::from(d),
                            ext,
                            digits: true,
                        },
                        _ => State::Off,
                    },
                };
            }
            State::Trailer { empty } => {
                let b = bytes[i];
                i += 1;
                *state = match b {
                    b'\n' if empty => State::Head,
                    b'\n' => State::Trailer { empty: true },
                    b'\r' => State::Trailer { empty },
                    _ => State::Trailer { empty: false },
                };
            }
        }
    }
}

impl<I: AsyncRead> AsyncRead for StrictLineEnds<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        ready!(this.io.poll_read(cx, buf))?;
        if *this.state != State::Off {
            scan(this.state, this.head, &mut buf.filled_mut()[before..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite> AsyncWrite for StrictLineEnds<I> {
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

    /// Scans `input` in pieces of `step` bytes, as reads would arrive; returns what hyper reads.
    fn follow(input: &[u8], step: usize) -> Vec<u8> {
        let mut state = State::Head;
        let mut head = Head::default();
        let mut out = input.to_vec();
        for piece in out.chunks_mut(step) {
            scan(&mut state, &mut head, piece);
        }
        out
    }

    #[test]
    fn a_bare_lf_in_a_head_is_blanked_and_crlf_heads_are_untouched() {
        for step in [1, 3, 1000] {
            let ok = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
            assert_eq!(follow(ok, step), ok.to_vec());
            let bare = b"GET / HTTP/1.1\nHost: a\r\n\r\n";
            assert_eq!(follow(bare, step)[14], 0, "step {step}");
            let second = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\n\r\n";
            assert!(
                follow(second, step).contains(&0),
                "the second head, step {step}"
            );
        }
    }

    #[test]
    fn bodies_may_hold_any_byte() {
        for step in [1, 2, 7, 1000] {
            let sized = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\na\nb\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
            assert_eq!(follow(sized, step), sized.to_vec(), "step {step}");
            let chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\na\nb\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\nHost: a\r\n\r\n";
            let out = follow(chunked, step);
            // the data's LF is kept; the next head's bare LF is blanked
            let data_lf = chunked.windows(3).position(|w| w == b"a\nb").unwrap() + 1;
            assert_eq!(out[data_lf], b'\n', "step {step}");
            assert_eq!(out.iter().filter(|&&b| b == 0).count(), 1, "step {step}");
        }
    }

    #[test]
    fn what_is_not_followed_is_left_alone() {
        let upgrade = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\nany\nbytes\n";
        assert_eq!(follow(upgrade, 5), upgrade.to_vec());
        let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\n";
        assert_eq!(follow(preface, 4), preface.to_vec());
    }
}
