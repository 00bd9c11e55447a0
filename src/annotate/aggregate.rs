//! Per-speaker figures from the per-utterance annotations: pure functions
//! over a slice of [`UtteranceAnnotations`] (one speaker's, or everyone's
//! filtered with [`of_speaker`]).
//!
//! Rates are pooled, not averaged: a speaker's words per minute is all
//! their words over all their speaking time, so a two-word "yes, sure" does
//! not weigh as much as a minute-long explanation.

use super::loudness::{self, ProsodyConfig, ProsodyFlags, SpeakerBaseline, UtteranceProsody};
use super::markers::MarkerCounts;
use super::pace::{AcousticPace, WordPace};
use super::pitch::PitchSummary;
use crate::time::Time;
use crate::timeline::Span;
use serde::{Deserialize, Serialize};

/// Everything the annotations found in one utterance.
#[derive(Clone, Debug, PartialEq)]
pub struct UtteranceAnnotations {
    /// Speaker id.
    pub speaker: String,
    /// Where the utterance is.
    pub span: Span,
    /// Level and pitch.
    pub prosody: UtteranceProsody,
    /// Pace from word timings (with a transcript).
    pub word_pace: Option<WordPace>,
    /// Pace from the sound.
    pub acoustic_pace: Option<AcousticPace>,
    /// Language markers (with a transcript).
    pub markers: Option<MarkerCounts>,
}

impl Default for UtteranceAnnotations {
    /// An empty utterance at time zero with nothing measured.
    fn default() -> Self {
        UtteranceAnnotations {
            speaker: String::new(),
            span: Span::new(Time::ZERO, Time::ZERO),
            prosody: UtteranceProsody::default(),
            word_pace: None,
            acoustic_pace: None,
            markers: None,
        }
    }
}

/// Thresholds of the per-speaker comparisons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AggregateConfig {
    /// Two speakers' paces mismatch when the faster is at least this many
    /// times the slower (1.25). A heuristic: people in conversation drift
    /// towards each other's rate (speech-rate accommodation), and a gap of
    /// a quarter is well beyond the few percent a listener adjusts by.
    pub mismatch_ratio: f64,
    /// Width of the windows of [`pace_over_time`], s (60).
    pub window_s: f64,
}

impl Default for AggregateConfig {
    fn default() -> Self {
        AggregateConfig {
            mismatch_ratio: 1.25,
            window_s: 60.0,
        }
    }
}

/// The utterances of one speaker.
pub fn of_speaker<'a>(
    utts: &'a [UtteranceAnnotations],
    speaker: &'a str,
) -> impl Iterator<Item = &'a UtteranceAnnotations> {
    utts.iter().filter(move |u| u.speaker == speaker)
}

/// Where a pace figure comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaceSource {
    /// Word timings of the transcript.
    Words,
    /// Syllable nuclei in the sound (an estimate).
    Acoustic,
}

/// A speaker's pooled pace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpeakerPace {
    /// Where it comes from: word timings when every utterance counted had
    /// them, else the acoustic estimate.
    pub source: PaceSource,
    /// Utterances counted.
    pub utterances: usize,
    /// Words (for [`PaceSource::Acoustic`], syllables ÷ syllables per word).
    pub words: f64,
    /// Speaking time (pauses excluded).
    pub speaking_time: Time,
    /// Words per minute of speaking time (articulation rate).
    pub wpm: f64,
}

/// A speaker's pace over their utterances: words over speaking time from
/// the word timings where every utterance has them, otherwise the acoustic
/// estimate (where every utterance has one); `None` if neither is complete
/// or there is no speaking time. Mixing the two within one figure would
/// compare different things.
pub fn speaker_pace<'a, I>(utts: I) -> Option<SpeakerPace>
where
    I: IntoIterator<Item = &'a UtteranceAnnotations>,
{
    let utts: Vec<&UtteranceAnnotations> = utts.into_iter().collect();
    if utts.is_empty() {
        return None;
    }
    let pooled = |source, parts: Vec<(f64, Time)>| {
        let words: f64 = parts.iter().map(|p| p.0).sum();
        let t: Time = parts.iter().map(|p| p.1).sum();
        (t > Time::ZERO).then(|| SpeakerPace {
            source,
            utterances: parts.len(),
            words,
            speaking_time: t,
            wpm: words * 60.0 / t.secs(),
        })
    };
    if utts.iter().all(|u| u.word_pace.is_some()) {
        let parts = utts
            .iter()
            .filter_map(|u| u.word_pace.as_ref())
            .map(|p| (p.words as f64, p.speaking_time))
            .collect();
        return pooled(PaceSource::Words, parts);
    }
    if utts.iter().all(|u| u.acoustic_pace.is_some()) {
        let parts = utts
            .iter()
            .filter_map(|u| u.acoustic_pace.as_ref())
            .map(|p| (p.wpm * p.speaking_time.secs() / 60.0, p.speaking_time))
            .collect();
        return pooled(PaceSource::Acoustic, parts);
    }
    None
}

