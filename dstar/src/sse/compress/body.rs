//! A streaming response body compressed frame by frame, each frame flushed, so every event is
//! decodable as soon as it arrives.

use super::encoders::Encoder;
use super::slot::StreamSlot;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A response body compressed frame by frame, each flushed.
pub(super) struct EncodedBody {
    inner: Body,
    /// `None` once finished.
    encoder: Option<Box<dyn Encoder>>,
    /// Given back when the response ends or the client goes.
    _slot: StreamSlot,
}

impl EncodedBody {
    /// `inner`, compressed by `encoder` for as long as it holds `slot`.
    pub(super) fn new(inner: Body, encoder: Box<dyn Encoder>, slot: StreamSlot) -> Self {
        EncodedBody {
            inner,
            encoder: Some(encoder),
            _slot: slot,
        }
    }
}

impl fmt::Debug for EncodedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodedBody").finish_non_exhaustive()
    }
}

impl http_body::Body for EncodedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers: an event stream has none
                    };
                    match encoder.encode(data) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Poll::Ready(Some(Ok(Frame::data(out.into())))),
                        Err(e) => return Poll::Ready(Some(Err(axum::Error::new(e)))),
                    }
                }
                Poll::Ready(None) => {
                    let mut encoder = this.encoder.take().expect("checked above");
                    return match encoder.finish() {
                        Ok(out) if out.is_empty() => Poll::Ready(None),
                        Ok(out) => Poll::Ready(Some(Ok(Frame::data(out.into())))),
                        Err(e) => Poll::Ready(Some(Err(axum::Error::new(e)))),
                    };
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
