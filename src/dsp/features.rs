//! Per-frame acoustic features: what every later stage knows about 10 ms of
//! one channel.
//!
//! The voice detector, the cross-talk check and the prosody annotations all
//! read these, so they are computed once per frame and per channel, in the
//! frame-analysis stage, from one spectrum:
//!
//! * `bands`: energy in [`N_BANDS`] mel-spaced bands from 200 Hz to 7.6 kHz,
//!   in dB relative to a full-scale signal. Bands, not bins, because noise
//!   floors, echo paths and level comparisons are stable per band and cheap
//!   to track; mel spacing because speech detail sits low. Telephone audio
//!   simply leaves the top bands empty.
//! * `periodicity`: the height of the strongest peak of the normalised
//!   autocorrelation in the pitch range (80–400 Hz) of the speech band,
//!   computed as the inverse transform of the band's power spectrum and
//!   divided by the autocorrelation of the analysis window itself (Boersma,
//!   1993), which undoes the window's taper: a periodic signal scores close
//!   to 1, noise low.
//! * `flatness`: Wiener entropy of the speech band (1 = white noise, → 0 for
//!   a line spectrum).
//! * `level_db`: RMS of the frame's own 10 ms cell, DC removed, in dBFS: the
//!   loudness the annotations use.

use super::stft::{BINS, Framer, HALF, Stft, WIN};
use super::sums::{sum, sum_sq_about};
use crate::time::{HOP, RATE};

/// Number of analysis bands.
pub const N_BANDS: usize = 16;
/// Lowest analysed frequency (Hz): below it live hum, DC and handling noise.
pub const BAND_LO_HZ: f32 = 200.0;
/// Highest analysed frequency (Hz).
pub const BAND_HI_HZ: f32 = 7600.0;
/// The speech band used for periodicity and flatness (telephone band).
pub const SPEECH_LO_HZ: f32 = 200.0;
/// Upper edge of the speech band.
pub const SPEECH_HI_HZ: f32 = 3600.0;
/// The rate of the autocorrelation (the band below 4 kHz, see
/// [`Stft::inverse_half_pair`]).
const ACF_RATE: u32 = RATE / 2;
/// Shortest pitch period searched (400 Hz), in samples at [`ACF_RATE`].
const MIN_LAG: usize = (ACF_RATE / 400) as usize;
/// Longest pitch period searched (80 Hz). The window holds 32 ms; beyond
/// about 2.5 periods per window the window correction divides by a small
/// number and noise starts to look periodic.
const MAX_LAG: usize = (ACF_RATE / 80) as usize;
/// The floor of every dB value: −120 dBFS stands for digital silence.
pub const FLOOR_DB: f32 = -120.0;

/// What is known about one 10 ms frame of one channel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameFeatures {
    /// Frame index (frame `i` is the cell `[i·HOP, (i+1)·HOP)`).
    pub index: i64,
    /// Band energies in dB re full scale.
    pub bands: [f32; N_BANDS],
    /// Total energy of the speech band (200–3600 Hz), dB re full scale.
    pub speech_db: f32,
    /// Normalised autocorrelation peak in the pitch range, 0..1.
    pub periodicity: f32,
    /// The pitch the periodicity peak points at, Hz (0 when aperiodic).
    pub pitch_hz: f32,
    /// Spectral flatness of the speech band, 0..1.
    pub flatness: f32,
    /// RMS level of the 10 ms cell, DC removed, dBFS.
    pub level_db: f32,
}

impl Default for FrameFeatures {
    fn default() -> Self {
        FrameFeatures {
            index: 0,
            bands: [FLOOR_DB; N_BANDS],
            speech_db: FLOOR_DB,
            periodicity: 0.0,
            pitch_hz: 0.0,
            flatness: 1.0,
            level_db: FLOOR_DB,
        }
    }
}

