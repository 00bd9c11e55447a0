//! The diarization stage of a mono call's pipeline.
//!
//! Audio arrives from the resampler, speech segments from the detector, on
//! different threads and in no fixed order relative to each other. The tap
//! computes the band bytes of every frame as its audio arrives and keeps a
//! frame if a segment covers its centre; a frame no segment covers is held
//! only until the detector's watermark passes it (then no segment can cover
//! it any more). When the call ends it runs [`super::diarize`] and turns the
//! frame labels back into speech per speaker, cut exactly at the
//! detector's segment edges.

use super::frontend::{MelBytes, MelFrontEnd};
use super::{DiarizeConfig, Labels, SpeechFrames, diarize, frame_pitch_code};
use crate::dsp::features::FrameFeatures;
use crate::pipeline::Tap;
use crate::time::{HOP, Time};
use crate::timeline::{Span, Timeline};
use crate::vad::Segment;
use std::collections::VecDeque;
use std::sync::Mutex;

/// The result of diarizing a call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diarized {
    /// Speech of each speaker, speakers in order of appearance.
    pub speech: Vec<Timeline>,
    /// The smallest gap between two speakers' median pitches, octaves
    /// ([`Labels::pitch_gap`]).
    pub pitch_gap: Option<f32>,
}

impl Diarized {
    /// Where two or more speakers speak at once.
    pub fn overlap(&self) -> Timeline {
        let mut out = Timeline::new();
        for (i, a) in self.speech.iter().enumerate() {
            for b in &self.speech[i + 1..] {
                out = out.union(&a.intersection(b));
            }
        }
        out
    }
}

/// The pipeline tap that diarizes a mono call.
pub struct DiarizeTap<'a> {
    front: MelFrontEnd,
    frames: SpeechFrames,
    /// Frames no delivered segment covers yet, newer than the watermark.
    pending: VecDeque<(i64, MelBytes)>,
    /// Delivered segments whose frames may still arrive.
    open: VecDeque<Span>,
    /// Every segment, for the final timelines.
    segments: Vec<Span>,
    watermark: Time,
    /// Pitch code of every frame of the call, by frame index (one byte a
    /// frame: 360 kB an hour).
    pitch: Vec<u8>,
    cfg: DiarizeConfig,
    out: &'a Mutex<Option<Result<Diarized, String>>>,
}

/// The centre of frame `i`'s cell.
fn centre(i: i64) -> Time {
    Time(i * HOP + HOP / 2)
}

impl<'a> DiarizeTap<'a> {
    /// A tap for a mono call whose content reaches `top_hz` (see
    /// [`super::frontend::band_top_hz`]); the result is put into `out`.
    pub fn new(
        cfg: &DiarizeConfig,
        top_hz: f32,
        out: &'a Mutex<Option<Result<Diarized, String>>>,
    ) -> Result<DiarizeTap<'a>, super::DiarizeError> {
        cfg.validate()?;
        Ok(DiarizeTap {
            front: MelFrontEnd::new(top_hz),
            frames: SpeechFrames::new(),
            pending: VecDeque::new(),
            open: VecDeque::new(),
            segments: Vec::new(),
            watermark: Time::ZERO,
            pitch: Vec::new(),
            cfg: cfg.clone(),
            out,
        })
    }

    fn frame(&mut self, i: i64, mel: &MelBytes) {
        let c = centre(i);
        while self.open.front().is_some_and(|s| s.end <= c) {
            self.open.pop_front();
        }
        match self.open.front() {
            Some(s) if s.contains(c) => self.frames.push(i, mel),
            _ if c < self.watermark => {}
            _ => self.pending.push_back((i, *mel)),
        }
    }

    /// Speech per speaker from the frame labels, cut at segment edges.
    fn timelines(&self, labels: &Labels) -> Vec<Timeline> {
        let k = labels.speakers.max(1);
        let mut out = vec![Timeline::new(); k];
        let mut row = 0;
        let n = self.frames.len();
        let mut last_bits = 1u8;
        for seg in &self.segments {
            while row < n && centre(self.frames.frame(row)) < seg.start {
                row += 1;
            }
            let first = row;
            while row < n && seg.contains(centre(self.frames.frame(row))) {
                row += 1;
            }
            if first == row {
                // A segment too short to hold a frame centre: it goes to
                // whoever spoke last.
                for (s, tl) in out.iter_mut().enumerate() {
                    if last_bits & (1 << s) != 0 {
                        tl.push(*seg);
                    }
                }
                continue;
            }
            for r in first..row {
                let i = self.frames.frame(r);
                let start = if r == first {
                    seg.start
                } else {
                    Time::from_frames(i)
                };
                let end = if r + 1 == row {
                    seg.end
                } else {
                    Time::from_frames(i + 1)
                };
                let bits = labels.bits.get(r).copied().unwrap_or(1);
                last_bits = bits;
                for (s, tl) in out.iter_mut().enumerate() {
                    if bits & (1 << s) != 0 {
                        tl.push(Span::new(start, end));
                    }
                }
            }
        }
        out
    }
}

