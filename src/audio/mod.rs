//! Audio in: opening call recordings, reading them in blocks, picking the
//! channels that carry the speakers, and resampling to the analysis rate.
//!
//! Every reader implements [`AudioSource`], a pull interface that fills a
//! caller-owned planar buffer. The pipeline's decode stage owns one source per
//! file and lends buffers from a pool, so reading allocates nothing per block
//! and memory does not grow with the length of the call.
//!
//! Formats: WAV with PCM 8/16/24/32-bit integer or 32-bit float samples
//! (read with `hound`), WAV with G.711 μ-law or A-law (read here: the codec is
//! a 256-entry table), MP3 and FLAC (decoded with `symphonia`).

mod compressed;
pub mod resample;
pub mod roles;
pub mod wav;

pub use resample::ChannelResampler;
pub use roles::{RoleError, Roles, Speaker};

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Lowest sample rate hearken reads (narrow-band telephony).
pub const MIN_RATE: u32 = 8_000;
/// Highest sample rate hearken reads.
pub const MAX_RATE: u32 = 192_000;

/// Why a recording could not be read. Each message is one line that names
/// the cause; the caller prefixes the file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The operating system refused (missing file, permissions, I/O error).
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The file has no bytes at all.
    #[error("empty file (0 bytes)")]
    Empty,
    /// The file ends inside its header.
    #[error("truncated header: {0}")]
    TruncatedHeader(String),
    /// The bytes are not a recognised audio container.
    #[error("not an audio file: {0}")]
    NotAudio(String),
    /// A recognised container with a codec hearken does not decode.
    #[error("unsupported codec: {0}")]
    UnsupportedCodec(String),
    /// The header declares no channels.
    #[error("the header declares 0 channels")]
    ZeroChannels,
    /// The header declares a sample rate outside [`MIN_RATE`]..=[`MAX_RATE`].
    #[error("unsupported sample rate {0} Hz (hearken reads {MIN_RATE}–{MAX_RATE} Hz)")]
    SampleRate(u32),
    /// The header is readable but inconsistent.
    #[error("malformed header: {0}")]
    Malformed(String),
    /// The decoder failed in the middle of the stream.
    #[error("decoding failed: {0}")]
    Decode(String),
    /// The container holds no audio track.
    #[error("no audio track found")]
    NoAudioTrack,
}

/// The encoding of a recording, as reported in `input.format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// WAV, linear PCM with this many bits per sample.
    WavPcm(u16),
    /// WAV, IEEE float with this many bits per sample.
    WavFloat(u16),
    /// WAV, G.711 μ-law.
    WavMulaw,
    /// WAV, G.711 A-law.
    WavAlaw,
    /// MPEG-1/2 Layer III.
    Mp3,
    /// Free Lossless Audio Codec.
    Flac,
    /// Samples handed over in memory or from a live device.
    Raw,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::WavPcm(b) => write!(f, "wav/pcm_s{b}"),
            Format::WavFloat(b) => write!(f, "wav/float{b}"),
            Format::WavMulaw => f.write_str("wav/mulaw"),
            Format::WavAlaw => f.write_str("wav/alaw"),
            Format::Mp3 => f.write_str("mp3"),
            Format::Flac => f.write_str("flac"),
            Format::Raw => f.write_str("raw"),
        }
    }
}

/// What a source knows about its stream before reading it.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    /// The encoding.
    pub format: Format,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Number of interleaved channels in the file.
    pub channels: usize,
    /// Frames (samples per channel) the header promises, when it says.
    pub frames: Option<u64>,
}

impl SourceInfo {
    /// The promised duration in seconds, when known.
    pub fn duration_secs(&self) -> Option<f64> {
        self.frames.map(|n| n as f64 / f64::from(self.sample_rate))
    }
}

/// A stream of planar `f32` audio in `[-1, 1]`, read block by block.
pub trait AudioSource: Send {
    /// Format, rate and channel count.
    fn info(&self) -> &SourceInfo;

    /// Appends up to `max_frames` frames to `out` (one vector per channel,
    /// `out.len() == info().channels`). Returns the number of frames
    /// appended; 0 means the stream has ended.
    fn read(&mut self, out: &mut [Vec<f32>], max_frames: usize) -> Result<usize, AudioError>;

    /// Problems that did not stop reading (a header that promised more data
    /// than the file holds, say). Collected once the stream has ended.
    fn warnings(&self) -> Vec<String>;

    /// `Some(frames)` for a live source (a sound card, a paced replay): the
    /// pipeline then reads it in blocks of about that many frames and keeps
    /// every stage's buffering small, trading throughput for latency.
    /// `None` (the default) for files read as fast as possible.
    fn live_block_frames(&self) -> Option<usize> {
        None
    }
}

/// Sniffed container kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Container {
    Wav,
    Flac,
    Mp3,
}

/// Opens a recording, identifying the container from its first bytes (not
/// from its name: a text file called `.wav` is caught here).
pub fn open(path: &Path) -> Result<Box<dyn AudioSource>, AudioError> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(AudioError::NotAudio("is a directory".into()));
    }
    if meta.len() == 0 {
        return Err(AudioError::Empty);
    }
    let mut head = [0u8; 12];
    let n = read_up_to(&mut File::open(path)?, &mut head)?;
    let source: Box<dyn AudioSource> = match sniff(&head[..n])? {
        Container::Wav => wav::open(path)?,
        Container::Flac => Box::new(compressed::SymphoniaSource::open(path, Format::Flac)?),
        Container::Mp3 => Box::new(compressed::SymphoniaSource::open(path, Format::Mp3)?),
    };
    check_info(source.info())?;
    Ok(source)
}