/// Fast `10·log10(x)` for positive `x`, accurate to about 0.001 dB; the
/// feature loops call it hundreds of times per frame.
#[inline]
pub fn db(x: f32) -> f32 {
    if x <= 1e-12 {
        return FLOOR_DB;
    }
    // log2(x) = exponent + log2(mantissa), mantissa m in [1, 2), with
    // log2(m) = 2/ln 2 · atanh(t), t = (m − 1)/(m + 1) ≤ 1/3: four terms of
    // the atanh series suffice.
    let bits = x.to_bits();
    let exp = ((bits >> 23) & 0xFF) as i32 - 127;
    let m = f32::from_bits((bits & 0x007F_FFFF) | 0x3F80_0000);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let atanh = t * (1.0 + t2 * (1.0 / 3.0 + t2 * (0.2 + t2 * (1.0 / 7.0))));
    (exp as f32 + atanh * std::f32::consts::LOG2_E * 2.0) * 3.010_3
}

/// Turns 16 kHz samples of one channel into [`FrameFeatures`], one per 10 ms.
///
/// Frames are analysed in pairs (see [`Stft::power_pair`]): frame `2m` comes
/// out once frame `2m + 1` is complete, 10 ms later than it could.
pub struct FeatureExtractor {
    stft: Stft,
    framer: Framer,
    scratch: PairScratch,
    /// Inverse of the window's normalised (circular) autocorrelation, per lag.
    win_acf: Vec<f32>,
    band_edges: [(usize, usize); N_BANDS],
    speech_bins: (usize, usize),
    /// Converts a sum of |X|² to a mean-square signal level.
    power_scale: f32,
    /// A slowly rising minimum of the speech-band level, dB: frames at the
    /// background are not worth a periodicity analysis.
    quiet_db: f32,
}

/// The per-pair buffers, allocated once: power spectra, the band-limited
/// spectra the autocorrelation starts from, and the autocorrelations.
struct PairScratch {
    power: [Vec<f32>; 2],
    mags: [Vec<f32>; 2],
    acf: [Vec<f32>; 2],
}

impl Default for FeatureExtractor {
    fn default() -> Self {
        FeatureExtractor::new()
    }
}

fn hz_to_mel(f: f32) -> f32 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f32) -> f32 {
    700.0 * (10f32.powf(m / 2595.0) - 1.0)
}

fn hz_to_bin(f: f32) -> usize {
    ((f * WIN as f32 / RATE as f32).round() as usize).min(BINS - 1)
}

impl FeatureExtractor {
    /// Plans the transform and the band layout.
    pub fn new() -> FeatureExtractor {
        let (lo, hi) = (hz_to_mel(BAND_LO_HZ), hz_to_mel(BAND_HI_HZ));
        let mut band_edges = [(0, 0); N_BANDS];
        for (b, e) in band_edges.iter_mut().enumerate() {
            let f0 = mel_to_hz(lo + (hi - lo) * b as f32 / N_BANDS as f32);
            let f1 = mel_to_hz(lo + (hi - lo) * (b + 1) as f32 / N_BANDS as f32);
            let (b0, b1) = (hz_to_bin(f0), hz_to_bin(f1));
            *e = (b0, b1.max(b0 + 1));
        }
        let mut stft = Stft::new();
        let wsum: f32 = stft.window().iter().map(|w| w * w).sum();
        let win_acf = window_acf(&mut stft);
        FeatureExtractor {
            stft,
            framer: Framer::new(),
            scratch: PairScratch {
                power: [vec![0.0; BINS], vec![0.0; BINS]],
                mags: [vec![0.0; HALF / 2 + 1], vec![0.0; HALF / 2 + 1]],
                acf: [vec![0.0; MAX_LAG + 2], vec![0.0; MAX_LAG + 2]],
            },
            win_acf,
            band_edges,
            speech_bins: (hz_to_bin(SPEECH_LO_HZ), hz_to_bin(SPEECH_HI_HZ)),
            power_scale: 2.0 / (WIN as f32 * wsum),
            quiet_db: f32::INFINITY,
        }
    }

