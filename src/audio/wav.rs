//! WAV: a header check of our own, then a direct decoder for 16-bit PCM and
//! G.711 μ-law and A-law, and `hound` for the other PCM and float layouts.
//!
//! Why 16-bit PCM does not go through `hound`: its sample iterator costs
//! about 100 instructions per sample, more than the whole frame analysis of
//! that sample (callgrind, `hearken analyze` on a 16 kHz stereo call: 278 M
//! of 494 M instructions). Most call recordings are 16-bit PCM, and the
//! header has already been parsed and checked here, so the samples are read
//! as bytes in blocks and converted in one pass.
//!
//! The header is parsed here before any reader sees it so that every failure
//! has a precise one-line cause ("the header declares 0 channels", "truncated
//! header: 20 bytes") instead of a generic "ill-formed WAVE file", and so that
//! a data chunk that claims more bytes than the file holds — common when a
//! recorder crashed or a transfer was cut — is detected up front: such a file
//! is read to its real end, with a warning.

use super::{AudioError, AudioSource, Format, SourceInfo, check_info};
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;

const TAG_PCM: u16 = 0x0001;
const TAG_FLOAT: u16 = 0x0003;
const TAG_ALAW: u16 = 0x0006;
const TAG_MULAW: u16 = 0x0007;
const TAG_EXTENSIBLE: u16 = 0xFFFE;

/// What the RIFF header of a WAV file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WavHeader {
    /// Format tag (after resolving WAVE_FORMAT_EXTENSIBLE to its sub-format).
    pub format_tag: u16,
    /// Interleaved channels.
    pub channels: u16,
    /// Frames per second.
    pub sample_rate: u32,
    /// Bytes per frame (all channels).
    pub block_align: u16,
    /// Bits per sample as declared.
    pub bits_per_sample: u16,
    /// Byte offset of the first sample.
    pub data_offset: u64,
    /// Length of the data chunk as declared.
    pub declared_data_len: u64,
    /// Length of the data actually present in the file (whole frames).
    pub data_len: u64,
}

impl WavHeader {
    /// Frames actually present.
    pub fn frames(&self) -> u64 {
        if self.block_align == 0 {
            0
        } else {
            self.data_len / u64::from(self.block_align)
        }
    }

    /// A warning when the header promised more than the file holds.
    pub fn truncation_warning(&self) -> Option<String> {
        // A declared length of 0 or 0xFFFFFFFF is how streaming writers say
        // "unknown": not a truncation.
        let unknown = self.declared_data_len == 0 || self.declared_data_len == u64::from(u32::MAX);
        (!unknown && self.data_len < self.declared_data_len).then(|| {
            let rate = f64::from(self.sample_rate) * f64::from(self.block_align.max(1));
            format!(
                "the header claims {:.2} s of audio but the file holds {:.2} s; read to its real end",
                self.declared_data_len as f64 / rate,
                self.data_len as f64 / rate
            )
        })
    }
}

