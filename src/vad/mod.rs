//! Who speaks when, per channel: a streaming voice-activity detector.
//!
//! The detector reads the [`FrameFeatures`] of every channel of a call, frame
//! by frame, and turns them into speech segments per channel. Per frame:
//!
//! 1. each band's noise floor is updated ([`noise::NoiseFloor`], minimum
//!    statistics: it adapts to stationary and slowly changing background);
//! 2. the leak of every other channel into this one is predicted
//!    ([`crosstalk::CrossTalk`]): echo and bleed are not speech;
//! 3. the band SNRs against `max(floor, leak + margin)` and the periodicity
//!    of the frame become a speech score in 0..1 (a logistic of the evidence);
//! 4. the score is binarized with hysteresis, padding and minimum durations
//!    ([`binarize::Binarizer`]).
//!
//! Everything is causal except the binarizer's hold-back of a finished
//! segment until it can no longer merge with the next one, so the same code
//! serves the offline pipeline and the live meter.

pub mod binarize;
pub mod crosstalk;
pub mod noise;

use crate::dsp::features::{FrameFeatures, N_BANDS};
use crate::time::Time;
use crate::timeline::Span;
use binarize::{BinarizeParams, Binarizer};
use crosstalk::CrossTalk;
use noise::NoiseFloor;
use serde::{Deserialize, Serialize};

/// Bands whose upper edge lies within the telephone band (≤ 3.6 kHz).
fn speech_band_count() -> usize {
    // Bands are mel-spaced from 200 Hz to 7.6 kHz; compute rather than
    // hard-code so a change of layout cannot silently break this.
    let lo = 2595.0 * (1.0f32 + 200.0 / 700.0).log10();
    let hi = 2595.0 * (1.0f32 + 7600.0 / 700.0).log10();
    (0..N_BANDS)
        .filter(|&b| {
            let m = lo + (hi - lo) * (b + 1) as f32 / N_BANDS as f32;
            700.0 * (10f32.powf(m / 2595.0) - 1.0) <= 3650.0
        })
        .count()
}

/// Settings of the voice detector. Defaults were chosen on the development
/// set (see `README.md`, "Accuracy"); every field can be set in the `[vad]`
/// table of the config file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VadConfig {
    /// Score above which a channel starts speaking (0..1).
    pub onset: f32,
    /// Score below which a speaking channel stops (0..1).
    pub offset: f32,
    /// Shortest speech segment kept, ms (pyannote's `min_duration_on`).
    pub min_speech_ms: u32,
    /// Shortest pause kept, ms; shorter pauses are bridged (`min_duration_off`).
    pub min_gap_ms: u32,
    /// Speech added before each detected onset, ms.
    pub pad_onset_ms: u32,
    /// Speech added after each detected offset, ms (hangover).
    pub pad_offset_ms: u32,
    /// Window of the minimum-statistics noise tracker, seconds.
    pub noise_window_s: f32,
    /// Smoothing time constant of the noise tracker, ms.
    pub noise_smooth_ms: f32,
    /// Added to the tracked minimum to estimate the mean noise level, dB.
    pub noise_bias_db: f32,
    /// Mean band SNR (dB) at which the speech score is one half.
    pub snr_mid_db: f32,
    /// dB of SNR per unit of logit: smaller is a harder decision.
    pub snr_scale_db: f32,
    /// Weight of periodicity (voicing) in the score logit.
    pub periodicity_weight: f32,
    /// Periodicity that counts as neutral evidence.
    pub periodicity_mid: f32,
    /// Frames quieter than this (speech band, dBFS) are never speech.
    pub min_level_dbfs: f32,
    /// Frames in the causal moving average of the score.
    pub smooth_frames: usize,
    /// Discount activity explained by the other channels (echo, bleed).
    pub crosstalk: bool,
    /// Longest leak delay searched, ms.
    pub crosstalk_max_delay_ms: u32,
    /// How far above the predicted leak a band must be to count, dB.
    pub crosstalk_margin_db: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            onset: 0.5,
            offset: 0.35,
            min_speech_ms: 60,
            min_gap_ms: 120,
            pad_onset_ms: 20,
            pad_offset_ms: 40,
            noise_window_s: 2.0,
            noise_smooth_ms: 30.0,
            noise_bias_db: 2.0,
            snr_mid_db: 6.0,
            snr_scale_db: 2.0,
            periodicity_weight: 2.0,
            periodicity_mid: 0.45,
            min_level_dbfs: -72.0,
            smooth_frames: 3,
            crosstalk: true,
            crosstalk_max_delay_ms: 300,
            crosstalk_margin_db: 6.0,
        }
    }
}

