//! How fast someone speaks: from word timings, and from the sound alone.
//!
//! **From words** ([`word_pace`]): with a transcript's word times,
//!
//! * *words per minute* is the word count over the utterance's span (first
//!   word's start to last word's end);
//! * a *pause* is a gap of at least [`PaceConfig::min_pause_s`] (250 ms, the
//!   usual threshold of fluency research: shorter gaps are articulation —
//!   stop closures, breaths between words — not pausing) between one word's
//!   end and the next word's start;
//! * *articulation rate* is the word count over the speaking time, the span
//!   minus those pauses.
//!
//! **From sound** ([`acoustic_pace`]), so that pace works with
//! `--no-transcribe`: syllable nuclei are counted as peaks of a band-passed
//! energy envelope, after de Jong & Wempe (2009), "Praat script to detect
//! syllable nuclei and measure speech rate automatically":
//!
//! 1. the envelope is the energy of the 300–2500 Hz band (where vowels are
//!    loud and fricatives and low rumble are not) per 10 ms frame, in dB
//!    ([`Envelope`], or [`envelope_from_features`] from the frame features
//!    the pipeline already has), smoothed over three frames;
//! 2. a nucleus is a local maximum at most [`SyllableConfig::floor_db`] below
//!    the utterance's loudest frames (99th percentile) that stands at least
//!    [`SyllableConfig::min_prominence_db`] above the dips that separate it
//!    from its higher neighbours (topographic prominence) and that is voiced
//!    (a pitch within two frames);
//! 3. syllables per second of speaking time (same pause rule as above)
//!    convert to words per minute with [`SyllableConfig::syllables_per_word`].
//!
//! The 3 dB prominence was chosen on real read speech (LibriVox and CMU
//! ARCTIC clips with transcripts, syllables counted from espeak-ng's
//! phonemisation of the text): 2 dB found about 7% too many nuclei, 3 dB
//! within 1%. With this implementation the ignored test
//! `real_speech_syllable_rate` (tests/annotate.rs) finds 256 nuclei for 264
//! syllables (−3%) over 21 clips of LibriVox, ARCTIC and a LibriVox
//! sonnet; on the espeak-ng fixtures the syllable rate is within 4.5%.
//!
//! **Syllables per word.** The default 1.27 is measured, not taken from
//! readability formulas: call-centre style dialogue
//! (`tests/fixtures/annotate/calibration.txt`, 582 words, syllables counted
//! by `scripts/make_annotate_fixtures.sh` from espeak-ng's phonemes) has
//! 1.27 syllables per word (740 for 582); the LibriVox and ARCTIC
//! transcripts have 1.34, a Shakespeare sonnet 1.27. The 1.4–1.5 often
//! quoted is for written English, whose words are longer than speech's.
//! The acoustic words per minute is therefore an estimate of the
//! *articulation rate*, as good as the speaker's words are of usual length
//! (a passage of 1.20 syllables per word reads 5.5% slow); the syllable rate
//! itself is the direct measurement.

use super::AnnotateError;
use crate::dsp::features::{FLOOR_DB, FrameFeatures, N_BANDS, db};
use crate::report::Word;
use crate::time::{HOP, RATE, Time};
use crate::timeline::Span;
use serde::{Deserialize, Serialize};

/// Something with a start and an end: a transcribed word, or a span.
pub trait Timed {
    /// Where it lies in time.
    fn span(&self) -> Span;
}

impl Timed for Span {
    fn span(&self) -> Span {
        *self
    }
}

impl Timed for Word {
    /// The report's seconds, converted once to sample time.
    fn span(&self) -> Span {
        Span::from_secs(self.start_s, self.end_s)
    }
}

/// Settings of the word-based pace measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaceConfig {
    /// Shortest gap between words that counts as a pause, s (0.25).
    pub min_pause_s: f64,
}

impl Default for PaceConfig {
    fn default() -> Self {
        PaceConfig { min_pause_s: 0.25 }
    }
}

impl PaceConfig {
    /// [`PaceConfig::min_pause_s`] as sample time.
    pub fn min_pause(&self) -> Time {
        Time::from_secs(self.min_pause_s)
    }
}