    /// The bin range `[lo, hi)` of each band.
    pub fn band_edges(&self) -> &[(usize, usize); N_BANDS] {
        &self.band_edges
    }

    /// Feeds samples; appends the features of every completed frame pair to
    /// `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<FrameFeatures>) {
        let (framer, mut analysis) = self.split();
        framer.push_pairs(samples, |i, span| analysis.pair(i, span, 2, out));
    }

    /// Flushes the frames still held at the end of the stream.
    pub fn finish(&mut self, out: &mut Vec<FrameFeatures>) {
        let (framer, mut analysis) = self.split();
        framer.finish_pairs(|i, span, count| analysis.pair(i, span, count, out));
    }

    /// The framer and the per-frame analysis borrow disjoint fields: the
    /// framer calls back into the analysis for every pair of frames.
    fn split(&mut self) -> (&mut Framer, Analysis<'_>) {
        (
            &mut self.framer,
            Analysis {
                stft: &mut self.stft,
                scratch: &mut self.scratch,
                win_acf: &self.win_acf,
                band_edges: &self.band_edges,
                speech_bins: self.speech_bins,
                power_scale: self.power_scale,
                quiet_db: &mut self.quiet_db,
            },
        )
    }

    /// Samples consumed so far.
    pub fn samples_seen(&self) -> u64 {
        self.framer.pushed()
    }
}

struct Analysis<'a> {
    stft: &'a mut Stft,
    scratch: &'a mut PairScratch,
    win_acf: &'a [f32],
    band_edges: &'a [(usize, usize); N_BANDS],
    speech_bins: (usize, usize),
    power_scale: f32,
    quiet_db: &'a mut f32,
}

/// How fast the background minimum rises, dB per frame (2 dB/s).
const QUIET_RISE_DB: f32 = 0.02;
/// Frames less than this above the background minimum skip the periodicity
/// analysis (they are background; it would cost half the frame's time).
const QUIET_MARGIN_DB: f32 = 3.0;

impl Analysis<'_> {
    /// Analyses frames `index` and `index + 1` (`span` holds both, the
    /// second starting [`HOP`] in); `count` 1 keeps only the first.
    fn pair(&mut self, index: i64, span: &[f32], count: usize, out: &mut Vec<FrameFeatures>) {
        let hop = HOP as usize;
        let (a, b) = (&span[..WIN], &span[hop..hop + WIN]);
        let [pa, pb] = &mut self.scratch.power;
        self.stft.power_pair(a, b, pa, pb);

        // The spectral features in frame order (the background minimum is
        // a running state), then both periodicity analyses in one inverse
        // transform. A frame that skips it gets a zero spectrum.
        let mut feats = [FrameFeatures::default(); 2];
        let mut wanted = [false; 2];
        for k in 0..count {
            let frame = if k == 0 { a } else { b };
            (feats[k], wanted[k]) = self.spectral(index + k as i64, frame, k);
        }
        if wanted.iter().any(|&w| w) {
            let (lo, hi) = self.speech_bins;
            let s = &mut *self.scratch;
            for ((mags, power), &want) in s.mags.iter_mut().zip(&s.power).zip(&wanted) {
                for (j, m) in mags.iter_mut().enumerate() {
                    *m = if want && j >= lo && j < hi {
                        power[j]
                    } else {
                        0.0
                    };
                }
            }
            let [ma, mb] = &self.scratch.mags;
            let [aa, ab] = &mut self.scratch.acf;
            self.stft.inverse_half_pair(ma, mb, aa, ab);
            for k in 0..count {
                if wanted[k] {
                    periodicity(&mut self.scratch.acf[k], self.win_acf, &mut feats[k]);
                }
            }
        }
        out.extend_from_slice(&feats[..count]);
    }

    /// Level, bands, speech-band energy and flatness of one frame whose
    /// power spectrum is in scratch slot `slot`; true when the frame stands
    /// far enough above the background to be worth a periodicity analysis.
    fn spectral(&mut self, index: i64, frame: &[f32], slot: usize) -> (FrameFeatures, bool) {
        let power = &self.scratch.power[slot];
        let mut f = FrameFeatures {
            index,
            ..FrameFeatures::default()
        };
        f.level_db = cell_level_db(frame);

        let mut lin = [0f32; N_BANDS];
        for (b, &(lo, hi)) in self.band_edges.iter().enumerate() {
            lin[b] = sum(&power[lo..hi]) * self.power_scale;
            f.bands[b] = db(lin[b]);
        }

        let (lo, hi) = self.speech_bins;
        let total: f32 = sum(&power[lo..hi]) * self.power_scale;
        f.speech_db = db(total);
        if total < 1e-11 {
            return (f, false); // digital silence: nothing else to learn
        }
        // Flatness over the bands of the speech band, each band's energy per
        // bin: geometric over arithmetic mean.
        let mut log_sum = 0.0;
        let mut sum = 0.0;
        let mut n = 0.0;
        for (b, &(blo, bhi)) in self.band_edges.iter().enumerate() {
            if bhi <= hi {
                let per_bin = lin[b] / (bhi - blo) as f32;
                log_sum += db(per_bin + 1e-20);
                sum += per_bin;
                n += 1.0;
            }
        }
        if n > 0.0 {
            f.flatness = 10f32
                .powf((log_sum / n - db(sum / n)) / 10.0)
                .clamp(0.0, 1.0);
        }

        *self.quiet_db = (*self.quiet_db + QUIET_RISE_DB).min(f.speech_db);
        let wanted = f.speech_db >= *self.quiet_db + QUIET_MARGIN_DB;
        (f, wanted)
    }
}

