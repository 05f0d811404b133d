//! The encoders behind one interface: a whole body compressed in one go, and a streaming
//! [`Encoder`] per compressed stream (dstar's brotli writer, or a library's writer flushed after
//! every frame), each set up with the [`Compression`]'s settings.

use super::brotli::DeltaBrotli;
use super::config::{BROTLI, Compression, StreamBrotli, ZSTD, ZSTD_TABLE_LOG, ZSTD_WINDOW_LOG};
use super::negotiate::Encoding;
use bytes::Bytes;
use std::io::Write;

impl Compression {
    /// Compresses a whole body in one go (a page, an event's finished answer). Nothing is kept
    /// afterwards, and the encoder is set up for the body's size: brotli's window fits the body
    /// and it knows the whole input at once, so it prepares only the part of its tables the body
    /// uses; zstd sizes its context to the body.
    pub(super) fn one_shot(&self, encoding: Encoding, body: &[u8]) -> std::io::Result<Vec<u8>> {
        match encoding {
            Encoding::Brotli => {
                let (quality, lgwin) = self.brotli.unwrap_or(BROTLI);
                // the smallest window that holds the whole body (brotli's minimum is 10)
                let fits = usize::BITS - body.len().max(1).leading_zeros();
                let lgwin = lgwin.min(fits.max(10));
                let encoder = brotli_encoder(quality, lgwin, Some(body.len()))?;
                let mut writer = brotlic::CompressorWriter::with_encoder(encoder, Vec::new());
                // written, then finished: no flush in between, so brotli sees it all as one block
                writer.write_all(body)?;
                writer
                    .into_inner()
                    .map_err(brotlic::IntoInnerError::into_error)
            }
            Encoding::Zstd => zstd::bulk::compress(body, self.zstd.unwrap_or(ZSTD)),
            Encoding::Gzip => {
                let level = flate2::Compression::new(self.gzip.unwrap_or(6));
                let mut writer = flate2::write::GzEncoder::new(Vec::new(), level);
                writer.write_all(body)?;
                writer.finish()
            }
        }
    }

    /// A streaming encoder, or `None` when the library refuses its settings (the stream then
    /// goes out uncompressed: never labelled with a coding it is not in).
    pub(super) fn encoder(&self, encoding: Encoding) -> Option<Box<dyn Encoder>> {
        let encoder: Box<dyn Encoder> = match encoding {
            Encoding::Brotli if self.stream_brotli == StreamBrotli::Delta => {
                let (_, lgwin) = self.brotli.unwrap_or(BROTLI);
                Box::new(DeltaBrotli::new(lgwin))
            }
            Encoding::Brotli => {
                let (quality, lgwin) = self.brotli.unwrap_or(BROTLI);
                let encoder = brotli_encoder(quality, lgwin, None).ok()?;
                Box::new(Flushing(Some(brotlic::CompressorWriter::with_encoder(
                    encoder,
                    Vec::new(),
                ))))
            }
            Encoding::Zstd => {
                let mut encoder =
                    zstd::stream::write::Encoder::new(Vec::new(), self.zstd.unwrap_or(ZSTD))
                        .ok()?;
                encoder.window_log(ZSTD_WINDOW_LOG).ok()?;
                use zstd::stream::raw::CParameter;
                encoder
                    .set_parameter(CParameter::HashLog(ZSTD_TABLE_LOG))
                    .ok()?;
                encoder
                    .set_parameter(CParameter::ChainLog(ZSTD_TABLE_LOG))
                    .ok()?;
                Box::new(Flushing(Some(encoder)))
            }
            Encoding::Gzip => Box::new(Flushing(Some(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(self.gzip.unwrap_or(6)),
            )))),
        };
        Some(encoder)
    }
}

/// A streaming encoder: compress a frame and flush, so the output decodes to everything so far.
pub(super) trait Encoder: Send {
    fn encode(&mut self, frame: Bytes) -> std::io::Result<Vec<u8>>;
    fn finish(&mut self) -> std::io::Result<Vec<u8>>;
}

/// A compressing writer into a buffer: where its output collects, and how it ends its stream.
trait Compressor: Write + Send + Sized {
    fn output(&mut self) -> &mut Vec<u8>;
    fn end(self) -> std::io::Result<Vec<u8>>;
}

/// A brotli encoder with dstar's settings (`quality` and `lgwin` already in range), told the
/// body's `size` when it is known in advance.
fn brotli_encoder(
    quality: u32,
    lgwin: u32,
    size: Option<usize>,
) -> Result<brotlic::BrotliEncoder, std::io::Error> {
    let invalid = |e: brotlic::SetParameterError| std::io::Error::other(e.to_string());
    let mut options = brotlic::BrotliEncoderOptions::new();
    options
        .quality(brotlic::Quality::new(quality as u8).map_err(invalid)?)
        .window_size(brotlic::WindowSize::new(lgwin as u8).map_err(invalid)?);
    if let Some(size) = size {
        options.size_hint(u32::try_from(size).unwrap_or(u32::MAX));
    }
    options.build().map_err(invalid)
}

impl Compressor for brotlic::CompressorWriter<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn end(self) -> std::io::Result<Vec<u8>> {
        // into_inner writes brotli's last meta-block
        self.into_inner()
            .map_err(brotlic::IntoInnerError::into_error)
    }
}

impl Compressor for flate2::write::GzEncoder<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn end(self) -> std::io::Result<Vec<u8>> {
        self.finish()
    }
}

impl Compressor for zstd::stream::write::Encoder<'static, Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn end(self) -> std::io::Result<Vec<u8>> {
        self.finish()
    }
}

/// Any [`Compressor`] as an [`Encoder`]: write, flush, hand out what came out. `None` once ended.
struct Flushing<C>(Option<C>);

impl<C: Compressor> Encoder for Flushing<C> {
    fn encode(&mut self, frame: Bytes) -> std::io::Result<Vec<u8>> {
        let compressor = self.0.as_mut().ok_or(std::io::ErrorKind::BrokenPipe)?;
        compressor.write_all(&frame)?;
        compressor.flush()?;
        Ok(std::mem::take(compressor.output()))
    }

    fn finish(&mut self) -> std::io::Result<Vec<u8>> {
        self.0.take().map_or(Ok(Vec::new()), Compressor::end)
    }
}

impl Encoder for DeltaBrotli {
    fn encode(&mut self, frame: Bytes) -> std::io::Result<Vec<u8>> {
        Ok(DeltaBrotli::encode(self, frame))
    }

    fn finish(&mut self) -> std::io::Result<Vec<u8>> {
        Ok(DeltaBrotli::finish(self))
    }
}
