//! `--record FILE.wav`: the call's audio, kept as it is analysed.
//!
//! A pipeline tap: it receives the 16 kHz audio of every analysed speaker
//! on its own thread — never the sound card's callback — and writes a
//! 16-bit PCM WAV, one channel per speaker in channel order (agent left,
//! customer right). The header is brought up to date every second, so a
//! crash or a power cut leaves a valid file holding everything up to that
//! second: what was captured is kept. For the same reason the file is
//! written in place rather than renamed at the end; an existing file is
//! never overwritten.
//!
//! A recording that fails (a full disk) stops recording with a warning in
//! the report; it does not stop the meter or the analysis.

use crate::pipeline::Tap;
use crate::time::{RATE, Time};
use crate::vad::Segment;
use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

type Writer = hound::WavWriter<BufWriter<std::fs::File>>;

/// What became of a recording: `Ok(seconds written)` or the error that
/// stopped it (with what had been written kept).
pub type RecordOutcome = Arc<Mutex<Option<Result<f64, String>>>>;

/// The recorder tap.
pub struct RecordTap {
    path: PathBuf,
    writer: Option<Writer>,
    pending: Vec<VecDeque<f32>>,
    written: u64,
    since_flush: u64,
    error: Option<String>,
    outcome: RecordOutcome,
}

impl RecordTap {
    /// Creates `path` (which must not exist) for `speakers` channels.
    pub fn create(
        path: &Path,
        speakers: usize,
        outcome: RecordOutcome,
    ) -> Result<RecordTap, String> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => format!(
                    "refusing to overwrite {} (choose another --record file)",
                    path.display()
                ),
                _ => format!("cannot record to {}: {e}", path.display()),
            })?;
        let spec = hound::WavSpec {
            channels: speakers.max(1) as u16,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::new(BufWriter::with_capacity(1 << 16, file), spec)
            .map_err(|e| format!("cannot record to {}: {e}", path.display()))?;
        Ok(RecordTap {
            path: path.to_path_buf(),
            writer: Some(writer),
            pending: vec![VecDeque::new(); speakers.max(1)],
            written: 0,
            since_flush: 0,
            error: None,
            outcome,
        })
    }

    /// Writes the frames every channel has, padding with silence at the end.
    fn drain(&mut self, to_end: bool) {
        let n = if to_end {
            self.pending.iter().map(VecDeque::len).max().unwrap_or(0)
        } else {
            self.pending.iter().map(VecDeque::len).min().unwrap_or(0)
        };
        let Some(w) = self.writer.as_mut() else {
            self.pending.iter_mut().for_each(VecDeque::clear);
            return;
        };
        let mut result = Ok(());
        'frames: for _ in 0..n {
            for ch in &mut self.pending {
                let v = ch.pop_front().unwrap_or(0.0);
                let s = (v.clamp(-1.0, 1.0) * 32767.0).round() as i16;
                if let Err(e) = w.write_sample(s) {
                    result = Err(e);
                    break 'frames;
                }
            }
        }
        self.written += n as u64;
        self.since_flush += n as u64;
        if result.is_ok() && self.since_flush >= u64::from(RATE) {
            self.since_flush = 0;
            result = w.flush();
        }
        if let Err(e) = result {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: hound::Error) {
        self.error = Some(format!(
            "recording to {} stopped: {e} (the audio up to then is kept)",
            self.path.display()
        ));
        // Keep what is on disk valid as far as it goes.
        if let Some(w) = self.writer.take() {
            let _ = w.finalize();
        }
    }
}

impl Tap for RecordTap {
    fn audio(&mut self, channel: usize, _start: Time, samples: &[f32]) -> Result<(), String> {
        if let Some(p) = self.pending.get_mut(channel) {
            p.extend(samples);
        }
        self.drain(false);
        Ok(())
    }

    fn segment(&mut self, _segment: &Segment) -> Result<(), String> {
        Ok(())
    }

    fn finish(&mut self, _duration: Time) -> Result<(), String> {
        self.drain(true);
        if let Some(w) = self.writer.take()
            && let Err(e) = w.finalize()
        {
            self.fail(e);
        }
        let result = match self.error.take() {
            Some(e) => Err(e),
            None => Ok(self.written as f64 / f64::from(RATE)),
        };
        if let Ok(mut o) = self.outcome.lock() {
            *o = Some(result);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_every_speaker_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.wav");
        let outcome: RecordOutcome = Arc::default();
        let mut tap = RecordTap::create(&path, 2, outcome.clone()).unwrap();
        tap.audio(0, Time::ZERO, &[0.5; 100]).unwrap();
        tap.audio(1, Time::ZERO, &[-0.5; 60]).unwrap();
        tap.audio(1, Time(60), &[-0.5; 50]).unwrap();
        tap.finish(Time(110)).unwrap();
        let got = outcome.lock().unwrap().clone().unwrap().unwrap();
        assert!((got - 110.0 / 16000.0).abs() < 1e-9);
        let mut r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.spec().channels, 2);
        assert_eq!(r.spec().sample_rate, 16_000);
        let s: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(s.len(), 220);
        assert_eq!((s[0], s[1]), (16384, -16384));
        assert_eq!((s[200], s[201]), (0, -16384));
        let e = RecordTap::create(&path, 2, Arc::default()).err().unwrap();
        assert!(e.contains("refusing to overwrite"), "{e}");
    }
}