/// A speaker's pace in one window of the call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PacePoint {
    /// The window.
    pub window: Span,
    /// The pace of the utterances whose middle falls in it (`None` when
    /// there are none, or their pace is unknown).
    pub pace: Option<SpeakerPace>,
}

/// A speaker's pace window by window (`cfg.window_s` wide, from time zero to
/// the end of the last utterance): does it speed up or slow down? Each
/// utterance counts in the window that holds its middle.
pub fn pace_over_time<'a, I>(utts: I, cfg: &AggregateConfig) -> Vec<PacePoint>
where
    I: IntoIterator<Item = &'a UtteranceAnnotations>,
{
    let utts: Vec<&UtteranceAnnotations> = utts.into_iter().collect();
    let w = Time::from_secs(cfg.window_s).max(Time::FRAME);
    let Some(end) = utts.iter().map(|u| u.span.end).max() else {
        return Vec::new();
    };
    let n = end.0.div_euclid(w.0) + 1;
    (0..n)
        .map(|k| {
            let window = Span::new(Time(k * w.0), Time((k + 1) * w.0));
            let inside = utts.iter().copied().filter(|u| {
                let mid = Time((u.span.start.0 + u.span.end.0).div_euclid(2));
                window.contains(mid)
            });
            PacePoint {
                window,
                pace: speaker_pace(inside),
            }
        })
        .collect()
}

/// How two speakers' paces compare.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaceMismatch {
    /// First speaker's pace minus the second's, words per minute.
    pub difference_wpm: f64,
    /// First speaker's pace over the second's.
    pub ratio: f64,
    /// The faster is at least [`AggregateConfig::mismatch_ratio`] times the
    /// slower.
    pub mismatched: bool,
}

/// Compares two paces (words per minute, e.g. agent and customer); `None`
/// unless both are positive.
pub fn pace_mismatch(a_wpm: f64, b_wpm: f64, cfg: &AggregateConfig) -> Option<PaceMismatch> {
    if !(a_wpm > 0.0 && b_wpm > 0.0) {
        return None;
    }
    let ratio = a_wpm / b_wpm;
    Some(PaceMismatch {
        difference_wpm: a_wpm - b_wpm,
        ratio,
        mismatched: ratio.max(1.0 / ratio) >= cfg.mismatch_ratio,
    })
}

/// All markers of the utterances that have them, added up.
pub fn marker_totals<'a, I>(utts: I) -> MarkerCounts
where
    I: IntoIterator<Item = &'a UtteranceAnnotations>,
{
    let mut total = MarkerCounts::default();
    for m in utts.into_iter().filter_map(|u| u.markers) {
        total += m;
    }
    total
}

/// Fillers per minute of speaking time over the utterances that have a
/// transcript (speaking time from their word timings, or their span without
/// them); `None` without any such time.
pub fn fillers_per_minute<'a, I>(utts: I) -> Option<f64>
where
    I: IntoIterator<Item = &'a UtteranceAnnotations>,
{
    let mut fillers = 0usize;
    let mut t = Time::ZERO;
    for u in utts {
        let Some(m) = u.markers else { continue };
        fillers += m.filler;
        t += u
            .word_pace
            .as_ref()
            .map_or(u.span.duration(), |p| p.speaking_time);
    }
    (t > Time::ZERO).then(|| fillers as f64 * 60.0 / t.secs())
}

/// Questions asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuestionStats {
    /// Open questions.
    pub open: usize,
    /// Closed questions.
    pub closed: usize,
    /// Open over all questions (`None` without questions).
    pub open_share: Option<f64>,
}

/// A speaker's questions: how many, and the share that is open.
pub fn question_stats<'a, I>(utts: I) -> QuestionStats
where
    I: IntoIterator<Item = &'a UtteranceAnnotations>,
{
    let m = marker_totals(utts);
    let all = m.questions();
    QuestionStats {
        open: m.open_question,
        closed: m.closed_question,
        open_share: (all > 0).then(|| m.open_question as f64 / all as f64),
    }
}

/// A speaker's tone over the call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpeakerProsody {
    /// Their baseline (medians over utterances).
    pub baseline: SpeakerBaseline,
    /// Pitch over all their voiced frames, approximated from the utterance
    /// summaries ([`pool_pitch`]).
    pub pitch: Option<PitchSummary>,
    /// The flags of each utterance, in the order given.
    pub flags: Vec<ProsodyFlags>,
    /// Utterances with a raised voice (indices into that order).
    pub raised: Vec<usize>,
    /// Monotone utterances (indices).
    pub monotone: Vec<usize>,
}

