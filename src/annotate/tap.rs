//! The acoustic annotation stage of a call's pipeline.
//!
//! For every speaker it runs the YIN pitch tracker on the frames the voice
//! detector's features call periodic (YIN costs microseconds a frame; most
//! frames of a call are silence, noise or the other speaker), keeps a small
//! record per frame (pitch, level, syllable envelope) only until the
//! detector has finished the segments that could contain it, and condenses
//! each finished speech segment into a [`SegmentStats`]: its voiced pitch
//! values, its energy, its syllable nuclei. Memory is a few bytes per voiced
//! frame of speech, not per frame of the call, and no audio is kept.
//!
//! Audio (from the resampler) and features (from the detector) arrive on
//! different threads; audio is fed to the tracker only as far as features
//! have arrived, so each frame's analyse-or-skip decision is known.

use super::pace::{SyllableConfig, acoustic_pace};
use super::pitch::{PitchFrame, PitchTracker};
use crate::dsp::features::{BAND_HI_HZ, BAND_LO_HZ, FLOOR_DB, FrameFeatures, N_BANDS, db};
use crate::pipeline::Tap;
use crate::time::{HOP, Time};
use crate::timeline::Span;
use crate::vad::Segment;
use std::collections::VecDeque;
use std::sync::Mutex;

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
    audio: VecDeque<f32>,
    /// Samples handed to the tracker so far.
    pushed: u64,
    pre: VecDeque<Pre>,
    recs: VecDeque<Rec>,
    pending: VecDeque<Span>,
    stats: Vec<SegmentStats>,
    frames_out: Vec<PitchFrame>,
}

/// The pipeline tap that annotates a call's sound.
pub struct AnnotateTap<'a> {
    channels: Vec<Channel>,
    syllables: SyllableConfig,
    env_bands: [bool; N_BANDS],
    latency: u64,
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
        let mut latency = 0;
        for _ in 0..speakers {
            let tracker = PitchTracker::new(pitch.clone())?;
            latency = tracker.latency() as u64;
            channels.push(Channel {
                tracker,
                audio: VecDeque::new(),
                pushed: 0,
                pre: VecDeque::new(),
                recs: VecDeque::new(),
                pending: VecDeque::new(),
                stats: Vec::new(),
                frames_out: Vec::new(),
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
            latency,
            stride: i64::from(config.pitch_stride.max(1)),
            out,
        })
    }

    /// Feeds the tracker as far as features are known, turns its frames
    /// into records, and condenses finished segments.
    fn advance(&mut self, c: usize) {
        let ch = &mut self.channels[c];
        // Frame i comes out of the tracker once (i+1)·HOP + latency samples
        // are in; features are known up to the last `pre` entry.
        if let Some(last) = ch.pre.back().map(|p| p.index) {
            let limit = ((last + 1) as u64 * HOP as u64 + self.latency).saturating_sub(ch.pushed);
            let n = (limit as usize).min(ch.audio.len());
            if n > 0 {
                let (a, b) = ch.audio.as_slices();
                let (first, second) = if n <= a.len() {
                    (&a[..n], &b[..0])
                } else {
                    (a, &b[..n - a.len()])
                };
                let pre = &ch.pre;
                let base = pre.front().map_or(0, |p| p.index);
                let wanted = |i: i64| {
                    usize::try_from(i - base)
                        .ok()
                        .and_then(|k| pre.get(k))
                        .is_some_and(|p| p.candidate)
                };
                ch.frames_out.clear();
                ch.tracker.push_selected(first, &mut ch.frames_out, wanted);
                ch.tracker.push_selected(second, &mut ch.frames_out, wanted);
                ch.audio.drain(..n);
                ch.pushed += n as u64;
                for f in ch.frames_out.drain(..) {
                    while ch.pre.front().is_some_and(|p| p.index < f.index) {
                        ch.pre.pop_front();
                    }
                    if let Some(p) = ch.pre.pop_front() {
                        ch.recs.push_back(Rec {
                            index: p.index,
                            pitch: f.hz.unwrap_or(0.0),
                            level_db: p.level_db,
                            env_db: p.env_db,
                        });
                    }
                }
            }
        }
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
    fn audio(&mut self, channel: usize, _start: Time, samples: &[f32]) -> Result<(), String> {
        self.channels[channel].audio.extend(samples.iter().copied());
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

    fn finish(&mut self, _duration: Time) -> Result<(), String> {
        for c in 0..self.channels.len() {
            self.advance(c);
            let ch = &mut self.channels[c];
            ch.frames_out.clear();
            ch.tracker.finish(&mut ch.frames_out);
            for f in std::mem::take(&mut ch.frames_out) {
                while ch.pre.front().is_some_and(|p| p.index < f.index) {
                    ch.pre.pop_front();
                }
                if let Some(p) = ch.pre.pop_front() {
                    ch.recs.push_back(Rec {
                        index: p.index,
                        pitch: if p.candidate {
                            f.hz.unwrap_or(0.0)
                        } else {
                            0.0
                        },
                        level_db: p.level_db,
                        env_db: p.env_db,
                    });
                }
            }
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
