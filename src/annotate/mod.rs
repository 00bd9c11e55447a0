//! Tone and pace per utterance, and the language markers of active
//! listening: the building blocks of the report's annotations.
//!
//! Each file is one measurement, written as pure functions (or a small
//! streaming object) over data the earlier stages already produce:
//!
//! * [`pitch`]: a YIN pitch tracker on the 10 ms frame grid (16 kHz mono),
//!   streaming or offline, with summaries (median Hz, variability in
//!   semitones);
//! * [`loudness`]: per-frame and per-utterance level in dBFS, a speaker's
//!   baseline, and the "raised voice" and "monotone" flags;
//! * [`pace`]: words per minute and articulation rate from word timings,
//!   pauses inside an utterance, and an acoustic syllable rate that needs no
//!   transcript;
//! * [`markers`]: open and closed questions, empathy, paraphrase, fillers,
//!   frustration… found in an utterance's text with a replaceable lexicon
//!   (`config/lexicon.toml`), each with the phrase that matched;
//! * [`aggregate`]: per-speaker figures over the per-utterance results (pace
//!   over time, pace mismatch, fillers per minute, share of open questions).
//!
//! Nothing here knows about threads, files of audio or the report layout;
//! the pipeline calls these functions per utterance and the report copies
//! the results. Time is [`crate::time::Time`] inside; seconds only appear in
//! derived rates (words per minute, syllables per second).

pub mod aggregate;
pub mod call;
pub mod loudness;
pub mod markers;
pub mod pace;
pub mod pitch;
pub mod tap;

pub use markers::{DEFAULT_LEXICON, Lexicon, Marker, MarkerCounts, MarkerKind, TextMarkers};
pub use pitch::{PitchFrame, PitchSummary, PitchTracker};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Every threshold of the annotations, for an `[annotate]` table of the
/// configuration file. Omitted keys keep their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnnotateConfig {
    /// The pitch tracker.
    pub pitch: pitch::PitchConfig,
    /// Raised voice and monotone.
    pub prosody: loudness::ProsodyConfig,
    /// Pauses and rates from word timings.
    pub pace: pace::PaceConfig,
    /// The acoustic syllable rate.
    pub syllables: pace::SyllableConfig,
    /// Per-speaker comparisons.
    pub aggregate: aggregate::AggregateConfig,
    /// In the pipeline, pitch is measured on every `pitch_stride`-th 10 ms
    /// frame (default 2: a value every 20 ms of voiced speech). An
    /// utterance's median and spread from 50 values a second are as good as
    /// from 100, and YIN is most of the cost of the annotations: halving
    /// it keeps them within their budget of a tenth of the analysis time.
    pub pitch_stride: u32,
}

impl Default for AnnotateConfig {
    fn default() -> Self {
        AnnotateConfig {
            pitch: pitch::PitchConfig::default(),
            prosody: loudness::ProsodyConfig::default(),
            pace: pace::PaceConfig::default(),
            syllables: pace::SyllableConfig::default(),
            aggregate: aggregate::AggregateConfig::default(),
            pitch_stride: 2,
        }
    }
}

impl AnnotateConfig {
    /// Checks every part that has constraints.
    pub fn validate(&self) -> Result<(), AnnotateError> {
        self.pitch.validate()?;
        if !(1..=10).contains(&self.pitch_stride) {
            return Err(AnnotateError::InvalidConfig {
                name: "pitch_stride",
                value: self.pitch_stride.to_string(),
                reason: "must be within 1..=10 frames",
            });
        }
        self.syllables.validate()
    }
}

/// Everything that can go wrong in the annotations.
///
/// All of these are about inputs a user controls (a lexicon file, a
/// configuration): they are recoverable by fixing the input, and the
/// pipeline should report them before it starts. Per-frame and
/// per-utterance computations never fail; where there is nothing to
/// measure they return `None`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnnotateError {
    /// A lexicon file could not be read.
    #[error("cannot read lexicon {path}: {source}")]
    LexiconIo {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A lexicon is not valid TOML, or has unknown keys.
    #[error("invalid lexicon {origin}: {message}")]
    LexiconParse {
        /// The file, or `built-in` for the embedded default.
        origin: String,
        /// The parser's message, on one line.
        message: String,
    },
    /// A lexicon entry cannot be used as a pattern.
    #[error("invalid lexicon entry {pattern:?} in [{section}]: {reason}")]
    LexiconPattern {
        /// The table the entry is in.
        section: String,
        /// The entry as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration value is out of its range.
    #[error("invalid annotation setting {name} = {value}: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// The valid range.
        reason: &'static str,
    },
}

/// The median of `values` (sorted in place); `None` when empty. The middle
/// two are averaged for an even count.
pub(crate) fn median_in_place(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_through_toml() {
        let c = AnnotateConfig::default();
        c.validate().unwrap();
        let text = toml::to_string(&c).unwrap();
        assert_eq!(toml::from_str::<AnnotateConfig>(&text).unwrap(), c);
        let partial: AnnotateConfig = toml::from_str("[prosody]\nraised_db = 8.0\n").unwrap();
        assert_eq!(partial.prosody.raised_db, 8.0);
        assert_eq!(partial.pitch, pitch::PitchConfig::default());
        assert!(toml::from_str::<AnnotateConfig>("[pitch]\nmin_hzz = 1\n").is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median_in_place(&mut []), None);
        assert_eq!(median_in_place(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median_in_place(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