fn le_u16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Reads and checks the header of the WAV file at `path`.
pub fn read_header(path: &Path) -> Result<WavHeader, AudioError> {
    let mut f = File::open(path)?;
    let file_len = f.metadata()?.len();
    let mut riff = [0u8; 12];
    let got = super::read_up_to(&mut f, &mut riff)?;
    if got < 12 {
        return Err(AudioError::TruncatedHeader(format!(
            "{file_len} bytes, a WAV header needs at least 44"
        )));
    }
    let mut fmt: Option<Vec<u8>> = None;
    let mut pos = 12u64;
    loop {
        let mut ch = [0u8; 8];
        let got = super::read_up_to(&mut f, &mut ch)?;
        if got < 8 {
            return Err(match fmt {
                None => AudioError::TruncatedHeader(format!(
                    "{file_len} bytes, the file ends before its format chunk"
                )),
                Some(_) => AudioError::TruncatedHeader(format!(
                    "{file_len} bytes, the file ends before its data chunk"
                )),
            });
        }
        let id = [ch[0], ch[1], ch[2], ch[3]];
        let len = u64::from(le_u32(&ch[4..8]));
        pos += 8;
        match &id {
            b"fmt " => {
                if len < 16 {
                    return Err(AudioError::Malformed(format!(
                        "format chunk of {len} bytes (at least 16 expected)"
                    )));
                }
                let mut body = vec![0u8; len.min(64) as usize];
                let got = super::read_up_to(&mut f, &mut body)?;
                if got < 16 {
                    return Err(AudioError::TruncatedHeader(format!(
                        "{file_len} bytes, the file ends inside its format chunk"
                    )));
                }
                body.truncate(got);
                fmt = Some(body);
            }
            b"data" => {
                let Some(fmt) = fmt else {
                    return Err(AudioError::Malformed(
                        "data chunk before the format chunk".into(),
                    ));
                };
                return parse_fmt(&fmt, pos, len, file_len);
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos += len + (len & 1);
        if pos > file_len {
            return Err(AudioError::TruncatedHeader(format!(
                "{file_len} bytes, the file ends before its data chunk"
            )));
        }
        f.seek(SeekFrom::Start(pos))?;
    }
}

fn parse_fmt(
    fmt: &[u8],
    data_offset: u64,
    declared: u64,
    file_len: u64,
) -> Result<WavHeader, AudioError> {
    let mut format_tag = le_u16(&fmt[0..2]);
    let channels = le_u16(&fmt[2..4]);
    let sample_rate = le_u32(&fmt[4..8]);
    let block_align = le_u16(&fmt[12..14]);
    let bits_per_sample = le_u16(&fmt[14..16]);
    if format_tag == TAG_EXTENSIBLE {
        // WAVEFORMATEXTENSIBLE: the real format is the first two bytes of
        // the sub-format GUID, at offset 24 of the chunk.
        if fmt.len() < 26 {
            return Err(AudioError::Malformed(
                "extensible format chunk too short".into(),
            ));
        }
        format_tag = le_u16(&fmt[24..26]);
    }
    if channels == 0 {
        return Err(AudioError::ZeroChannels);
    }
    if !(super::MIN_RATE..=super::MAX_RATE).contains(&sample_rate) {
        return Err(AudioError::SampleRate(sample_rate));
    }
    let available = file_len.saturating_sub(data_offset);
    let mut data_len = declared.min(available);
    if declared == 0 || declared == u64::from(u32::MAX) {
        data_len = available;
    }
    if block_align == 0 {
        return Err(AudioError::Malformed("block alignment of 0 bytes".into()));
    }
    data_len -= data_len % u64::from(block_align);
    Ok(WavHeader {
        format_tag,
        channels,
        sample_rate,
        block_align,
        bits_per_sample,
        data_offset,
        declared_data_len: declared,
        data_len,
    })
}

/// Opens a WAV file with the reader its codec needs.
pub fn open(path: &Path) -> Result<Box<dyn AudioSource>, AudioError> {
    let header = read_header(path)?;
    let source: Box<dyn AudioSource> = match header.format_tag {
        TAG_PCM if header.bits_per_sample == 16 && header.block_align == 2 * header.channels => {
            Box::new(RawSource::open(path, header)?)
        }
        TAG_PCM | TAG_FLOAT => Box::new(HoundSource::open(path, header)?),
        TAG_MULAW | TAG_ALAW => Box::new(RawSource::open(path, header)?),
        tag => {
            return Err(AudioError::UnsupportedCodec(format!(
                "WAV format tag 0x{tag:04X} ({}); hearken reads PCM, IEEE float, μ-law and A-law",
                tag_name(tag)
            )));
        }
    };
    check_info(source.info())?;
    Ok(source)
}

fn tag_name(tag: u16) -> &'static str {
    match tag {
        0x0002 => "Microsoft ADPCM",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0040 => "G.721 ADPCM",
        0x0050 => "MPEG",
        0x0055 => "MPEG Layer III",
        0x0064 => "G.726 ADPCM",
        _ => "unknown",
    }
}

/// PCM and float WAV through `hound`.
struct HoundSource {
    info: SourceInfo,
    reader: hound::WavReader<BufReader<File>>,
    header: WavHeader,
    sample_format: hound::SampleFormat,
    bits: u16,
    /// Samples (not frames) left to read, counting only what the file holds.
    remaining: u64,
    interleaved: Vec<f32>,
    warnings: Vec<String>,
}

impl HoundSource {
    fn open(path: &Path, header: WavHeader) -> Result<HoundSource, AudioError> {
        let reader = hound::WavReader::new(BufReader::with_capacity(1 << 16, File::open(path)?))
            .map_err(|e| map_hound(e, &header))?;
        let spec = reader.spec();
        let format = match spec.sample_format {
            hound::SampleFormat::Int => Format::WavPcm(spec.bits_per_sample),
            hound::SampleFormat::Float => Format::WavFloat(spec.bits_per_sample),
        };
        if spec.sample_format == hound::SampleFormat::Float && spec.bits_per_sample != 32 {
            return Err(AudioError::UnsupportedCodec(format!(
                "{}-bit float WAV (hearken reads 32-bit float)",
                spec.bits_per_sample
            )));
        }
        let warnings = header.truncation_warning().into_iter().collect();
        Ok(HoundSource {
            info: SourceInfo {
                format,
                sample_rate: spec.sample_rate,
                channels: usize::from(spec.channels),
                frames: Some(header.frames()),
            },
            remaining: header.frames() * u64::from(spec.channels),
            sample_format: spec.sample_format,
            bits: spec.bits_per_sample,
            header,
            reader,
            interleaved: Vec::new(),
            warnings,
        })
    }
}

fn map_hound(e: hound::Error, header: &WavHeader) -> AudioError {
    match e {
        hound::Error::IoError(io) => AudioError::Io(io),
        hound::Error::Unsupported => AudioError::UnsupportedCodec(format!(
            "{}-bit samples with format tag 0x{:04X}",
            header.bits_per_sample, header.format_tag
        )),
        other => AudioError::Malformed(other.to_string()),
    }
}

impl AudioSource for HoundSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, out: &mut [Vec<f32>], max_frames: usize) -> Result<usize, AudioError> {
        let nch = self.info.channels;
        let want = (max_frames as u64 * nch as u64).min(self.remaining) as usize;
        self.interleaved.clear();
        let header = &self.header;
        match self.sample_format {
            hound::SampleFormat::Float => {
                for s in self.reader.samples::<f32>().take(want) {
                    self.interleaved.push(s.map_err(|e| map_hound(e, header))?);
                }
            }
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (self.bits - 1)) as f32;
                for s in self.reader.samples::<i32>().take(want) {
                    self.interleaved
                        .push(s.map_err(|e| map_hound(e, header))? as f32 * scale);
                }
            }
        }
        self.remaining -= self.interleaved.len() as u64;
        let frames = self.interleaved.len() / nch;
        for (c, dst) in out.iter_mut().enumerate().take(nch) {
            dst.extend(self.interleaved.iter().skip(c).step_by(nch).take(frames));
        }
        Ok(frames)
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