impl Tap for DiarizeTap<'_> {
    fn audio(&mut self, channel: usize, _start: Time, samples: &[f32]) -> Result<(), String> {
        if channel != 0 {
            return Ok(());
        }
        let mut got: Vec<(i64, MelBytes)> = Vec::new();
        self.front.push(samples, |i, m| got.push((i, *m)));
        for (i, m) in got {
            self.frame(i, &m);
        }
        Ok(())
    }

    fn segment(&mut self, segment: &Segment) -> Result<(), String> {
        if segment.channel != 0 {
            return Ok(());
        }
        let s = segment.span;
        self.segments.push(s);
        // Held frames: those before this segment are not speech (segments
        // arrive in order), those inside are.
        while let Some(&(i, m)) = self.pending.front() {
            let c = centre(i);
            if c >= s.end {
                break;
            }
            self.pending.pop_front();
            if c >= s.start {
                self.frames.push(i, &m);
            }
        }
        self.open.push_back(s);
        Ok(())
    }

    fn frames(&mut self, rows: &[FrameFeatures], _scores: &[f32]) -> Result<(), String> {
        // A mono call's rows are its one channel's frames.
        for f in rows {
            let Ok(i) = usize::try_from(f.index) else {
                continue;
            };
            if i >= self.pitch.len() {
                self.pitch.resize(i + 1, 0);
            }
            self.pitch[i] = frame_pitch_code(f);
        }
        Ok(())
    }

    fn watermark(&mut self, channel: usize, t: Time) -> Result<(), String> {
        if channel == 0 {
            self.watermark = self.watermark.max(t);
            while self
                .pending
                .front()
                .is_some_and(|&(i, _)| centre(i) < self.watermark)
            {
                self.pending.pop_front();
            }
        }
        Ok(())
    }

    fn finish(&mut self, _duration: Time) -> Result<(), String> {
        let mut got: Vec<(i64, MelBytes)> = Vec::new();
        self.front.finish(|i, m| got.push((i, *m)));
        for (i, m) in got {
            self.frame(i, &m);
        }
        // Segments may have arrived before the last audio: claim held frames.
        let pending = std::mem::take(&mut self.pending);
        for (i, m) in pending {
            let c = centre(i);
            if self.segments.iter().rev().any(|s| s.contains(c)) {
                self.frames.push(i, &m);
            }
        }
        let pitch = &self.pitch;
        self.frames.set_pitch(|i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| pitch.get(i))
                .copied()
                .unwrap_or(0)
        });
        let labels = diarize(&self.frames, &self.cfg);
        let result = Diarized {
            speech: self.timelines(&labels),
            pitch_gap: labels.pitch_gap,
        };
        if let Ok(mut slot) = self.out.lock() {
            *slot = Some(Ok(result));
        }
        Ok(())
    }
}