/// Rejects channel counts and rates hearken cannot analyse.
pub(crate) fn check_info(info: &SourceInfo) -> Result<(), AudioError> {
    if info.channels == 0 {
        return Err(AudioError::ZeroChannels);
    }
    if !(MIN_RATE..=MAX_RATE).contains(&info.sample_rate) {
        return Err(AudioError::SampleRate(info.sample_rate));
    }
    Ok(())
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn sniff(head: &[u8]) -> Result<Container, AudioError> {
    if head.starts_with(b"RIFF") || head.starts_with(b"RIFX") || head.starts_with(b"RF64") {
        if head.len() < 12 {
            return Err(AudioError::TruncatedHeader(format!(
                "{} bytes, a RIFF header needs 12",
                head.len()
            )));
        }
        if &head[8..12] != b"WAVE" {
            return Err(AudioError::NotAudio(format!(
                "a RIFF file of type {:?}, not WAVE",
                String::from_utf8_lossy(&head[8..12])
            )));
        }
        if !head.starts_with(b"RIFF") {
            return Err(AudioError::UnsupportedCodec(format!(
                "{} WAV variant (only little-endian RIFF WAV is read)",
                String::from_utf8_lossy(&head[..4])
            )));
        }
        return Ok(Container::Wav);
    }
    if head.starts_with(b"fLaC") {
        return Ok(Container::Flac);
    }
    if head.starts_with(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        return Ok(Container::Mp3);
    }
    if head.starts_with(b"OggS") {
        return Err(AudioError::UnsupportedCodec(
            "Ogg container (convert to WAV or FLAC)".into(),
        ));
    }
    let printable = head
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if printable {
        Err(AudioError::NotAudio(format!(
            "looks like text (starts with {:?})",
            String::from_utf8_lossy(head)
        )))
    } else {
        Err(AudioError::NotAudio(
            "unrecognised content (not WAV, FLAC or MP3)".into(),
        ))
    }
}

/// File extensions searched for when an input is a directory.
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "wave", "flac", "mp3"];

/// True when the path's extension is one hearken reads.
pub fn has_audio_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// An in-memory source: planar samples handed over by the caller (tests,
/// benchmarks, and the replay of the live path).
pub struct MemorySource {
    info: SourceInfo,
    channels: Vec<Vec<f32>>,
    pos: usize,
}

impl MemorySource {
    /// A source over `channels` (all the same length) at `sample_rate`.
    pub fn new(channels: Vec<Vec<f32>>, sample_rate: u32) -> MemorySource {
        let frames = channels.first().map_or(0, Vec::len);
        MemorySource {
            info: SourceInfo {
                format: Format::Raw,
                sample_rate,
                channels: channels.len(),
                frames: Some(frames as u64),
            },
            channels,
            pos: 0,
        }
    }
}

impl AudioSource for MemorySource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, out: &mut [Vec<f32>], max_frames: usize) -> Result<usize, AudioError> {
        let total = self.channels.first().map_or(0, Vec::len);
        let n = max_frames.min(total - self.pos);
        for (dst, src) in out.iter_mut().zip(&self.channels) {
            dst.extend_from_slice(&src[self.pos..self.pos + n]);
        }
        self.pos += n;
        Ok(n)
    }

    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_names_the_cause() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE").ok(), Some(Container::Wav));
        assert_eq!(sniff(b"fLaC\0\0\0\x22").ok(), Some(Container::Flac));
        assert_eq!(sniff(b"ID3\x04").ok(), Some(Container::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x00]).ok(), Some(Container::Mp3));
        let text = sniff(b"hello world\n").unwrap_err().to_string();
        assert!(text.contains("looks like text"), "{text}");
        let riff = sniff(b"RIFF").unwrap_err().to_string();
        assert!(riff.contains("truncated header"), "{riff}");
        let avi = sniff(b"RIFF\0\0\0\0AVI ").unwrap_err().to_string();
        assert!(avi.contains("not WAVE"), "{avi}");
        assert!(matches!(
            sniff(b"OggS\0\x02"),
            Err(AudioError::UnsupportedCodec(_))
        ));
    }

    #[test]
    fn memory_source_reads_in_blocks() {
        let mut src = MemorySource::new(vec![vec![0.5; 10], vec![-0.5; 10]], 16_000);
        let mut out = vec![Vec::new(), Vec::new()];
        assert_eq!(src.read(&mut out, 4).ok(), Some(4));
        assert_eq!(src.read(&mut out, 100).ok(), Some(6));
        assert_eq!(src.read(&mut out, 100).ok(), Some(0));
        assert_eq!(out[1].len(), 10);
    }

    #[test]
    fn extensions() {
        assert!(has_audio_extension(Path::new("a/b.WAV")));
        assert!(has_audio_extension(Path::new("x.flac")));
        assert!(!has_audio_extension(Path::new("x.json")));
    }
}