/// How the bytes of a [`RawSource`] become samples.
enum RawCodec {
    /// One byte per sample through a 256-entry table (G.711).
    Table(Box<[f32; 256]>),
    /// Two bytes per sample, signed little-endian PCM.
    Pcm16,
}

impl RawCodec {
    fn bytes_per_sample(&self) -> usize {
        match self {
            RawCodec::Table(_) => 1,
            RawCodec::Pcm16 => 2,
        }
    }
}

/// 16-bit PCM and G.711 μ-law / A-law WAV, read as bytes in blocks from the
/// data offset our own header parser found.
struct RawSource {
    info: SourceInfo,
    reader: BufReader<File>,
    codec: RawCodec,
    /// Bytes of whole frames left to read.
    remaining: u64,
    bytes: Vec<u8>,
    samples: Vec<f32>,
    warnings: Vec<String>,
}

impl RawSource {
    fn open(path: &Path, header: WavHeader) -> Result<RawSource, AudioError> {
        let (codec, format) = match header.format_tag {
            TAG_MULAW | TAG_ALAW => {
                let mulaw = header.format_tag == TAG_MULAW;
                if header.bits_per_sample != 8 || header.block_align != header.channels {
                    return Err(AudioError::Malformed(format!(
                        "G.711 with {} bits per sample and {}-byte frames for {} channels",
                        header.bits_per_sample, header.block_align, header.channels
                    )));
                }
                let mut table = Box::new([0f32; 256]);
                for (i, v) in table.iter_mut().enumerate() {
                    let lin = if mulaw {
                        mulaw_to_linear(i as u8)
                    } else {
                        alaw_to_linear(i as u8)
                    };
                    *v = f32::from(lin) / 32768.0;
                }
                let format = if mulaw {
                    Format::WavMulaw
                } else {
                    Format::WavAlaw
                };
                (RawCodec::Table(table), format)
            }
            TAG_PCM
                if header.bits_per_sample == 16 && header.block_align == 2 * header.channels =>
            {
                (RawCodec::Pcm16, Format::WavPcm(16))
            }
            tag => {
                return Err(AudioError::UnsupportedCodec(format!(
                    "format tag 0x{tag:04X} with {}-bit samples read as raw bytes",
                    header.bits_per_sample
                )));
            }
        };
        let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
        reader.seek(SeekFrom::Start(header.data_offset))?;
        Ok(RawSource {
            info: SourceInfo {
                format,
                sample_rate: header.sample_rate,
                channels: usize::from(header.channels),
                frames: Some(header.frames()),
            },
            reader,
            codec,
            remaining: header.data_len,
            bytes: Vec::new(),
            samples: Vec::new(),
            warnings: header.truncation_warning().into_iter().collect(),
        })
    }
}

