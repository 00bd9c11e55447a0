//! Loudness per frame and per utterance, a speaker's baseline, and the two
//! tone flags: *raised voice* and *monotone*.
//!
//! **Levels.** A frame's level is the RMS of its 10 ms cell with the DC
//! removed, in dBFS ([`cell_level_db`]; the same value as
//! [`crate::dsp::features::FrameFeatures::level_db`], so the pipeline need
//! not compute it twice). An utterance's level is the *energy* mean of the
//! levels of its speech (or voiced) frames, `10·log10(mean(10^(L/10)))`:
//! loud syllables dominate, as they do for a listener, and pauses inside the
//! utterance do not pull it down.
//!
//! **Baseline.** A speaker's baseline is the median over their utterances
//! of the utterance level and of the pitch variability (the latter over
//! utterances with at least [`ProsodyConfig::min_voiced_frames`] voiced
//! frames). Medians, so that the few utterances we want to flag do not move
//! the reference. With fewer than [`ProsodyConfig::min_utterances`] usable
//! utterances there is no baseline and nothing is flagged relative to it.
//!
//! **Raised voice**: the utterance level is at least
//! [`ProsodyConfig::raised_db`] (6 dB: twice the amplitude) above the
//! speaker's baseline. Relative to the same speaker on
//! the same channel, so microphone gain and distance cancel out.
//!
//! **Monotone**: the utterance has at least
//! [`ProsodyConfig::min_voiced_frames`] voiced frames (half a second: a
//! "yes" has no melody to judge), its pitch variability is at most
//! [`ProsodyConfig::monotone_max_st`] semitones (1.5; conversational speech
//! varies by 2–4 semitones, flat reading by about 1), *and* at most
//! [`ProsodyConfig::monotone_ratio`] (0.6) of the speaker's baseline
//! variability. The absolute cap keeps an expressive speaker's ordinary
//! utterance from being flagged because their baseline is very lively; the
//! relative condition makes the flag mean "flatter than this speaker
//! usually is". A speaker who is flat throughout is not flagged utterance
//! by utterance: their low baseline shows in the speaker summary
//! ([`SpeakerBaseline::pitch_sd_st`]).

use super::median_in_place;
use super::pitch::PitchSummary;
use crate::dsp::features::{FLOOR_DB, db};
use crate::time::HOP;
use serde::{Deserialize, Serialize};

/// RMS level of one cell (any length), DC removed, dBFS; the floor
/// ([`FLOOR_DB`]) for an empty or silent cell.
pub fn cell_level_db(cell: &[f32]) -> f32 {
    if cell.is_empty() {
        return FLOOR_DB;
    }
    let n = cell.len() as f64;
    let mean = cell.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let ms = cell
        .iter()
        .map(|&x| {
            let d = f64::from(x) - mean;
            d * d
        })
        .sum::<f64>()
        / n;
    db(ms as f32)
}

/// Appends the level of every 10 ms cell of `samples` (16 kHz) to `out`:
/// `ceil(len / HOP)` values, the last one over the partial cell.
pub fn frame_levels_db(samples: &[f32], out: &mut Vec<f32>) {
    out.extend(samples.chunks(HOP as usize).map(cell_level_db));
}

/// The energy mean of levels in dB: `10·log10(mean(10^(L/10)))`; `None`
/// without any level.
pub fn energy_mean_db<I: IntoIterator<Item = f32>>(levels_db: I) -> Option<f32> {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for l in levels_db {
        sum += 10f64.powf(f64::from(l) / 10.0);
        n += 1;
    }
    (n > 0).then(|| db((sum / n as f64) as f32))
}

/// An utterance's level: the energy mean of the levels of the frames where
/// `mask` is true (speech or voiced frames; a shorter mask leaves the
/// remaining frames out). `None` if no frame is selected.
pub fn utterance_level_db(levels_db: &[f32], mask: &[bool]) -> Option<f32> {
    energy_mean_db(
        levels_db
            .iter()
            .zip(mask)
            .filter(|(_, m)| **m)
            .map(|(&l, _)| l),
    )
}