/// Periodicity and pitch from the speech band's autocorrelation `acf`
/// (lags `0..=MAX_LAG + 1`), divided by the window's (`win_acf`).
fn periodicity(acf: &mut [f32], win_acf: &[f32], f: &mut FrameFeatures) {
    let r0 = acf[0];
    if r0 <= 0.0 {
        return;
    }
    let inv_r0 = 1.0 / r0;
    for (a, w) in acf[..=MAX_LAG + 1].iter_mut().zip(win_acf) {
        *a *= inv_r0 * w;
    }
    // The highest peak; but multiples of the period peak almost as high, so
    // the shortest lag within 10% of the highest wins.
    let is_peak = |l: usize| acf[l] >= acf[l - 1] && acf[l] >= acf[l + 1];
    let top = (MIN_LAG..=MAX_LAG)
        .filter(|&l| is_peak(l))
        .map(|l| acf[l])
        .fold(0.0f32, f32::max);
    let mut best = (0usize, 0.0f32);
    if let Some(l) = (MIN_LAG..=MAX_LAG).find(|&l| is_peak(l) && acf[l] >= 0.9 * top && top > 0.0) {
        best = (l, acf[l]);
    }
    // A peak at the edge of the range is the range, not a pitch.
    if best.0 > MIN_LAG && best.0 < MAX_LAG {
        f.periodicity = best.1.clamp(0.0, 1.0);
        let (a, b, c) = (acf[best.0 - 1], best.1, acf[best.0 + 1]);
        let denom = a - 2.0 * b + c;
        let shift = if denom.abs() > 1e-12 {
            0.5 * (a - c) / denom
        } else {
            0.0
        };
        f.pitch_hz = ACF_RATE as f32 / (best.0 as f32 + shift.clamp(-0.5, 0.5));
    }
}