impl AudioSource for RawSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, out: &mut [Vec<f32>], max_frames: usize) -> Result<usize, AudioError> {
        let nch = self.info.channels;
        let frame_bytes = nch * self.codec.bytes_per_sample();
        let want = (max_frames as u64 * frame_bytes as u64).min(self.remaining) as usize;
        self.bytes.resize(want, 0);
        let got = super::read_up_to(&mut self.reader, &mut self.bytes)?;
        let frames = got / frame_bytes;
        self.remaining -= (frames * frame_bytes) as u64;
        if got < want {
            // The file shrank since the header was read; stop here.
            self.remaining = 0;
        }
        let bytes = &self.bytes[..frames * frame_bytes];
        self.samples.clear();
        match &self.codec {
            RawCodec::Table(table) => self
                .samples
                .extend(bytes.iter().map(|&b| table[usize::from(b)])),
            RawCodec::Pcm16 => self.samples.extend(
                bytes
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) * (1.0 / 32768.0)),
            ),
        }
        if nch == 1 {
            out[0].extend_from_slice(&self.samples);
        } else {
            for (c, dst) in out.iter_mut().enumerate().take(nch) {
                dst.extend(self.samples.iter().skip(c).step_by(nch));
            }
        }
        Ok(frames)
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

/// ITU-T G.711 μ-law expansion (the classic `ulaw2linear`).
pub fn mulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let t = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    let v = if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 };
    v as i16
}