/// Thresholds of the tone flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProsodyConfig {
    /// Raised voice: utterance level at least this far above the speaker's
    /// baseline, dB (6).
    pub raised_db: f64,
    /// Monotone: pitch variability at most this, semitones (1.5).
    pub monotone_max_st: f64,
    /// Monotone: and at most this fraction of the speaker's baseline
    /// variability (0.6).
    pub monotone_ratio: f64,
    /// Utterances with fewer voiced frames are not judged for monotony nor
    /// used for the pitch baseline (50 frames = 0.5 s).
    pub min_voiced_frames: usize,
    /// A baseline needs at least this many usable utterances (3).
    pub min_utterances: usize,
}

impl Default for ProsodyConfig {
    fn default() -> Self {
        ProsodyConfig {
            raised_db: 6.0,
            monotone_max_st: 1.5,
            monotone_ratio: 0.6,
            min_voiced_frames: 50,
            min_utterances: 3,
        }
    }
}

/// What the tone flags need to know about one utterance.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UtteranceProsody {
    /// Utterance level, dBFS ([`utterance_level_db`]).
    pub level_db: Option<f32>,
    /// Pitch summary of its voiced frames.
    pub pitch: Option<PitchSummary>,
}

/// A speaker's usual level and melody.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SpeakerBaseline {
    /// Median utterance level, dBFS (`None`: too few utterances).
    pub level_db: Option<f64>,
    /// Median pitch variability of the utterances with enough voicing,
    /// semitones (`None`: too few).
    pub pitch_sd_st: Option<f64>,
    /// Median of those utterances' median pitch, Hz.
    pub median_hz: Option<f64>,
    /// Utterances that had a level.
    pub utterances: usize,
}

impl SpeakerBaseline {
    /// The baseline of one speaker from all their utterances.
    pub fn from_utterances(utts: &[UtteranceProsody], cfg: &ProsodyConfig) -> SpeakerBaseline {
        let mut levels: Vec<f64> = utts
            .iter()
            .filter_map(|u| u.level_db.map(f64::from))
            .collect();
        let pitched: Vec<&PitchSummary> = utts
            .iter()
            .filter_map(|u| u.pitch.as_ref())
            .filter(|p| p.voiced_frames >= cfg.min_voiced_frames)
            .collect();
        let mut sds: Vec<f64> = pitched.iter().map(|p| p.sd_semitones).collect();
        let mut hz: Vec<f64> = pitched.iter().map(|p| p.median_hz).collect();
        let enough = |n: usize| n >= cfg.min_utterances.max(1);
        SpeakerBaseline {
            utterances: levels.len(),
            level_db: if enough(levels.len()) {
                median_in_place(&mut levels)
            } else {
                None
            },
            pitch_sd_st: if enough(sds.len()) {
                median_in_place(&mut sds)
            } else {
                None
            },
            median_hz: if enough(hz.len()) {
                median_in_place(&mut hz)
            } else {
                None
            },
        }
    }
}

/// The tone flags of one utterance, with the figures behind them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProsodyFlags {
    /// Level above the speaker's baseline, dB.
    pub above_baseline_db: Option<f64>,
    /// Raised voice (`None`: no level or no baseline).
    pub raised_voice: Option<bool>,
    /// Pitch variability over the speaker's baseline variability.
    pub pitch_sd_ratio: Option<f64>,
    /// Monotone (`None`: too little voicing or no baseline).
    pub monotone: Option<bool>,
}