/// Baseline, pooled pitch and flags of one speaker's utterances.
pub fn speaker_prosody<'a, I>(utts: I, cfg: &ProsodyConfig) -> SpeakerProsody
where
    I: IntoIterator<Item = &'a UtteranceAnnotations>,
{
    let p: Vec<UtteranceProsody> = utts.into_iter().map(|u| u.prosody).collect();
    let baseline = SpeakerBaseline::from_utterances(&p, cfg);
    let flags: Vec<ProsodyFlags> = p
        .iter()
        .map(|u| loudness::flags(u, &baseline, cfg))
        .collect();
    let pick = |f: fn(&ProsodyFlags) -> Option<bool>| {
        flags
            .iter()
            .enumerate()
            .filter(|(_, x)| f(x) == Some(true))
            .map(|(i, _)| i)
            .collect()
    };
    SpeakerProsody {
        raised: pick(|f| f.raised_voice),
        monotone: pick(|f| f.monotone),
        pitch: pool_pitch(p.iter().filter_map(|u| u.pitch)),
        baseline,
        flags,
    }
}

/// Combines utterance pitch summaries into one, as if over all their
/// voiced frames: the median is the frame-weighted median of the utterance
/// medians; the variability is the pooled standard deviation in semitones
/// (within-utterance variance plus the spread of the utterance medians,
/// each utterance weighted by its frames, its mean taken as its median).
/// Exact pooling needs the frames: [`PitchSummary::from_hz`] over them.
pub fn pool_pitch<I: IntoIterator<Item = PitchSummary>>(summaries: I) -> Option<PitchSummary> {
    let mut v: Vec<PitchSummary> = summaries
        .into_iter()
        .filter(|s| s.voiced_frames > 0 && s.median_hz > 0.0)
        .collect();
    let n: usize = v.iter().map(|s| s.voiced_frames).sum();
    if n == 0 {
        return None;
    }
    v.sort_unstable_by(|a, b| a.median_hz.total_cmp(&b.median_hz));
    let half = n as f64 / 2.0;
    let mut acc = 0.0;
    let mut median = v[v.len() - 1].median_hz;
    for s in &v {
        acc += s.voiced_frames as f64;
        if acc >= half {
            median = s.median_hz;
            break;
        }
    }
    let st = |s: &PitchSummary| 12.0 * (s.median_hz / median).log2();
    let w = |s: &PitchSummary| s.voiced_frames as f64 / n as f64;
    let mean: f64 = v.iter().map(|s| w(s) * st(s)).sum();
    let var: f64 = v
        .iter()
        .map(|s| w(s) * (s.sd_semitones.powi(2) + (st(s) - mean).powi(2)))
        .sum();
    Some(PitchSummary {
        voiced_frames: n,
        median_hz: median,
        sd_semitones: var.sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotate::pace::Pauses;

    fn wp(words: usize, start: f64, end: f64, pause: f64) -> WordPace {
        let span = Span::from_secs(start, end);
        let speaking = span.duration() - Time::from_secs(pause);
        WordPace {
            words,
            span,
            speaking_time: speaking,
            wpm: words as f64 * 60.0 / span.duration().secs(),
            articulation_wpm: words as f64 * 60.0 / speaking.secs(),
            pauses: Pauses::default(),
        }
    }

    fn utt(speaker: &str, start: f64, end: f64, words: usize) -> UtteranceAnnotations {
        UtteranceAnnotations {
            speaker: speaker.into(),
            span: Span::from_secs(start, end),
            word_pace: Some(wp(words, start, end, 0.0)),
            ..UtteranceAnnotations::default()
        }
    }

    #[test]
    fn pace_is_pooled_over_speaking_time() {
        // 30 words in 10 s and 2 words in 2 s: 32 words in 12 s = 160 wpm
        // (the mean of the two rates would be 120).
        let u = [utt("a", 0.0, 10.0, 30), utt("a", 20.0, 22.0, 2)];
        let p = speaker_pace(&u).unwrap();
        assert_eq!(p.source, PaceSource::Words);
        assert!((p.wpm - 160.0).abs() < 1e-9);
        assert!(speaker_pace(&u[..0]).is_none());
    }

    #[test]
    fn acoustic_pace_stands_in_only_for_a_whole_speaker() {
        let ac = AcousticPace {
            nuclei: vec![0; 26],
            speaking_time: Time::from_secs(6.0),
            syllables_per_s: 26.0 / 6.0,
            wpm: 26.0 / 6.0 * 60.0 / 1.3,
        };
        let mut u = [utt("a", 0.0, 6.0, 20), utt("a", 10.0, 16.0, 20)];
        u[1].word_pace = None;
        // Words for one, nothing for the other: no figure.
        assert!(speaker_pace(&u).is_none());
        u[0].acoustic_pace = Some(ac.clone());
        u[1].acoustic_pace = Some(ac);
        let p = speaker_pace(&u).unwrap();
        assert_eq!(p.source, PaceSource::Acoustic);
        assert!((p.wpm - 200.0).abs() < 1e-9);
        assert!((p.words - 40.0).abs() < 1e-9);
    }

    #[test]
    fn pace_over_time_by_window() {
        let u = [
            utt("a", 5.0, 15.0, 25),  // window 0
            utt("a", 50.0, 80.0, 90), // middle 65 s: window 1
            utt("a", 130.0, 140.0, 20),
        ];
        let pts = pace_over_time(&u, &AggregateConfig::default());
        assert_eq!(pts.len(), 3);
        assert!((pts[0].pace.unwrap().wpm - 150.0).abs() < 1e-9);
        assert!((pts[1].pace.unwrap().wpm - 180.0).abs() < 1e-9);
        assert!((pts[2].pace.unwrap().wpm - 120.0).abs() < 1e-9);
        assert_eq!(pts[1].window, Span::from_secs(60.0, 120.0));
        assert!(pace_over_time(&u[..0], &AggregateConfig::default()).is_empty());
    }

    #[test]
    fn mismatch_is_symmetric_in_its_flag() {
        let cfg = AggregateConfig::default();
        let m = pace_mismatch(200.0, 150.0, &cfg).unwrap();
        assert!(m.mismatched);
        assert!((m.ratio - 4.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.difference_wpm, 50.0);
        assert!(pace_mismatch(150.0, 200.0, &cfg).unwrap().mismatched);
        assert!(!pace_mismatch(160.0, 150.0, &cfg).unwrap().mismatched);
        assert!(pace_mismatch(0.0, 150.0, &cfg).is_none());
    }

    #[test]
    fn fillers_and_questions() {
        let mut u = [utt("a", 0.0, 30.0, 80), utt("a", 40.0, 70.0, 80)];
        u[0].markers = Some(MarkerCounts {
            filler: 3,
            open_question: 1,
            closed_question: 2,
            ..MarkerCounts::default()
        });
        u[1].markers = Some(MarkerCounts {
            filler: 1,
            open_question: 2,
            ..MarkerCounts::default()
        });
        assert!((fillers_per_minute(&u).unwrap() - 4.0).abs() < 1e-9);
        let q = question_stats(&u);
        assert_eq!((q.open, q.closed), (3, 2));
        assert!((q.open_share.unwrap() - 0.6).abs() < 1e-12);
        assert_eq!(question_stats(&u[..0]).open_share, None);
        assert_eq!(fillers_per_minute(&u[..0]), None);
        let both = [u[0].clone(), utt("b", 0.0, 1.0, 2)];
        assert_eq!(of_speaker(&both, "b").count(), 1);
    }

    #[test]
    fn prosody_flags_per_speaker() {
        let mk = |level: f32, sd: f64, hz: f64| UtteranceAnnotations {
            prosody: UtteranceProsody {
                level_db: Some(level),
                pitch: Some(PitchSummary {
                    voiced_frames: 100,
                    median_hz: hz,
                    sd_semitones: sd,
                }),
            },
            ..UtteranceAnnotations::default()
        };
        let u = [
            mk(-30.0, 3.0, 110.0),
            mk(-29.0, 3.0, 120.0),
            mk(-31.0, 3.0, 115.0),
            mk(-20.0, 3.0, 118.0),
            mk(-30.0, 0.8, 112.0),
        ];
        let s = speaker_prosody(&u, &ProsodyConfig::default());
        assert_eq!(s.raised, [3]);
        assert_eq!(s.monotone, [4]);
        assert_eq!(s.flags.len(), 5);
        let p = s.pitch.unwrap();
        assert_eq!(p.voiced_frames, 500);
        assert_eq!(p.median_hz, 115.0);
        assert!(p.sd_semitones > 2.5 && p.sd_semitones < 3.5, "{p:?}");
    }

    #[test]
    fn pooled_pitch_of_one_summary_is_itself() {
        let s = PitchSummary {
            voiced_frames: 40,
            median_hz: 200.0,
            sd_semitones: 2.0,
        };
        let p = pool_pitch([s]).unwrap();
        assert_eq!(p, s);
        // Two flat utterances an octave apart: sd 6 semitones around the
        // (lower, on a tie) median.
        let lo = PitchSummary {
            sd_semitones: 0.0,
            median_hz: 100.0,
            ..s
        };
        let hi = PitchSummary {
            median_hz: 200.0,
            ..lo
        };
        let p = pool_pitch([lo, hi]).unwrap();
        assert!((p.sd_semitones - 6.0).abs() < 1e-9, "{p:?}");
        assert!(pool_pitch([]).is_none());
    }
}
