//! The acoustic annotation stage of a call's pipeline.
//!
//! For every speaker it runs the YIN pitch tracker on the frames the voice
//! detector's features call periodic (YIN costs microseconds a frame; most
//! frames of a call are silence, noise or the other speaker), keeps a small
//! record per frame (pitch, level, syllable envelope) only until the
//! detector has finished the segments that could contain it, and condenses
//! each finished speech segment into a [`SegmentStats`]: its voiced pitch
//! values, its energy, its syllable nuclei. Memory is a few bytes per voiced
//! frame of speech, not per frame of the call, and audio only until its
//! frames are analysed (a block or two).
//!
//! The tap runs inline, on the detector's thread ([`Tap::inline`]): each
//! audio block arrives just before its frames' features, and the last
//! frames of a block wait for the next one (YIN reads past a frame). The tap
//! keeps the pipeline's shared blocks (no copy) until the features of the
//! frames they hold have arrived; then it hands YIN each candidate frame's own input, a slice of a
//! block, and skips every other frame without touching its samples. (A
//! streaming tracker would copy every sample of the call twice, into a
//! queue and into its window, for the one frame in nine that is analysed.)

use super::pace::{SyllableConfig, acoustic_pace};
use super::pitch::PitchTracker;
use crate::dsp::features::{BAND_HI_HZ, BAND_LO_HZ, FLOOR_DB, FrameFeatures, N_BANDS, db};
use crate::pipeline::{SharedSamples, Tap};
use crate::time::Time;
use crate::timeline::Span;
use crate::vad::Segment;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Frames whose periodicity (from the detector's features) reaches this,
/// and that the detector scores as likely speech, get a YIN analysis.
const CANDIDATE_PERIODICITY: f32 = 0.5;
/// The detector's raw score a frame needs to be analysed.
const CANDIDATE_SCORE: f32 = 0.5;
/// Below this score a frame is not speech: its syllable envelope is not
/// computed (it only matters inside segments).
const ENVELOPE_SCORE: f32 = 0.05;

/// Pitch values are stored in 1/64 Hz.
const PITCH_SCALE: f32 = 64.0;
/// `10^(d/10) = e^(d·ln10/10)`: `exp` is cheaper than `powf`.
const DB_TO_LN: f32 = std::f32::consts::LN_10 / 10.0;

/// Acoustic facts of one speech segment of one speaker.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentStats {
    /// The segment.
    pub span: Span,
    /// Pitch of its voiced frames in 1/64 Hz (a `u16`: two bytes per voiced
    /// frame for the whole call; see [`SegmentStats::pitch_hz`]).
    pub pitch: Vec<u16>,
    /// Sum of the frames' mean-square levels (linear), for the energy mean.
    pub power_sum: f64,
    /// Frames in that sum.
    pub frames: u32,
    /// Syllable nuclei found in it.
    pub nuclei: u32,
    /// Its speaking time (pauses of 250 ms or more excluded).
    pub speaking_time: Time,
}

impl SegmentStats {
    /// The pitch of the voiced frames, Hz.
    pub fn pitch_hz(&self) -> impl Iterator<Item = f32> + '_ {
        self.pitch.iter().map(|&p| f32::from(p) / PITCH_SCALE)
    }
}

/// The acoustic facts of a call: segment statistics per speaker (in the
/// call's speaker order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AcousticTrack {
    /// `segments[c]`: speaker `c`'s segments in time order.
    pub segments: Vec<Vec<SegmentStats>>,
}

/// What is kept of one frame until its segment is known.
#[derive(Clone, Copy, Debug)]
struct Rec {
    index: i64,
    pitch: f32,
    level_db: f32,
    env_db: f32,
}

/// What the features say about a frame before its pitch is known.
#[derive(Clone, Copy, Debug)]
struct Pre {
    index: i64,
    candidate: bool,
    level_db: f32,
    env_db: f32,
}

struct Channel {
    tracker: PitchTracker,
    /// The audio blocks still needed, as the pipeline shared them (not
    /// copied), each with the stream sample it starts at.
    blocks: VecDeque<(i64, Arc<SharedSamples>)>,
    /// Samples received so far (the end of the last block).
    received: i64,
    /// A frame's input when it straddles two blocks or the stream's edges.
    scratch: Vec<f32>,
    pre: VecDeque<Pre>,
    recs: VecDeque<Rec>,
    pending: VecDeque<Span>,
    stats: Vec<SegmentStats>,
}

impl Channel {
    /// Turns every frame whose features are known and whose input has
    /// arrived (every one, `at_end`) into a record: YIN on the candidates,
    /// nothing on the rest. Then drops the blocks no later frame reads.
    fn record_frames(&mut self, at_end: bool) {
        let len = self.tracker.input_len();
        while let Some(&p) = self.pre.front() {
            let from = self.tracker.input_start(p.index);
            if !at_end && from + len as i64 > self.received {
                break;
            }
            self.pre.pop_front();
            let pitch = if p.candidate {
                let input = gather(&self.blocks, from, len, &mut self.scratch);
                self.tracker.analyse_at(p.index, input).hz.unwrap_or(0.0)
            } else {
                0.0
            };
            self.recs.push_back(Rec {
                index: p.index,
                pitch,
                level_db: p.level_db,
                env_db: p.env_db,
            });
        }
        let next = self
            .pre
            .front()
            .map_or_else(|| self.recs.back().map_or(0, |r| r.index + 1), |p| p.index);
        let keep_from = self.tracker.input_start(next);
        while self
            .blocks
            .front()
            .is_some_and(|(start, b)| start + b.len() as i64 <= keep_from)
        {
            self.blocks.pop_front();
        }
    }
}