/// Judges one utterance against its speaker's baseline.
pub fn flags(u: &UtteranceProsody, base: &SpeakerBaseline, cfg: &ProsodyConfig) -> ProsodyFlags {
    let above = u.level_db.zip(base.level_db).map(|(l, b)| f64::from(l) - b);
    let pitch = u.pitch.filter(|p| p.voiced_frames >= cfg.min_voiced_frames);
    let ratio = pitch
        .zip(base.pitch_sd_st)
        .filter(|(_, b)| *b > 0.0)
        .map(|(p, b)| p.sd_semitones / b);
    let monotone = pitch
        .zip(ratio)
        .map(|(p, r)| p.sd_semitones <= cfg.monotone_max_st && r <= cfg.monotone_ratio);
    ProsodyFlags {
        above_baseline_db: above,
        raised_voice: above.map(|a| a >= cfg.raised_db),
        pitch_sd_ratio: ratio,
        monotone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(amp: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * 400.0 * i as f32 / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn levels_are_dbfs_without_dc() {
        // A sine of amplitude 0.5 is −9.03 dBFS; a DC offset does not count.
        let x: Vec<f32> = sine(0.5, 1600).iter().map(|v| v + 0.3).collect();
        let mut levels = Vec::new();
        frame_levels_db(&x, &mut levels);
        assert_eq!(levels.len(), 10);
        for l in &levels {
            assert!((l + 9.03).abs() < 0.05, "{l}");
        }
        let mut one = Vec::new();
        frame_levels_db(&x[..170], &mut one);
        assert_eq!(one.len(), 2);
        assert_eq!(cell_level_db(&[]), FLOOR_DB);
        assert_eq!(cell_level_db(&[0.2; 160]), FLOOR_DB);
    }

    #[test]
    fn utterance_level_is_the_energy_mean_of_speech_frames() {
        // Two frames at −20 dB and −30 dB: energy mean 10·log10((0.01 +
        // 0.001)/2) = −22.6 dB; a silent frame outside the mask is ignored.
        let levels = [-20.0, -30.0, -120.0];
        let l = utterance_level_db(&levels, &[true, true, false]).unwrap();
        assert!((l + 22.596).abs() < 0.01, "{l}");
        assert!(utterance_level_db(&levels, &[false; 3]).is_none());
        assert!(energy_mean_db(std::iter::empty()).is_none());
    }

    fn utt(level: f32, sd: f64, voiced: usize) -> UtteranceProsody {
        UtteranceProsody {
            level_db: Some(level),
            pitch: Some(PitchSummary {
                voiced_frames: voiced,
                median_hz: 120.0,
                sd_semitones: sd,
            }),
        }
    }

    #[test]
    fn raised_voice_is_relative_to_the_speaker() {
        let cfg = ProsodyConfig::default();
        let utts = [
            utt(-30.0, 3.0, 100),
            utt(-31.0, 2.5, 100),
            utt(-29.0, 3.5, 100),
            utt(-23.0, 3.0, 100),
            utt(-24.5, 3.0, 100),
        ];
        let base = SpeakerBaseline::from_utterances(&utts, &cfg);
        assert_eq!(base.level_db, Some(-29.0));
        let f: Vec<Option<bool>> = utts
            .iter()
            .map(|u| flags(u, &base, &cfg).raised_voice)
            .collect();
        assert_eq!(
            f,
            [
                Some(false),
                Some(false),
                Some(false),
                Some(true),
                Some(false)
            ]
        );
        // Too few utterances: no baseline, no flag.
        let few = SpeakerBaseline::from_utterances(&utts[..2], &cfg);
        assert_eq!(few.level_db, None);
        assert_eq!(flags(&utts[0], &few, &cfg).raised_voice, None);
    }

    #[test]
    fn monotone_needs_flat_pitch_and_flatter_than_usual() {
        let cfg = ProsodyConfig::default();
        let utts = [
            utt(-30.0, 3.0, 100),
            utt(-30.0, 2.8, 100),
            utt(-30.0, 3.2, 100),
            utt(-30.0, 1.2, 100), // flat and well below 3.0 → monotone
            utt(-30.0, 1.9, 100), // below baseline but not flat enough
            utt(-30.0, 0.5, 20),  // too short to judge
        ];
        let base = SpeakerBaseline::from_utterances(&utts, &cfg);
        assert_eq!(base.pitch_sd_st, Some(2.8));
        let m: Vec<Option<bool>> = utts
            .iter()
            .map(|u| flags(u, &base, &cfg).monotone)
            .collect();
        assert_eq!(
            m,
            [
                Some(false),
                Some(false),
                Some(false),
                Some(true),
                Some(false),
                None
            ]
        );
        // A speaker flat throughout: nothing flagged per utterance.
        let flat = [
            utt(-30.0, 1.0, 100),
            utt(-30.0, 1.1, 100),
            utt(-30.0, 0.9, 100),
        ];
        let b = SpeakerBaseline::from_utterances(&flat, &cfg);
        assert!(
            flat.iter()
                .all(|u| flags(u, &b, &cfg).monotone == Some(false))
        );
        assert_eq!(b.pitch_sd_st, Some(1.0));
    }
}