/// Pauses inside an utterance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pauses {
    /// Where they are.
    pub spans: Vec<Span>,
    /// Their total length.
    pub total: Time,
    /// The longest one (zero without any).
    pub longest: Time,
}

impl Pauses {
    /// Number of pauses.
    pub fn count(&self) -> usize {
        self.spans.len()
    }

    /// Adds a pause.
    pub fn push(&mut self, s: Span) {
        self.total += s.duration();
        self.longest = self.longest.max(s.duration());
        self.spans.push(s);
    }
}

/// Pace of one utterance from its word timings.
#[derive(Clone, Debug, PartialEq)]
pub struct WordPace {
    /// Number of words.
    pub words: usize,
    /// First word's start to last word's end.
    pub span: Span,
    /// The span minus the pauses.
    pub speaking_time: Time,
    /// Words per minute over the span.
    pub wpm: f64,
    /// Words per minute of speaking time (articulation rate).
    pub articulation_wpm: f64,
    /// Gaps of at least [`PaceConfig::min_pause_s`] between words.
    pub pauses: Pauses,
}

fn per_minute(count: f64, t: Time) -> f64 {
    count * 60.0 / t.secs()
}

/// Words per minute, articulation rate and pauses of one utterance; `None`
/// without words or when they span no time. Words may come in any order and
/// may overlap (a transcriber's times do); a gap is measured from the latest
/// end so far to the next start.
pub fn word_pace<W: Timed>(words: &[W], cfg: &PaceConfig) -> Option<WordPace> {
    let mut spans: Vec<Span> = words.iter().map(Timed::span).collect();
    spans.sort_unstable();
    let first = spans.first()?;
    let mut end = first.end;
    let mut pauses = Pauses::default();
    let min_pause = cfg.min_pause();
    for s in &spans[1..] {
        if s.start - end >= min_pause {
            pauses.push(Span::new(end, s.start));
        }
        end = end.max(s.end);
    }
    let span = Span::new(first.start, end);
    if span.is_empty() {
        return None;
    }
    let speaking_time = span.duration() - pauses.total;
    let n = spans.len() as f64;
    Some(WordPace {
        words: spans.len(),
        span,
        speaking_time,
        wpm: per_minute(n, span.duration()),
        articulation_wpm: per_minute(n, speaking_time),
        pauses,
    })
}

/// Settings of the acoustic syllable-rate estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyllableConfig {
    /// Lower edge of the envelope's band, Hz (300).
    pub band_lo_hz: f32,
    /// Upper edge of the envelope's band, Hz (2500).
    pub band_hi_hz: f32,
    /// Nuclei are at most this far below the utterance's 99th-percentile
    /// envelope level, dB (25, as de Jong & Wempe's silence threshold).
    pub floor_db: f32,
    /// A nucleus stands at least this far above the dips that separate it
    /// from higher peaks, dB (3).
    pub min_prominence_db: f32,
    /// A nucleus needs a voiced frame within this many frames (2).
    pub voiced_reach: usize,
    /// Converts syllables to words (1.27; see the module notes).
    pub syllables_per_word: f64,
    /// Gaps in speech at least this long are pauses, not speaking time, s
    /// (0.25, as [`PaceConfig::min_pause_s`]).
    pub min_pause_s: f64,
}

impl Default for SyllableConfig {
    fn default() -> Self {
        SyllableConfig {
            band_lo_hz: 300.0,
            band_hi_hz: 2500.0,
            floor_db: 25.0,
            min_prominence_db: 3.0,
            voiced_reach: 2,
            syllables_per_word: 1.27,
            min_pause_s: 0.25,
        }
    }
}

impl SyllableConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), AnnotateError> {
        let nyquist = RATE as f32 / 2.0;
        if !(self.band_lo_hz > 0.0 && self.band_lo_hz < self.band_hi_hz) {
            return Err(AnnotateError::InvalidConfig {
                name: "syllables.band_lo_hz",
                value: self.band_lo_hz.to_string(),
                reason: "must be positive and below band_hi_hz",
            });
        }
        if self.band_hi_hz >= nyquist {
            return Err(AnnotateError::InvalidConfig {
                name: "syllables.band_hi_hz",
                value: self.band_hi_hz.to_string(),
                reason: "must be below 8000 Hz",
            });
        }
        if self.syllables_per_word.is_nan() || self.syllables_per_word <= 0.0 {
            return Err(AnnotateError::InvalidConfig {
                name: "syllables.syllables_per_word",
                value: self.syllables_per_word.to_string(),
                reason: "must be positive",
            });
        }
        if !(self.min_prominence_db >= 0.0 && self.floor_db > 0.0) {
            return Err(AnnotateError::InvalidConfig {
                name: "syllables.min_prominence_db",
                value: self.min_prominence_db.to_string(),
                reason: "prominence must be >= 0 and floor_db > 0",
            });
        }
        Ok(())
    }
}