/// The `len` stream samples from `from`: a slice of one block when they lie
/// in one (the usual case), else assembled in `scratch`, zeros where no
/// block has them (before the stream, after its end).
fn gather<'a>(
    blocks: &'a VecDeque<(i64, Arc<SharedSamples>)>,
    from: i64,
    len: usize,
    scratch: &'a mut Vec<f32>,
) -> &'a [f32] {
    let to = from + len as i64;
    for (start, b) in blocks {
        let end = start + b.len() as i64;
        if *start <= from && to <= end {
            let at = (from - start) as usize;
            return &b[at..at + len];
        }
        if *start >= to {
            break;
        }
    }
    scratch.clear();
    scratch.resize(len, 0.0);
    for (start, b) in blocks {
        let (lo, hi) = (from.max(*start), to.min(start + b.len() as i64));
        if lo < hi {
            let (src, dst) = ((lo - start) as usize, (lo - from) as usize);
            let n = (hi - lo) as usize;
            scratch[dst..dst + n].copy_from_slice(&b[src..src + n]);
        }
    }
    scratch
}

/// The pipeline tap that annotates a call's sound.
pub struct AnnotateTap<'a> {
    channels: Vec<Channel>,
    syllables: SyllableConfig,
    env_bands: [bool; N_BANDS],
    /// Pitch is measured on frames whose index is a multiple of this.
    stride: i64,
    out: &'a Mutex<Option<Result<AcousticTrack, String>>>,
}

impl<'a> AnnotateTap<'a> {
    /// A tap for `speakers` channels; the result is put into `out`.
    pub fn new(
        speakers: usize,
        config: &super::AnnotateConfig,
        out: &'a Mutex<Option<Result<AcousticTrack, String>>>,
    ) -> Result<AnnotateTap<'a>, super::AnnotateError> {
        config.validate()?;
        let (pitch, syllables) = (&config.pitch, &config.syllables);
        let mut channels = Vec::with_capacity(speakers);
        for _ in 0..speakers {
            let tracker = PitchTracker::new(pitch.clone())?;
            channels.push(Channel {
                tracker,
                blocks: VecDeque::new(),
                received: 0,
                scratch: Vec::new(),
                pre: VecDeque::new(),
                recs: VecDeque::new(),
                pending: VecDeque::new(),
                stats: Vec::new(),
            });
        }
        // The syllable envelope: energy of the bands centred in the
        // syllable band, as `pace::envelope_from_features` computes it.
        let mel = |f: f32| 2595.0 * (1.0 + f / 700.0).log10();
        let hz = |m: f32| 700.0 * (10f32.powf(m / 2595.0) - 1.0);
        let (lo, hi) = (mel(BAND_LO_HZ), mel(BAND_HI_HZ));
        let mut env_bands = [false; N_BANDS];
        for (b, u) in env_bands.iter_mut().enumerate() {
            let centre = hz(lo + (hi - lo) * (b as f32 + 0.5) / N_BANDS as f32);
            *u = centre >= syllables.band_lo_hz && centre <= syllables.band_hi_hz;
        }
        Ok(AnnotateTap {
            channels,
            syllables: syllables.clone(),
            env_bands,
            stride: i64::from(config.pitch_stride.max(1)),
            out,
        })
    }

    /// Records the frames whose features and audio are in, and condenses
    /// finished segments.
    fn advance(&mut self, c: usize) {
        self.channels[c].record_frames(false);
        self.condense(c, false);
    }

    /// Turns every pending segment whose frames are all recorded into
    /// statistics (all of them at the end of the call).
    fn condense(&mut self, c: usize, at_end: bool) {
        let syllables = &self.syllables;
        let ch = &mut self.channels[c];
        while let Some(&span) = ch.pending.front() {
            let (s, e) = (span.start.frame(), span.end.frames_ceil());
            let have = ch.recs.back().map_or(-1, |r| r.index);
            if have < e - 1 && !at_end {
                break;
            }
            ch.pending.pop_front();
            let recs: Vec<Rec> = ch
                .recs
                .iter()
                .filter(|r| r.index >= s && r.index < e)
                .copied()
                .collect();
            let pitch: Vec<u16> = recs
                .iter()
                .filter(|r| r.pitch > 0.0)
                .map(|r| (r.pitch * PITCH_SCALE).round().min(f32::from(u16::MAX)) as u16)
                .collect();
            let power_sum: f64 = recs
                .iter()
                .map(|r| 10f64.powf(f64::from(r.level_db) / 10.0))
                .sum();
            let env: Vec<f32> = recs.iter().map(|r| r.env_db).collect();
            let voiced: Vec<bool> = recs.iter().map(|r| r.pitch > 0.0).collect();
            let speech = vec![true; recs.len()];
            let pace = acoustic_pace(&env, &voiced, &speech, syllables);
            ch.stats.push(SegmentStats {
                span,
                pitch,
                power_sum,
                frames: recs.len() as u32,
                nuclei: pace.as_ref().map_or(0, |p| p.nuclei.len() as u32),
                speaking_time: pace.map_or(Time::ZERO, |p| p.speaking_time),
            });
        }
    }

    /// Drops records no segment still to come can contain.
    fn forget_before(&mut self, c: usize, frame: i64) {
        let ch = &mut self.channels[c];
        let keep = ch
            .pending
            .front()
            .map_or(frame, |s| s.start.frame().min(frame));
        while ch.recs.front().is_some_and(|r| r.index < keep) {
            ch.recs.pop_front();
        }
    }
}

