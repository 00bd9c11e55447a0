//! The voice's pitch as a speaker cue.
//!
//! Cepstra describe the vocal tract and the line; they say little about
//! the voice's fundamental frequency, which is the plainest difference
//! between most pairs of speakers (a man around 100–130 Hz, a woman around
//! 180–250 Hz; two men often 20 % apart). Pitch is kept beside the cepstra
//! rather than appended to them: a continuous pitch track in the mixtures
//! made the background model spend components on intonation, and grouping
//! got worse on the development set (frames right after clustering: 87 % →
//! 83 %). Instead it enters twice, as its own terms:
//!
//! - grouping: the similarity of two chunks loses `pitch_cluster_weight`
//!   per octave between their median pitches;
//! - resegmentation: each speaker has a pitch model (median and spread of
//!   their voiced frames), and each voiced frame's score gains
//!   `pitch_weight` × the log-likelihood of its pitch under it. The model
//!   has a uniform floor, so that an octave error of the pitch tracker
//!   costs a bounded amount.
//!
//! Pitch is stored as one byte per frame ([`pitch_code`]): 64 steps per
//! octave, 0 for unvoiced frames.

/// Lowest pitch a [`pitch_code`] holds, Hz.
const CODE_LO_HZ: f32 = 50.0;
/// Pitch codes per octave.
const CODE_STEPS: f32 = 64.0;
/// Octaves a pitch can span (the uniform floor's range).
const RANGE_OCTAVES: f32 = 3.0;
/// Share of a speaker's voiced frames the uniform floor allows for (octave
/// errors, the other voice in an overlap).
const FLOOR_SHARE: f32 = 0.1;
/// Least spread of a speaker's pitch, octaves (a monotone voice must not
/// make a needle-sharp model).
const MIN_SPREAD: f32 = 0.06;
/// Fewest voiced frames a speaker's pitch model is estimated from.
const MIN_FRAMES: usize = 50;

/// A voice pitch in one byte: 0 for none (unvoiced), else 1 + 64 steps per
/// octave above 50 Hz (up to about 780 Hz; higher pitches saturate).
pub fn pitch_code(hz: f32) -> u8 {
    if hz.is_nan() || hz < CODE_LO_HZ || !hz.is_finite() {
        return 0;
    }
    let steps = (hz / CODE_LO_HZ).log2() * CODE_STEPS;
    (1.0 + steps.round()).min(255.0) as u8
}

/// The pitch of a non-zero [`pitch_code`], in octaves above 50 Hz.
pub fn pitch_octaves(code: u8) -> f32 {
    f32::from(code.saturating_sub(1)) / CODE_STEPS
}

/// Counts of pitch codes: medians and spreads without sorting.
#[derive(Clone, Debug)]
pub struct Histogram {
    count: [u32; 256],
    voiced: u32,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            count: [0; 256],
            voiced: 0,
        }
    }
}

impl Histogram {
    /// Counts one frame's code (unvoiced frames are not counted).
    pub fn add(&mut self, code: u8) {
        if code != 0 {
            self.count[usize::from(code)] += 1;
            self.voiced += 1;
        }
    }

    /// Voiced frames counted.
    pub fn voiced(&self) -> usize {
        self.voiced as usize
    }

    /// The code at quantile `q` (0..1) of the voiced frames, if any.
    fn quantile(&self, q: f32) -> Option<u8> {
        if self.voiced == 0 {
            return None;
        }
        let want = ((self.voiced as f32 * q).floor() as u32).min(self.voiced - 1);
        let mut seen = 0;
        for (code, &c) in self.count.iter().enumerate().skip(1) {
            seen += c;
            if seen > want {
                return u8::try_from(code).ok();
            }
        }
        None
    }

    /// Median pitch in octaves, when at least `min` frames are voiced.
    pub fn median(&self, min: usize) -> Option<f32> {
        if self.voiced() < min.max(1) {
            return None;
        }
        self.quantile(0.5).map(pitch_octaves)
    }
}

/// A speaker's pitch: a Gaussian in octaves (median, and the interquartile
/// range as spread) over a uniform floor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PitchModel {
    mean: f32,
    sd: f32,
}