impl VadConfig {
    fn binarize_params(&self) -> BinarizeParams {
        let frames = |ms: u32| i64::from(ms).div_euclid(10);
        BinarizeParams {
            onset: self.onset,
            offset: self.offset,
            min_on: frames(self.min_speech_ms),
            min_off: frames(self.min_gap_ms),
            pad_onset: frames(self.pad_onset_ms),
            pad_offset: frames(self.pad_offset_ms),
        }
    }
}

/// Per-channel state.
#[derive(Clone, Debug)]
struct Channel {
    noise: NoiseFloor,
    binarizer: Binarizer,
    recent: Vec<f32>,
    score: f32,
}

/// The detector for all channels of one call.
#[derive(Clone, Debug)]
pub struct Detector {
    cfg: VadConfig,
    channels: Vec<Channel>,
    crosstalk: Option<CrossTalk>,
    speech_bands: usize,
    loud: Vec<bool>,
    floors: Vec<[f32; N_BANDS]>,
}

/// A finished speech segment of one channel (by position in the detector).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Channel index, in the order the detector was given frames.
    pub channel: usize,
    /// Where the channel's speaker speaks.
    pub span: Span,
}

impl Detector {
    /// A detector for `channels` streams.
    pub fn new(channels: usize, cfg: &VadConfig) -> Detector {
        let window = (cfg.noise_window_s * 100.0).round().max(6.0) as usize;
        let chans = (0..channels)
            .map(|_| Channel {
                noise: NoiseFloor::new(window, cfg.noise_smooth_ms / 10.0, cfg.noise_bias_db),
                binarizer: Binarizer::new(cfg.binarize_params()),
                recent: Vec::with_capacity(cfg.smooth_frames.max(1)),
                score: 0.0,
            })
            .collect();
        let crosstalk = (cfg.crosstalk && channels > 1)
            .then(|| CrossTalk::new(channels, (cfg.crosstalk_max_delay_ms / 10) as usize));
        Detector {
            cfg: cfg.clone(),
            channels: chans,
            crosstalk,
            speech_bands: speech_band_count(),
            loud: vec![false; channels],
            floors: vec![[0.0; N_BANDS]; channels],
        }
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels.len()
    }

    /// Whether channel `c` is speaking after the last frame (raw hysteresis
    /// state, for live display).
    pub fn speaking(&self, c: usize) -> bool {
        self.channels
            .get(c)
            .is_some_and(|ch| ch.binarizer.is_active())
    }

    /// The smoothed speech score of channel `c` at the last frame.
    pub fn score(&self, c: usize) -> f32 {
        self.channels.get(c).map_or(0.0, |ch| ch.score)
    }

    /// Processes one frame of every channel (same frame index, channel
    /// order fixed); appends finished segments to `out`.
    pub fn push(&mut self, frames: &[FrameFeatures], out: &mut Vec<Segment>) {
        let nb = self.speech_bands;
        for (c, f) in frames.iter().enumerate() {
            let floor = *self.channels[c].noise.update(&f.bands);
            self.floors[c] = floor;
            let snr = mean_snr(&f.bands[..nb], &floor[..nb]);
            self.loud[c] = snr > 12.0 && f.speech_db > self.cfg.min_level_dbfs + 10.0;
        }
        let leak = self
            .crosstalk
            .as_mut()
            .map(|ct| ct.update(frames, &self.loud).to_vec());
        let mut seg = Vec::new();
        for (c, f) in frames.iter().enumerate() {
            let mut reference = self.floors[c];
            if let Some(leak) = &leak {
                for (r, l) in reference.iter_mut().zip(&leak[c]) {
                    *r = r.max(l + self.cfg.crosstalk_margin_db);
                }
            }
            let raw = self.frame_score(f, &reference);
            let ch = &mut self.channels[c];
            if ch.recent.len() == self.cfg.smooth_frames.max(1) {
                ch.recent.remove(0);
            }
            ch.recent.push(raw);
            ch.score = ch.recent.iter().sum::<f32>() / ch.recent.len() as f32;
            seg.clear();
            ch.binarizer.push(ch.score, &mut seg);
            out.extend(seg.iter().map(|&span| Segment { channel: c, span }));
        }
    }

    /// Ends the call after `total_frames` frames and flushes the segments.
    pub fn finish(&mut self, total_frames: i64, out: &mut Vec<Segment>) {
        let mut seg = Vec::new();
        for (c, ch) in self.channels.iter_mut().enumerate() {
            seg.clear();
            ch.binarizer.finish(total_frames, &mut seg);
            out.extend(seg.iter().map(|&span| Segment { channel: c, span }));
        }
    }