/// A second-order IIR section (RBJ cookbook), direct form I.
#[derive(Clone, Copy, Debug)]
struct Biquad {
    b: [f32; 3],
    a: [f32; 2],
    x: [f32; 2],
    y: [f32; 2],
}

impl Biquad {
    fn new(fc: f32, q: f32, high: bool) -> Biquad {
        let w = 2.0 * std::f32::consts::PI * fc / RATE as f32;
        let (sin, cos) = w.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        let b = if high {
            let k = (1.0 + cos) / a0;
            [k / 2.0, -k, k / 2.0]
        } else {
            let k = (1.0 - cos) / a0;
            [k / 2.0, k, k / 2.0]
        };
        Biquad {
            b,
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn run(&mut self, x: f32) -> f32 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// Butterworth Q of the two sections of a 4th-order filter.
const Q4: [f32; 2] = [0.541_196_1, 1.306_563];

/// Streaming band-passed energy envelope on the 10 ms grid: one value per
/// frame, the mean square of the band-passed signal over the frame's cell,
/// in dB re full scale. Allocation-free after construction.
pub struct Envelope {
    filters: [Biquad; 4],
    acc: f64,
    in_cell: usize,
}

impl Envelope {
    /// An envelope of the band `cfg.band_lo_hz..cfg.band_hi_hz`
    /// (4th-order Butterworth high-pass and low-pass).
    pub fn new(cfg: &SyllableConfig) -> Result<Envelope, AnnotateError> {
        cfg.validate()?;
        Ok(Envelope {
            filters: [
                Biquad::new(cfg.band_lo_hz, Q4[0], true),
                Biquad::new(cfg.band_lo_hz, Q4[1], true),
                Biquad::new(cfg.band_hi_hz, Q4[0], false),
                Biquad::new(cfg.band_hi_hz, Q4[1], false),
            ],
            acc: 0.0,
            in_cell: 0,
        })
    }

    /// Feeds 16 kHz samples; appends one dB value per completed cell.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        let hop = HOP as usize;
        for &s in samples {
            let y = self.filters.iter_mut().fold(s, |v, f| f.run(v));
            self.acc += f64::from(y) * f64::from(y);
            self.in_cell += 1;
            if self.in_cell == hop {
                out.push(db((self.acc / hop as f64) as f32));
                self.acc = 0.0;
                self.in_cell = 0;
            }
        }
    }

    /// Emits the last partial cell (as if completed with zeros).
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if self.in_cell > 0 {
            out.push(db((self.acc / HOP as f64) as f32));
            self.acc = 0.0;
            self.in_cell = 0;
        }
    }
}

/// Offline convenience: the envelope of a whole utterance or call.
pub fn envelope(samples: &[f32], cfg: &SyllableConfig) -> Result<Vec<f32>, AnnotateError> {
    let mut env = Envelope::new(cfg)?;
    let mut out = Vec::with_capacity(samples.len().div_ceil(HOP as usize));
    env.push(samples, &mut out);
    env.finish(&mut out);
    Ok(out)
}

/// The same envelope from the pipeline's frame features: the energy of the
/// mel bands whose centre lies in the band, in dB. No second pass over the
/// audio; slightly smoother (the features' window is 32 ms).
pub fn envelope_from_features(features: &[FrameFeatures], cfg: &SyllableConfig) -> Vec<f32> {
    use crate::dsp::features::{BAND_HI_HZ, BAND_LO_HZ};
    // Band centres on the mel scale the features use.
    let mel = |f: f32| 2595.0 * (1.0 + f / 700.0).log10();
    let hz = |m: f32| 700.0 * (10f32.powf(m / 2595.0) - 1.0);
    let (lo, hi) = (mel(BAND_LO_HZ), mel(BAND_HI_HZ));
    let mut use_band = [false; N_BANDS];
    for (b, u) in use_band.iter_mut().enumerate() {
        let centre = hz(lo + (hi - lo) * (b as f32 + 0.5) / N_BANDS as f32);
        *u = centre >= cfg.band_lo_hz && centre <= cfg.band_hi_hz;
    }
    features
        .iter()
        .map(|f| {
            let e: f32 = f
                .bands
                .iter()
                .zip(&use_band)
                .filter(|(_, u)| **u)
                .map(|(&d, _)| 10f32.powf(d / 10.0))
                .sum();
            db(e)
        })
        .collect()
}

/// Three-frame smoothing with weights ¼, ½, ¼ (edges repeated).
fn smooth3(e: &[f32]) -> Vec<f32> {
    let n = e.len();
    (0..n)
        .map(|i| {
            let a = e[i.saturating_sub(1)];
            let c = e[(i + 1).min(n - 1)];
            0.25 * a + 0.5 * e[i] + 0.25 * c
        })
        .collect()
}

/// The frames (indices into `envelope_db`) of the syllable nuclei; see the
/// module notes. `voiced` has one entry per frame (a shorter slice counts
/// the missing frames as unvoiced).
pub fn syllable_nuclei(envelope_db: &[f32], voiced: &[bool], cfg: &SyllableConfig) -> Vec<usize> {
    let n = envelope_db.len();
    if n < 3 {
        return Vec::new();
    }
    let e = smooth3(envelope_db);
    let mut sorted: Vec<f32> = e.iter().copied().filter(|v| *v > FLOOR_DB).collect();
    if sorted.is_empty() {
        return Vec::new();
    }
    sorted.sort_unstable_by(f32::total_cmp);
    let p99 = sorted[((sorted.len() - 1) as f64 * 0.99).round() as usize];
    let threshold = p99 - cfg.floor_db;
    let is_voiced = |i: usize| {
        let lo = i.saturating_sub(cfg.voiced_reach);
        let hi = (i + cfg.voiced_reach + 1).min(voiced.len());
        lo < hi && voiced[lo..hi].iter().any(|&v| v)
    };
    let mut out = Vec::new();
    for i in 1..n - 1 {
        if !(e[i] >= e[i - 1] && e[i] > e[i + 1] && e[i] > threshold) {
            continue;
        }
        // Topographic prominence: walk each way while the envelope stays
        // at or below the peak; the side that meets a higher point bounds
        // the key dip. A side that runs off the utterance does not bound.
        let walk = |step: isize| -> Option<f32> {
            let mut j = i as isize;
            let mut low = e[i];
            loop {
                let k = j + step;
                if k < 0 || k >= n as isize {
                    return None;
                }
                let v = e[k as usize];
                if v > e[i] {
                    return Some(low);
                }
                low = low.min(v);
                j = k;
            }
        };
        let (left, right) = (walk(-1), walk(1));
        let key = match (left, right) {
            (Some(l), Some(r)) => l.max(r),
            (Some(l), None) => l,
            (None, Some(r)) => r,
            // The highest peak: its prominence is over the lowest point.
            (None, None) => e.iter().copied().fold(f32::INFINITY, f32::min),
        };
        if e[i] - key >= cfg.min_prominence_db && is_voiced(i) {
            out.push(i);
        }
    }
    out
}

/// Pace of one utterance from its sound alone.
#[derive(Clone, Debug, PartialEq)]
pub struct AcousticPace {
    /// The frames of the syllable nuclei (indices into the envelope given).
    pub nuclei: Vec<usize>,
    /// Speaking time: from the first to the last speech frame, minus gaps
    /// of at least [`SyllableConfig::min_pause_s`].
    pub speaking_time: Time,
    /// Syllable nuclei per second of speaking time.
    pub syllables_per_s: f64,
    /// The estimated articulation rate, words per minute
    /// (`syllables_per_s · 60 / syllables_per_word`).
    pub wpm: f64,
}

/// Speaking time of a speech mask: first to last speech frame, minus runs
/// of non-speech of at least `min_pause`.
pub fn speaking_time(speech: &[bool], min_pause: Time) -> Time {
    let Some(first) = speech.iter().position(|&s| s) else {
        return Time::ZERO;
    };
    let last = speech.iter().rposition(|&s| s).unwrap_or(first);
    let min_frames = min_pause.frames_ceil().max(1) as usize;
    let mut frames = 0usize;
    let mut gap = 0usize;
    for &s in &speech[first..=last] {
        if s {
            if gap < min_frames {
                frames += gap;
            }
            gap = 0;
            frames += 1;
        } else {
            gap += 1;
        }
    }
    Time::from_frames(frames as i64)
}

/// Syllable rate and estimated words per minute of one utterance from its
/// envelope (one dB value per frame), voicing per frame (a pitch, say) and
/// speech per frame (the voice detector's decision; all `true` when the
/// frames given are the utterance). `None` without speaking time.
pub fn acoustic_pace(
    envelope_db: &[f32],
    voiced: &[bool],
    speech: &[bool],
    cfg: &SyllableConfig,
) -> Option<AcousticPace> {
    let t = speaking_time(speech, Time::from_secs(cfg.min_pause_s));
    if t <= Time::ZERO {
        return None;
    }
    let nuclei: Vec<usize> = syllable_nuclei(envelope_db, voiced, cfg)
        .into_iter()
        .filter(|&i| speech.get(i).copied().unwrap_or(false))
        .collect();
    let syllables_per_s = nuclei.len() as f64 / t.secs();
    Some(AcousticPace {
        wpm: syllables_per_s * 60.0 / cfg.syllables_per_word,
        nuclei,
        speaking_time: t,
        syllables_per_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: f64, e: f64) -> Word {
        Word {
            w: "x".into(),
            start_s: s,
            end_s: e,
            p: 0.9,
        }
    }

    #[test]
    fn words_per_minute_and_articulation_rate() {
        // 6 words over 3 s with one 0.5 s pause and one 0.2 s gap.
        let words = [
            w(0.0, 0.4),
            w(0.4, 0.8),
            w(1.0, 1.5),
            w(2.0, 2.3),
            w(2.3, 2.7),
            w(2.7, 3.0),
        ];
        let p = word_pace(&words, &PaceConfig::default()).unwrap();
        assert_eq!(p.words, 6);
        assert_eq!(p.span, Span::from_secs(0.0, 3.0));
        assert!((p.wpm - 120.0).abs() < 1e-9);
        assert_eq!(p.pauses.count(), 1);
        assert_eq!(p.pauses.spans[0], Span::from_secs(1.5, 2.0));
        assert_eq!(p.pauses.total, Time::from_secs(0.5));
        assert_eq!(p.pauses.longest, Time::from_secs(0.5));
        assert_eq!(p.speaking_time, Time::from_secs(2.5));
        assert!((p.articulation_wpm - 144.0).abs() < 1e-9);
    }

    #[test]
    fn pause_threshold_is_inclusive_and_overlaps_do_not_count() {
        let words = [w(1.0, 1.5), w(0.0, 0.75), w(0.6, 1.0), w(1.75, 2.0)];
        let p = word_pace(&words, &PaceConfig::default()).unwrap();
        // 1.5 → 1.75 is exactly 250 ms: a pause. 0.6 overlaps 0.75: none.
        assert_eq!(p.pauses.count(), 1);
        assert_eq!(p.pauses.total, Time::from_millis(250.0));
        assert!(word_pace::<Word>(&[], &PaceConfig::default()).is_none());
        assert!(word_pace(&[w(1.0, 1.0)], &PaceConfig::default()).is_none());
    }

    #[test]
    fn spans_work_as_words() {
        let spans = [Span::from_secs(0.0, 1.0), Span::from_secs(1.0, 2.0)];
        let p = word_pace(&spans, &PaceConfig::default()).unwrap();
        assert!((p.wpm - 60.0).abs() < 1e-9);
    }

    #[test]
    fn speaking_time_bridges_short_gaps() {
        // 10 speech, 20 gap (200 ms, kept), 10 speech, 30 gap (300 ms, a
        // pause), 10 speech, then trailing silence.
        let mut m = vec![false; 5];
        m.extend([true; 10]);
        m.extend([false; 20]);
        m.extend([true; 10]);
        m.extend([false; 30]);
        m.extend([true; 10]);
        m.extend([false; 7]);
        assert_eq!(
            speaking_time(&m, Time::from_millis(250.0)),
            Time::from_frames(50)
        );
        assert_eq!(speaking_time(&[false; 4], Time::FRAME), Time::ZERO);
    }

    /// A synthetic envelope: `n` raised-cosine bumps of 12 dB, `period`
    /// frames apart, on a −40 dB floor.
    fn bumps(n: usize, period: usize) -> Vec<f32> {
        let len = n * period + 10;
        (0..len)
            .map(|i| {
                let k = (i as isize - 5).rem_euclid(period as isize) as f32;
                let phase = 2.0 * std::f32::consts::PI * k / period as f32;
                if i >= 5 && i < 5 + n * period {
                    -40.0 + 6.0 * (1.0 - phase.cos())
                } else {
                    -40.0
                }
            })
            .collect()
    }

    #[test]
    fn nuclei_are_prominent_voiced_peaks() {
        let cfg = SyllableConfig::default();
        let e = bumps(8, 20);
        let voiced = vec![true; e.len()];
        assert_eq!(syllable_nuclei(&e, &voiced, &cfg).len(), 8);
        // Unvoiced peaks do not count.
        assert!(syllable_nuclei(&e, &[false; 4], &cfg).is_empty());
        // A ripple of 2 dB on top of a peak is not a second nucleus.
        let mut r = e.clone();
        r[15] += 1.0; // inside the first bump's rise
        assert_eq!(syllable_nuclei(&r, &voiced, &cfg).len(), 8);
        // Peaks 30 dB under the loudest are background.
        let mut q = e.clone();
        q.extend(bumps(3, 20).iter().map(|v| v - 40.0));
        let v2 = vec![true; q.len()];
        assert_eq!(syllable_nuclei(&q, &v2, &cfg).len(), 8);
    }

    #[test]
    fn acoustic_pace_counts_per_second_of_speech() {
        let cfg = SyllableConfig::default();
        // 8 nuclei at 5 per second (20 frames apart) → 1.6 s of speech.
        let e = bumps(8, 20);
        let voiced = vec![true; e.len()];
        let mut speech = vec![false; e.len()];
        speech[5..165].fill(true);
        let p = acoustic_pace(&e, &voiced, &speech, &cfg).unwrap();
        assert_eq!(p.nuclei.len(), 8);
        assert_eq!(p.speaking_time, Time::from_secs(1.6));
        assert!((p.syllables_per_s - 5.0).abs() < 1e-9);
        assert!((p.wpm - 5.0 * 60.0 / 1.27).abs() < 1e-9);
        assert!(acoustic_pace(&e, &voiced, &[false; 3], &cfg).is_none());
    }

    #[test]
    fn envelope_follows_the_band() {
        let cfg = SyllableConfig::default();
        let tone = |f: f32| -> Vec<f32> {
            (0..16_000)
                .map(|i| 0.5 * (2.0 * std::f32::consts::PI * f * i as f32 / 16_000.0).sin())
                .collect()
        };
        let inside = envelope(&tone(1000.0), &cfg).unwrap();
        let low = envelope(&tone(80.0), &cfg).unwrap();
        let high = envelope(&tone(6000.0), &cfg).unwrap();
        assert_eq!(inside.len(), 100);
        // 0.5 amplitude: mean square 0.125, −9 dB.
        assert!((inside[50] + 9.03).abs() < 0.5, "{}", inside[50]);
        assert!(low[50] < inside[50] - 30.0, "{}", low[50]);
        assert!(high[50] < inside[50] - 30.0, "{}", high[50]);
        // Streaming in odd chunks gives the same values.
        let x = tone(1000.0);
        let mut env = Envelope::new(&cfg).unwrap();
        let mut out = Vec::new();
        for c in x.chunks(77) {
            env.push(c, &mut out);
        }
        env.finish(&mut out);
        assert_eq!(out, inside);
    }

    #[test]
    fn bad_settings_are_rejected() {
        let cfg = SyllableConfig {
            band_lo_hz: 3000.0,
            ..SyllableConfig::default()
        };
        assert!(Envelope::new(&cfg).is_err());
    }
}