/// The inverse of the window's normalised circular autocorrelation for lags up to
/// `MAX_LAG + 1`, computed through the same transform as the signal's.
fn window_acf(stft: &mut Stft) -> Vec<f32> {
    // The power spectrum of a constant signal, windowed, is the window's.
    let mut power = vec![0.0; BINS];
    stft.power(&vec![1.0; WIN], &mut power);
    let mut acf = vec![0.0; HALF];
    let zeros = vec![0.0; HALF / 2 + 1];
    let mut unused = vec![0.0; HALF];
    stft.inverse_half_pair(&power, &zeros, &mut acf, &mut unused);
    let r0 = acf[0].max(f32::MIN_POSITIVE);
    acf.truncate(MAX_LAG + 2);
    // Stored inverted: the per-frame normalisation multiplies.
    acf.iter().map(|a| 1.0 / (a / r0).max(1e-3)).collect()
}

/// RMS of the frame's own cell (its middle [`HOP`] samples), DC removed.
fn cell_level_db(frame: &[f32]) -> f32 {
    let hop = HOP as usize;
    let start = (WIN - hop) / 2;
    let cell = &frame[start..start + hop];
    let mean = sum(cell) / hop as f32;
    db(sum_sq_about(cell, mean) / hop as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::test_signals::noise;

    fn analyse(samples: &[f32]) -> Vec<FrameFeatures> {
        let mut fx = FeatureExtractor::new();
        let mut out = Vec::new();
        fx.push(samples, &mut out);
        fx.finish(&mut out);
        out
    }

    #[test]
    fn fast_db_is_accurate() {
        for x in [1e-9f32, 1e-5, 0.001, 0.5, 1.0, 3.7, 1234.5] {
            let want = 10.0 * x.log10();
            assert!((db(x) - want).abs() < 0.01, "{x}: {} vs {want}", db(x));
        }
        assert_eq!(db(0.0), FLOOR_DB);
    }

    #[test]
    fn bands_cover_the_range_in_order() {
        let fx = FeatureExtractor::new();
        let e = fx.band_edges();
        assert!(
            e.windows(2)
                .all(|w| w[0].1 <= w[1].0 + 1 && w[0].0 < w[1].0)
        );
        assert_eq!(e[0].0, hz_to_bin(BAND_LO_HZ));
    }

    #[test]
    fn full_scale_sine_level_and_pitch() {
        // Half a second of faint noise (the background), then a pulse train
        // at 125 Hz: strongly periodic, pitch 125 Hz.
        let n = 16_000;
        let mut x = noise(n / 2, 0.0005, 3);
        x.extend((0..n).map(|i| if i % 128 == 0 { 1.0 } else { 0.0 }));
        let f = analyse(&x);
        let mid = &f[100];
        assert!(mid.periodicity > 0.8, "periodicity {}", mid.periodicity);
        assert!((mid.pitch_hz - 125.0).abs() < 2.0, "pitch {}", mid.pitch_hz);

        let sine: Vec<f32> = (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let f = analyse(&sine);
        // A full-scale sine has mean square 0.5: −3 dBFS.
        assert!(
            (f[50].level_db + 3.01).abs() < 0.1,
            "level {}",
            f[50].level_db
        );
        assert!(
            (f[50].speech_db + 3.01).abs() < 0.5,
            "speech band {}",
            f[50].speech_db
        );
    }

    #[test]
    fn a_steady_background_skips_the_periodicity_analysis() {
        // A pulse train that never changes is the background after a while.
        let x: Vec<f32> = (0..16_000 * 3)
            .map(|i| if i % 128 == 0 { 1.0 } else { 0.0 })
            .collect();
        let f = analyse(&x);
        assert_eq!(f[250].periodicity, 0.0);
    }

    #[test]
    fn white_noise_is_flat_and_aperiodic() {
        let f = analyse(&noise(16_000, 0.1, 7));
        let mid = &f[50];
        assert!(mid.flatness > 0.4, "flatness {}", mid.flatness);
        assert!(mid.periodicity < 0.35, "periodicity {}", mid.periodicity);
    }

    #[test]
    fn silence_is_floor() {
        let f = analyse(&vec![0.0; 1600]);
        assert_eq!(f.len(), 10);
        assert!(
            f.iter()
                .all(|x| x.speech_db == FLOOR_DB && x.periodicity == 0.0)
        );
    }
}