/// ITU-T G.711 A-law expansion (the classic `alaw2linear`).
pub fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let mut t = i32::from(a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// Bytes of a canonical 44-byte WAV header, for tests and fixture writers.
pub fn canonical_header(
    format_tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    data_len: u32,
) -> Vec<u8> {
    let block_align = channels * bits.div_ceil(8);
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_len).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&format_tag.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

/// Reads a whole WAV-or-other file into planar channels (tests and tools).
pub fn read_all(path: &Path) -> Result<(SourceInfo, Vec<Vec<f32>>), AudioError> {
    let mut src = super::open(path)?;
    let info = src.info().clone();
    let mut out = vec![Vec::new(); info.channels];
    while src.read(&mut out, 1 << 15)? > 0 {}
    Ok((info, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        let mut f = File::create(&p).unwrap();
        f.write_all(bytes).unwrap();
        p
    }

    #[test]
    fn g711_tables_match_reference_points() {
        // Reference values from the ITU-T G.711 tables.
        assert_eq!(mulaw_to_linear(0xFF), 0);
        assert_eq!(mulaw_to_linear(0x7F), 0);
        assert_eq!(mulaw_to_linear(0x00), -32124);
        assert_eq!(mulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }

    #[test]
    fn pcm16_stereo_deinterleaves() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = canonical_header(1, 2, 8000, 16, 8);
        for s in [1000i16, -1000, 2000, -2000] {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        let p = write(&dir, "a.wav", &bytes);
        let (info, ch) = read_all(&p).unwrap();
        assert_eq!(info.format, Format::WavPcm(16));
        assert_eq!(ch.len(), 2);
        assert!((ch[0][1] - 2000.0 / 32768.0).abs() < 1e-7);
        assert!((ch[1][0] + 1000.0 / 32768.0).abs() < 1e-7);
    }

    #[test]
    fn pcm16_reads_exactly_what_hound_reads() {
        // The direct 16-bit path must give hound's samples bit for bit,
        // extremes included, for any channel count and block size.
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<i16> = (0..3001)
            .map(|i: i32| match i % 7 {
                0 => i16::MIN,
                1 => i16::MAX,
                _ => ((i * 7919) % 65536 - 32768) as i16,
            })
            .collect();
        for channels in [1u16, 2, 3] {
            let frames = values.len() / usize::from(channels);
            let n = frames * usize::from(channels);
            let mut bytes = canonical_header(1, channels, 8000, 16, (n * 2) as u32);
            for s in &values[..n] {
                bytes.extend_from_slice(&s.to_le_bytes());
            }
            let p = write(&dir, &format!("c{channels}.wav"), &bytes);
            let mut src = open(&p).unwrap();
            let mut ours = vec![Vec::new(); usize::from(channels)];
            while src.read(&mut ours, 333).unwrap() > 0 {}
            let mut hound = hound::WavReader::open(&p).unwrap();
            let theirs: Vec<f32> = hound
                .samples::<i32>()
                .map(|s| s.unwrap() as f32 * (1.0 / 32768.0))
                .collect();
            for (i, want) in theirs.iter().enumerate() {
                let got = ours[i % usize::from(channels)][i / usize::from(channels)];
                assert_eq!(got.to_bits(), want.to_bits(), "sample {i}, {channels} ch");
            }
        }
    }

    #[test]
    fn truncated_data_reads_to_the_real_end_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = canonical_header(1, 1, 8000, 16, 16000);
        bytes.extend(std::iter::repeat_n(0u8, 1001)); // 500.5 samples
        let p = write(&dir, "t.wav", &bytes);
        let mut src = super::super::open(&p).unwrap();
        let mut out = vec![Vec::new()];
        while src.read(&mut out, 128).unwrap() > 0 {}
        assert_eq!(out[0].len(), 500);
        let w = src.warnings();
        assert!(
            w[0].contains("claims 1.00 s") && w[0].contains("0.06 s"),
            "{w:?}"
        );
    }

    #[test]
    fn mulaw_and_alaw_decode() {
        let dir = tempfile::tempdir().unwrap();
        for (tag, fmt) in [(7u16, Format::WavMulaw), (6, Format::WavAlaw)] {
            let mut bytes = canonical_header(tag, 2, 8000, 8, 4);
            bytes.extend_from_slice(&[0x80, 0x00, 0xFF, 0x7F]);
            let p = write(&dir, "g.wav", &bytes);
            let (info, ch) = read_all(&p).unwrap();
            assert_eq!(info.format, fmt);
            assert_eq!(ch[0].len(), 2);
        }
    }

    #[test]
    fn header_failures_name_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "short.wav",
                b"RIFF\x10\0\0\0WAVEfm".to_vec(),
                "truncated header",
            ),
            (
                "zero.wav",
                canonical_header(1, 0, 8000, 16, 0),
                "0 channels",
            ),
            (
                "rate0.wav",
                canonical_header(1, 1, 0, 16, 0),
                "sample rate 0 Hz",
            ),
            (
                "rate10m.wav",
                canonical_header(1, 1, 10_000_000, 16, 0),
                "10000000 Hz",
            ),
            ("adpcm.wav", canonical_header(2, 1, 8000, 4, 0), "0x0002"),
        ];
        for (name, bytes, want) in cases {
            let p = write(&dir, name, &bytes);
            let err = super::super::open(&p)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