impl Tap for AnnotateTap<'_> {
    fn audio(&mut self, channel: usize, start: Time, samples: &[f32]) -> Result<(), String> {
        let block = Arc::new(SharedSamples::new(samples.to_vec()));
        self.shared_audio(channel, start, &block)
    }

    fn shared_audio(
        &mut self,
        channel: usize,
        start: Time,
        samples: &Arc<SharedSamples>,
    ) -> Result<(), String> {
        let ch = &mut self.channels[channel];
        ch.received = start.0 + samples.len() as i64;
        ch.blocks.push_back((start.0, Arc::clone(samples)));
        self.advance(channel);
        Ok(())
    }

    fn segment(&mut self, segment: &Segment) -> Result<(), String> {
        self.channels[segment.channel]
            .pending
            .push_back(segment.span);
        self.condense(segment.channel, false);
        Ok(())
    }

    fn frames(&mut self, rows: &[FrameFeatures], scores: &[f32]) -> Result<(), String> {
        let n = self.channels.len();
        if n == 0 {
            return Ok(());
        }
        for (row, row_scores) in rows.chunks(n).zip(scores.chunks(n)) {
            for ((c, f), &score) in row.iter().enumerate().zip(row_scores) {
                let env_db = if score >= ENVELOPE_SCORE {
                    let e: f32 = f
                        .bands
                        .iter()
                        .zip(&self.env_bands)
                        .filter(|(_, u)| **u)
                        .map(|(&d, _)| {
                            if d > FLOOR_DB {
                                (d * DB_TO_LN).exp()
                            } else {
                                0.0
                            }
                        })
                        .sum();
                    db(e)
                } else {
                    FLOOR_DB
                };
                self.channels[c].pre.push_back(Pre {
                    index: f.index,
                    candidate: f.periodicity >= CANDIDATE_PERIODICITY
                        && score >= CANDIDATE_SCORE
                        && f.index % self.stride == 0,
                    level_db: f.level_db,
                    env_db,
                });
            }
        }
        for c in 0..n {
            self.advance(c);
        }
        Ok(())
    }

    fn watermark(&mut self, channel: usize, t: Time) -> Result<(), String> {
        self.forget_before(channel, t.frame());
        Ok(())
    }

    /// YIN on one frame in ten or so, and a few additions per frame:
    /// small against the detector's own work.
    fn inline(&self) -> bool {
        true
    }

    fn finish(&mut self, _duration: Time) -> Result<(), String> {
        for c in 0..self.channels.len() {
            self.channels[c].record_frames(true);
            self.channels[c].blocks.clear();
            self.condense(c, true);
        }
        let track = AcousticTrack {
            segments: self
                .channels
                .iter_mut()
                .map(|c| std::mem::take(&mut c.stats))
                .collect(),
        };
        if let Ok(mut slot) = self.out.lock() {
            *slot = Some(Ok(track));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks() -> VecDeque<(i64, Arc<SharedSamples>)> {
        // Samples 0..10 and 10..16, each sample's value its index.
        let block = |r: std::ops::Range<i64>| {
            let start = r.start;
            let v: Vec<f32> = r.map(|i| i as f32).collect();
            (start, Arc::new(SharedSamples::new(v)))
        };
        [block(0..10), block(10..16)].into_iter().collect()
    }

    #[test]
    fn a_frame_input_is_cut_from_the_shared_blocks() {
        let b = blocks();
        let mut scratch = Vec::new();
        // Inside one block: a slice of it.
        assert_eq!(gather(&b, 2, 4, &mut scratch), &[2.0, 3.0, 4.0, 5.0]);
        assert!(scratch.is_empty(), "no copy for a frame inside one block");
        // Across the two blocks.
        assert_eq!(gather(&b, 8, 4, &mut scratch), &[8.0, 9.0, 10.0, 11.0]);
        // Before the stream and past its end: zeros.
        assert_eq!(gather(&b, -2, 4, &mut scratch), &[0.0, 0.0, 0.0, 1.0]);
        assert_eq!(gather(&b, 14, 4, &mut scratch), &[14.0, 15.0, 0.0, 0.0]);
    }
}