impl PitchModel {
    /// The model of the frames counted in `h`; `None` with fewer than 50
    /// voiced frames.
    pub fn fit(h: &Histogram) -> Option<PitchModel> {
        if h.voiced() < MIN_FRAMES {
            return None;
        }
        let (q1, q2, q3) = (h.quantile(0.25)?, h.quantile(0.5)?, h.quantile(0.75)?);
        // For a Gaussian the interquartile range is 1.349 σ.
        let iqr = pitch_octaves(q3) - pitch_octaves(q1);
        Some(PitchModel {
            mean: pitch_octaves(q2),
            sd: (iqr / 1.349).max(MIN_SPREAD),
        })
    }

    /// Log-likelihood of a pitch (octaves).
    pub fn log_lik(&self, x: f32) -> f32 {
        let z = (x - self.mean) / self.sd;
        let gauss = (-0.5 * z * z).exp() / (self.sd * (2.0 * std::f32::consts::PI).sqrt());
        ((1.0 - FLOOR_SHARE) * gauss + FLOOR_SHARE / RANGE_OCTAVES).ln()
    }
}

/// A decoder state's pitch score per code: `weight` × the log-likelihood
/// under the state's voices, relative to a flat pitch distribution; 0 for
/// unvoiced frames and for states with no model. An overlap state has two
/// voices, and the tracker follows either: their models are mixed half and
/// half (taking the better of the two instead would make an overlap at
/// least as likely as either voice alone, on every voiced frame).
pub fn score_table(voices: &[Option<PitchModel>], weight: f32) -> [f32; 256] {
    let mut t = [0.0f32; 256];
    if weight == 0.0 || voices.iter().any(Option::is_none) {
        return t;
    }
    let flat = (1.0 / RANGE_OCTAVES).ln();
    for (code, v) in t.iter_mut().enumerate().skip(1) {
        let x = pitch_octaves(code as u8);
        let mixed = voices
            .iter()
            .flatten()
            .map(|m| m.log_lik(x).exp())
            .sum::<f32>()
            / voices.len() as f32;
        *v = weight * (mixed.ln() - flat);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_to_within_a_step() {
        assert_eq!(pitch_code(0.0), 0);
        assert_eq!(pitch_code(f32::NAN), 0);
        assert_eq!(pitch_code(40.0), 0);
        assert_eq!(pitch_code(50.0), 1);
        assert_eq!(pitch_code(100.0), 65);
        assert_eq!(pitch_code(5000.0), 255);
        for hz in [80.0f32, 117.0, 203.0, 390.0] {
            let back = 50.0 * 2f32.powf(pitch_octaves(pitch_code(hz)));
            assert!(
                (back / hz).log2().abs() <= 0.5 / 64.0 + 1e-4,
                "{hz} -> {back}"
            );
        }
    }

    #[test]
    fn a_model_scores_its_own_voice_above_another() {
        let mut man = Histogram::default();
        let mut woman = Histogram::default();
        for i in 0..200 {
            let j = (i % 20) as f32 - 10.0;
            man.add(pitch_code(110.0 + j));
            woman.add(pitch_code(210.0 + 2.0 * j));
            man.add(0);
        }
        assert_eq!(man.voiced(), 200);
        let m = PitchModel::fit(&man).unwrap();
        let w = PitchModel::fit(&woman).unwrap();
        let at = |hz: f32| pitch_octaves(pitch_code(hz));
        assert!(m.log_lik(at(112.0)) > w.log_lik(at(112.0)));
        assert!(w.log_lik(at(205.0)) > m.log_lik(at(205.0)));
        // An octave error costs a bounded amount.
        let floor = (0.1f32 / 3.0).ln();
        assert!(m.log_lik(at(440.0)) >= floor - 1e-4);
        let median = man.median(10).unwrap();
        assert!((50.0 * 2f32.powf(median) - 110.0).abs() < 2.0);
        assert_eq!(Histogram::default().median(1), None);
    }

    #[test]
    fn tables_are_zero_for_unvoiced_frames_and_unknown_voices() {
        let mut h = Histogram::default();
        (0..100).for_each(|_| h.add(pitch_code(120.0)));
        let m = PitchModel::fit(&h);
        assert!(m.is_some());
        let t = score_table(&[m], 1.0);
        assert_eq!(t[0], 0.0);
        assert!(t[usize::from(pitch_code(120.0))] > 0.0);
        assert!(t[usize::from(pitch_code(240.0))] < 0.0);
        assert_eq!(score_table(&[m, None], 1.0), [0.0; 256]);
        assert!(PitchModel::fit(&Histogram::default()).is_none());
    }
}