    /// The speech score of one frame against a reference level per band.
    fn frame_score(&self, f: &FrameFeatures, reference: &[f32; N_BANDS]) -> f32 {
        if f.speech_db < self.cfg.min_level_dbfs {
            return 0.0;
        }
        let nb = self.speech_bands;
        let low = mean_snr(&f.bands[..nb], &reference[..nb]);
        let high = mean_snr(&f.bands[nb..], &reference[nb..]);
        let evidence = low.max(0.8 * high);
        let mut z = (evidence - self.cfg.snr_mid_db) / self.cfg.snr_scale_db.max(0.1);
        // Voicing counts only where there is energy of the channel's own to
        // be voiced: an echo is periodic too.
        let weight = (low / self.cfg.snr_mid_db.max(1.0)).clamp(0.0, 1.0);
        z +=
            weight * self.cfg.periodicity_weight * (f.periodicity - self.cfg.periodicity_mid) * 4.0;
        1.0 / (1.0 + (-z).exp())
    }
}

/// Mean of the band SNRs, each clipped to 0..40 dB.
fn mean_snr(bands: &[f32], reference: &[f32]) -> f32 {
    if bands.is_empty() {
        return 0.0;
    }
    bands
        .iter()
        .zip(reference)
        .map(|(b, r)| (b - r).clamp(0.0, 40.0))
        .sum::<f32>()
        / bands.len() as f32
}

/// Runs the detector over complete feature streams (one per channel, same
/// length): the offline convenience used by tests and tools.
pub fn detect(features: &[Vec<FrameFeatures>], cfg: &VadConfig) -> Vec<Vec<Span>> {
    let n = features.len();
    let frames = features.iter().map(Vec::len).min().unwrap_or(0);
    let mut det = Detector::new(n, cfg);
    let mut out = Vec::new();
    let mut row = Vec::with_capacity(n);
    for i in 0..frames {
        row.clear();
        row.extend(features.iter().map(|f| f[i]));
        det.push(&row, &mut out);
    }
    det.finish(frames as i64, &mut out);
    let mut per = vec![Vec::new(); n];
    for s in out {
        per[s.channel].push(s.span);
    }
    per
}

/// Converts a frame count to a time (for callers that count frames).
pub fn frames_to_time(frames: i64) -> Time {
    Time::from_frames(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::features::FeatureExtractor;

    fn features(samples: &[f32]) -> Vec<FrameFeatures> {
        let mut fx = FeatureExtractor::new();
        let mut out = Vec::new();
        fx.push(samples, &mut out);
        fx.finish(&mut out);
        out
    }

    /// A vowel-like burst: a 140 Hz pulse train through a crude resonance.
    fn vowel(n: usize, amp: f32) -> Vec<f32> {
        let mut y = vec![0.0f32; n];
        let (mut y1, mut y2) = (0.0f32, 0.0f32);
        let (r, w) = (0.97f32, 2.0 * std::f32::consts::PI * 700.0 / 16_000.0);
        for (i, out) in y.iter_mut().enumerate() {
            let x = if i % 114 == 0 { 1.0 } else { 0.0 };
            let v = x + 2.0 * r * w.cos() * y1 - r * r * y2;
            y2 = y1;
            y1 = v;
            *out = v * amp;
        }
        y
    }

    fn noise(n: usize, amp: f32, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 2.0 * amp
            })
            .collect()
    }

    #[test]
    fn finds_bursts_in_noise() {
        let rate = 16_000;
        let mut x = noise(rate * 6, 0.002, 3);
        // Bursts at 2.0–3.0 s and 4.0–4.5 s.
        for (start, len) in [(2 * rate, rate), (4 * rate, rate / 2)] {
            for (i, v) in vowel(len, 0.02).into_iter().enumerate() {
                x[start + i] += v;
            }
        }
        let spans = &detect(&[features(&x)], &VadConfig::default())[0];
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert!((spans[0].start.secs() - 2.0).abs() < 0.08, "{:?}", spans[0]);
        assert!((spans[0].end.secs() - 3.0).abs() < 0.1, "{:?}", spans[0]);
        assert!((spans[1].start.secs() - 4.0).abs() < 0.08, "{:?}", spans[1]);
    }

    #[test]
    fn silence_and_stationary_noise_are_not_speech() {
        let x = noise(16_000 * 5, 0.05, 9);
        assert!(detect(&[features(&x)], &VadConfig::default())[0].is_empty());
        let z = vec![0.0; 16_000 * 2];
        assert!(detect(&[features(&z)], &VadConfig::default())[0].is_empty());
    }

    #[test]
    fn speech_band_count_is_the_telephone_band() {
        let n = speech_band_count();
        assert!((8..N_BANDS).contains(&n), "{n}");
    }
}
