//! MP3 and FLAC through `symphonia`.
//!
//! A decoder hands out one packet's worth of audio at a time (1152 frames for
//! MP3, up to a few thousand for FLAC) while callers ask for blocks of their
//! own size, so decoded frames that do not fit the caller's request wait in
//! `pending` for the next call. `pending` and the planar scratch buffer are
//! reused for the life of the source.

use super::{AudioError, AudioSource, Format, SourceInfo};
use std::fs::File;
use std::path::Path;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// A compressed stream decoded packet by packet.
pub(crate) struct SymphoniaSource {
    info: SourceInfo,
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    scratch: Vec<Vec<f32>>,
    pending: Vec<Vec<f32>>,
    pending_pos: usize,
    ended: bool,
    warnings: Vec<String>,
}

fn sym_err(e: SymError) -> AudioError {
    match e {
        SymError::IoError(io) => AudioError::Io(io),
        SymError::Unsupported(what) => AudioError::UnsupportedCodec(what.to_string()),
        other => AudioError::Decode(other.to_string()),
    }
}

impl SymphoniaSource {
    /// Opens `path`, already sniffed as `format`.
    pub(crate) fn open(path: &Path, format: Format) -> Result<SymphoniaSource, AudioError> {
        let file = File::open(path)?;
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        hint.with_extension(match format {
            Format::Flac => "flac",
            _ => "mp3",
        });
        let reader = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                    AudioError::TruncatedHeader("the file ends inside its header".into())
                }
                other => sym_err(other),
            })?;
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or(AudioError::NoAudioTrack)?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or(AudioError::NoAudioTrack)?
            .clone();
        let track_id = track.id;
        let frames = track.num_frames;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(sym_err)?;
        let channels = params.channels.as_ref().map_or(0, |c| c.count());
        let sample_rate = params.sample_rate.unwrap_or(0);
        Ok(SymphoniaSource {
            info: SourceInfo {
                format,
                sample_rate,
                channels,
                frames,
            },
            reader,
            decoder,
            track_id,
            scratch: Vec::new(),
            pending: vec![Vec::new(); channels],
            pending_pos: 0,
            ended: false,
            warnings: Vec::new(),
        })
    }

    /// Decodes the next packet into `pending`; false at the end of stream.
    fn decode_next(&mut self) -> Result<bool, AudioError> {
        loop {
            let packet = match self.reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(false),
                Err(SymError::IoError(io)) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.warnings.push(
                        "the stream ends in the middle of a packet; read to its real end".into(),
                    );
                    return Ok(false);
                }
                Err(e) => return Err(sym_err(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    buf.copy_to_vecs_planar::<f32>(&mut self.scratch);
                    for (p, s) in self.pending.iter_mut().zip(&self.scratch) {
                        p.drain(..self.pending_pos);
                        p.extend_from_slice(s);
                    }
                    self.pending_pos = 0;
                    return Ok(true);
                }
                // A corrupt packet is skipped, as players do; it is noted once.
                Err(SymError::DecodeError(msg)) => {
                    if self.warnings.len() < 10 {
                        self.warnings
                            .push(format!("skipped a corrupt packet: {msg}"));
                    }
                }
                Err(e) => return Err(sym_err(e)),
            }
        }
    }
}

impl AudioSource for SymphoniaSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, out: &mut [Vec<f32>], max_frames: usize) -> Result<usize, AudioError> {
        let mut written = 0;
        while written < max_frames {
            let available = self.pending.first().map_or(0, Vec::len) - self.pending_pos;
            if available == 0 {
                if self.ended || !self.decode_next()? {
                    self.ended = true;
                    break;
                }
                continue;
            }
            let n = available.min(max_frames - written);
            for (dst, src) in out.iter_mut().zip(&self.pending) {
                dst.extend_from_slice(&src[self.pending_pos..self.pending_pos + n]);
            }
            self.pending_pos += n;
            written += n;
        }
        Ok(written)
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}
