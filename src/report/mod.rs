//! The per-call report: the contract other tools (and `hearken eval`) read.
//!
//! [`Report`] is the serde model of `<stem>.json`; its JSON Schema lives in
//! `schemas/report.schema.json` and every report the tests produce is
//! validated against it. Times are seconds (rounded to the millisecond) at
//! this edge only; [`Report::from_analysis`] is where integer sample time
//! becomes seconds. Sections that were not computed are absent, never
//! filled with made-up values.

pub mod csv;
pub mod html;
pub mod transcript;
mod write;

pub use write::{WriteError, write_atomic, write_atomic_with};

use crate::audio::{SourceInfo, Speaker};
use crate::conversation::{Conversation, OverlapKind};
use crate::time::{Time, round_ms};
use crate::timeline::{Annotation, Span};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the report layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: &str = "1.0";

/// The report of one call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The recording.
    pub input: Input,
    /// Who is analysed, from which channel.
    pub speakers: Vec<SpeakerOut>,
    /// Speech intervals per speaker id, `[start_s, end_s]`.
    pub speech: BTreeMap<String, Vec<[f64; 2]>>,
    /// Where two or more speakers speak at once.
    pub overlaps: Vec<[f64; 2]>,
    /// Interruptions and backchannels.
    pub interruptions: Vec<Interruption>,
    /// Silences of at least `silence.min_s`.
    pub silences: Vec<[f64; 2]>,
    /// Talk time and shares per speaker id.
    pub talk: BTreeMap<String, TalkOut>,
    /// Silence totals.
    pub silence: SilenceSummary,
    /// Overlap totals.
    pub overlap: OverlapSummary,
    /// Turns in time order.
    pub turns: Vec<TurnOut>,
    /// Further per-speaker figures.
    pub speaker_metrics: BTreeMap<String, SpeakerMetrics>,
    /// The agent's listening share against the target (agent/customer calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listening: Option<Listening>,
    /// The transcript, when transcription ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<Utterance>>,
    /// Acoustic annotations per utterance, when there is no transcript to
    /// carry them (`--no-transcribe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utterances: Option<Vec<AcousticUtterance>>,
    /// Pace per speaker id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace: Option<BTreeMap<String, PaceOut>>,
    /// Agent's pace against the customer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace_mismatch: Option<PaceMismatchOut>,
    /// Pitch and loudness per speaker id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<BTreeMap<String, ToneOut>>,
    /// Language markers per speaker id (with a transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<BTreeMap<String, LanguageOut>>,
    /// The agent's active-listening scorecard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scorecard: Option<Scorecard>,
    /// How a mono call's voice was split between speakers (diarized calls
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diarization: Option<DiarizationOut>,
    /// Problems that did not stop the analysis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `input` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The path as given.
    pub path: String,
    /// Encoding, e.g. `wav/pcm_s16`, `wav/mulaw`, `mp3`.
    pub format: String,
    /// Sample rate of the file, Hz.
    pub sample_rate: u32,
    /// Channels in the file.
    pub channels: usize,
    /// Duration, s.
    pub duration_s: f64,
}

/// One entry of `speakers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeakerOut {
    /// `agent`, `customer`, `speaker`, or a `--roles` name.
    pub id: String,
    /// Zero-based file channel.
    pub channel: usize,
    /// The speaker was found by diarizing a mono channel (absent: the
    /// speaker is the whole channel).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub diarized: bool,
}

/// `diarization` section: how the voice of a mono call was split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiarizationOut {
    /// Speakers the voice was split into.
    pub speakers: usize,
    /// How the agent was chosen (two speakers): `greeting`,
    /// `first-speaker-is-agent` or `first-speaker-is-customer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_rule: Option<String>,
    /// Speech attributed to two speakers at once, s.
    pub overlap_s: f64,
    /// The smallest gap between two speakers' median pitches, octaves
    /// (absent when a speaker has too little voiced speech to tell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch_gap_octaves: Option<f64>,
    /// The split may not follow the voices: the gap is under
    /// `diarize.min_pitch_gap`. Per-speaker figures (talk share,
    /// interruptions) of such calls are unreliable; a warning says so.
    #[serde(default)]
    pub uncertain: bool,
}

/// One entry of `interruptions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interruption {
    /// When the interrupter started, s.
    pub at_s: f64,
    /// Who cut in.
    pub interrupter: String,
    /// Who was speaking.
    pub interrupted: String,
    /// Simultaneous speech, s.
    pub overlap_s: f64,
    /// `interruption` or `backchannel`.
    pub kind: OverlapKind,
    /// The interrupter's utterance, `[start_s, end_s]`.
    pub utterance: [f64; 2],
}

/// One entry of `talk`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TalkOut {
    /// Talk time, s.
    pub time_s: f64,
    /// Talk time over all speakers' talk time.
    pub share_of_speech: f64,
    /// Talk time over the call duration.
    pub share_of_call: f64,
}

/// `silence` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SilenceSummary {
    /// Threshold of `silences`, s.
    pub min_s: f64,
    /// Number of silences.
    pub count: usize,
    /// Their total, s.
    pub total_s: f64,
    /// Their total over the call duration.
    pub share_of_call: f64,
    /// Threshold of long silences, s.
    pub long_min_s: f64,
    /// Long silences, `[start_s, end_s]`.
    pub long: Vec<[f64; 2]>,
    /// Their total, s.
    pub long_total_s: f64,
}

/// `overlap` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverlapSummary {
    /// Number of overlap segments.
    pub count: usize,
    /// Their total, s.
    pub total_s: f64,
    /// Their total over the call duration.
    pub share_of_call: f64,
}

/// One entry of `turns`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TurnOut {
    /// Who holds the floor.
    pub speaker: String,
    /// Start, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// Gap from the previous turn's end (negative: overlap), s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_s: Option<f64>,
}

/// One entry of `speaker_metrics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeakerMetrics {
    /// Interruptions made.
    pub interruptions_made: usize,
    /// Interruptions suffered.
    pub interruptions_suffered: usize,
    /// Backchannels given.
    pub backchannels_made: usize,
    /// Turns taken.
    pub turns: usize,
    /// Longest turn, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longest_monologue: Option<Monologue>,
    /// Response latency when taking the floor.
    pub response_latency: Latency,
}

/// A turn singled out as the longest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Monologue {
    /// Start, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// Length, s.
    pub duration_s: f64,
}

/// Response latency statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Floor transfers measured.
    pub count: usize,
    /// Median, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_s: Option<f64>,
    /// 90th percentile, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_s: Option<f64>,
}

/// `listening` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listening {
    /// Customer talk time over agent + customer talk time.
    pub agent_listening_share: f64,
    /// The target (default 0.55).
    pub target: f64,
    /// Whether the share reaches the target.
    pub meets_target: bool,
}

/// One utterance of the transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// Speaker id.
    pub speaker: String,
    /// Start, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// The words.
    pub text: String,
    /// Word timings.
    pub words: Vec<Word>,
    /// Tone and pace of the utterance.
    #[serde(flatten)]
    pub tone: UtteranceTone,
    /// Words per minute over the utterance (first word to last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpm: Option<f64>,
    /// Words per minute of speaking time (pauses excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub articulation_wpm: Option<f64>,
    /// Pauses of at least 250 ms between words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pauses: Option<PausesOut>,
    /// Language markers found (kinds, in report order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<String>,
    /// The phrases behind the markers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marker_phrases: Vec<MarkerPhrase>,
}

/// Pitch, loudness and their flags for one utterance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UtteranceTone {
    /// Median pitch of the voiced frames, Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch_median_hz: Option<f64>,
    /// Pitch variability, semitones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch_sd_semitones: Option<f64>,
    /// Energy-mean level, dBFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness_dbfs: Option<f64>,
    /// Level above the speaker's usual level, dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness_vs_baseline_db: Option<f64>,
    /// Flat melody for this speaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monotone: Option<bool>,
    /// Well above the speaker's usual level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raised_voice: Option<bool>,
    /// Syllable nuclei per second of speaking time (from the sound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syllables_per_s: Option<f64>,
}

/// An utterance annotated from its sound alone (no transcript).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcousticUtterance {
    /// Speaker id.
    pub speaker: String,
    /// Start, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// Tone and the syllable rate.
    #[serde(flatten)]
    pub tone: UtteranceTone,
    /// Words per minute estimated from the syllable rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpm_estimate: Option<f64>,
    /// Pauses (gaps of at least 250 ms between speech segments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pauses: Option<PausesOut>,
}

/// Pauses inside an utterance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PausesOut {
    /// How many.
    pub count: usize,
    /// Their total, s.
    pub total_s: f64,
    /// The longest, s.
    pub longest_s: f64,
}

/// One phrase that made a marker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkerPhrase {
    /// The marker kind.
    pub kind: String,
    /// The words that matched.
    pub phrase: String,
}

/// A speaker's pace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaceOut {
    /// `words` (word timings) or `acoustic` (syllable rate).
    pub source: String,
    /// Words per minute of speaking time.
    pub wpm: f64,
    /// Syllables per second (acoustic source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syllables_per_s: Option<f64>,
    /// Words per minute per minute of the call, `[minute_start_s, wpm]`.
    pub over_time: Vec<[f64; 2]>,
}

/// The agent's pace against the customer's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaceMismatchOut {
    /// Agent words per minute over the customer's.
    pub ratio: f64,
    /// Agent minus customer, words per minute.
    pub difference_wpm: f64,
    /// The faster is at least the configured ratio (1.25) times the slower.
    pub mismatched: bool,
}

/// A speaker's tone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToneOut {
    /// Median pitch over the call, Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch_median_hz: Option<f64>,
    /// Pitch variability over the call, semitones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch_sd_semitones: Option<f64>,
    /// Usual (median utterance) level, dBFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness_dbfs: Option<f64>,
    /// `[utterance_mid_s, median_hz]` per utterance.
    pub pitch_over_time: Vec<[f64; 2]>,
    /// Utterances flagged as raised voice.
    pub raised_voice_utterances: usize,
    /// Utterances flagged as monotone.
    pub monotone_utterances: usize,
}

/// A speaker's language markers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LanguageOut {
    /// Open questions.
    pub open_questions: usize,
    /// Closed questions.
    pub closed_questions: usize,
    /// Open over all questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_question_share: Option<f64>,
    /// Empathy statements.
    pub empathy: usize,
    /// Paraphrases and summaries.
    pub paraphrases: usize,
    /// Clarifying questions.
    pub clarifying_questions: usize,
    /// Apologies.
    pub apologies: usize,
    /// Politeness markers.
    pub politeness: usize,
    /// Fillers.
    pub fillers: usize,
    /// Fillers per minute of speaking time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fillers_per_minute: Option<f64>,
    /// Frustration cues.
    pub frustration: usize,
}

/// The active-listening scorecard of the agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// Whose scorecard (`agent`).
    pub speaker: String,
    /// Lines met over lines measured.
    pub met: usize,
    /// Lines measured.
    pub measured: usize,
    /// One line per habit.
    pub lines: Vec<ScoreLine>,
}

/// One habit of the scorecard: figure, target, verdict, evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    /// Stable id (`listening`, `interruptions`, ...).
    pub id: String,
    /// What it means, for people.
    pub label: String,
    /// The measured figure (`None` when it cannot be measured, e.g.
    /// language habits without a transcript).
    pub figure: Option<f64>,
    /// `share`, `count`, `s`.
    pub unit: String,
    /// The target.
    pub target: f64,
    /// `at_least` or `at_most`.
    pub comparison: String,
    /// Whether the figure meets the target (`None`: not measured).
    pub meets: Option<bool>,
    /// The intervals that are the evidence, `[start_s, end_s]`.
    pub evidence: Vec<[f64; 2]>,
    /// Why it could not be measured, or what the evidence shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One word with its time and probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as transcribed.
    pub w: String,
    /// Start, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// Model probability, 0..1.
    pub p: f64,
}

fn secs(t: Time) -> f64 {
    round_ms(t.secs())
}

/// The report's `transcript` section from a call's transcript.
pub fn utterances_from(t: &crate::transcribe::Transcript, speakers: &[Speaker]) -> Vec<Utterance> {
    t.utterances
        .iter()
        .map(|(c, u)| Utterance {
            speaker: speakers
                .get(*c)
                .map_or_else(|| "speaker".to_string(), |s| s.id.clone()),
            start_s: secs(u.span.start),
            end_s: secs(u.span.end),
            text: u.text(),
            words: u
                .words
                .iter()
                .map(|w| Word {
                    w: w.text.clone(),
                    start_s: secs(w.span.start),
                    end_s: secs(w.span.end),
                    p: (f64::from(w.p) * 1000.0).round() / 1000.0,
                })
                .collect(),
            tone: UtteranceTone::default(),
            wpm: None,
            articulation_wpm: None,
            pauses: None,
            markers: Vec::new(),
            marker_phrases: Vec::new(),
        })
        .collect()
}

fn pair(s: &Span) -> [f64; 2] {
    s.to_secs_pair()
}

impl Report {
    /// Builds the report from the analysis results.
    pub fn from_analysis(
        path: &str,
        info: &SourceInfo,
        speakers: &[Speaker],
        speech: &Annotation,
        conv: &Conversation,
        silence_cfg: (f64, f64),
        warnings: Vec<String>,
    ) -> Report {
        let duration = conv.duration;
        let share = |t: Time| {
            if duration.0 > 0 {
                (t.0 as f64 / duration.0 as f64 * 1e6).round() / 1e6
            } else {
                0.0
            }
        };
        let round6 = |x: f64| (x * 1e6).round() / 1e6;
        let talk = conv
            .speakers
            .iter()
            .zip(&conv.figures)
            .map(|(id, f)| {
                (
                    id.clone(),
                    TalkOut {
                        time_s: secs(f.talk.time),
                        share_of_speech: round6(f.talk.share_of_speech),
                        share_of_call: round6(f.talk.share_of_call),
                    },
                )
            })
            .collect();
        let speaker_metrics = conv
            .speakers
            .iter()
            .zip(&conv.figures)
            .map(|(id, f)| {
                (
                    id.clone(),
                    SpeakerMetrics {
                        interruptions_made: f.interruptions_made,
                        interruptions_suffered: f.interruptions_suffered,
                        backchannels_made: f.backchannels_made,
                        turns: f.turns,
                        longest_monologue: f.longest_monologue.map(|s| Monologue {
                            start_s: secs(s.start),
                            end_s: secs(s.end),
                            duration_s: secs(s.duration()),
                        }),
                        response_latency: Latency {
                            count: f.latency_count,
                            median_s: f.latency_median.map(secs),
                            p90_s: f.latency_p90.map(secs),
                        },
                    },
                )
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION.into(),
            input: Input {
                path: path.into(),
                format: info.format.to_string(),
                sample_rate: info.sample_rate,
                channels: info.channels,
                duration_s: secs(duration),
            },
            speakers: speakers
                .iter()
                .map(|s| SpeakerOut {
                    id: s.id.clone(),
                    channel: s.channel,
                    diarized: false,
                })
                .collect(),
            speech: speech
                .tracks()
                .map(|(id, tl)| (id.to_string(), tl.to_secs_pairs()))
                .collect(),
            overlaps: conv.overlaps.to_secs_pairs(),
            interruptions: conv
                .events
                .iter()
                .map(|e| Interruption {
                    at_s: secs(e.at),
                    interrupter: e.interrupter.clone(),
                    interrupted: e.interrupted.clone(),
                    overlap_s: secs(e.overlap),
                    kind: e.kind,
                    utterance: pair(&e.utterance),
                })
                .collect(),
            silences: conv.silences.to_secs_pairs(),
            talk,
            silence: SilenceSummary {
                min_s: silence_cfg.0,
                count: conv.silences.len(),
                total_s: secs(conv.silences.total()),
                share_of_call: share(conv.silences.total()),
                long_min_s: silence_cfg.1,
                long: conv.long_silences.to_secs_pairs(),
                long_total_s: secs(conv.long_silences.total()),
            },
            overlap: OverlapSummary {
                count: conv.overlaps.len(),
                total_s: secs(conv.overlaps.total()),
                share_of_call: share(conv.overlaps.total()),
            },
            turns: conv
                .turns
                .iter()
                .map(|t| TurnOut {
                    speaker: t.speaker.clone(),
                    start_s: secs(t.span.start),
                    end_s: secs(t.span.end),
                    latency_s: t.latency.map(secs),
                })
                .collect(),
            speaker_metrics,
            listening: conv.listening_share.map(|s| Listening {
                agent_listening_share: round6(s),
                target: conv.listening_target,
                meets_target: s >= conv.listening_target,
            }),
            transcript: None,
            utterances: None,
            pace: None,
            pace_mismatch: None,
            tone: None,
            language: None,
            scorecard: None,
            diarization: None,
            warnings,
        }
    }

    /// The speech section back as an annotation (for evaluation of a report).
    pub fn speech_annotation(&self) -> Annotation {
        let mut ann = Annotation::new();
        for s in &self.speakers {
            let spans = self
                .speech
                .get(&s.id)
                .map(|v| v.iter().map(|p| Span::from_secs(p[0], p[1])).collect())
                .unwrap_or_default();
            ann.insert(&s.id, spans);
        }
        ann
    }

    /// Writes pretty JSON with a trailing newline.
    pub fn write_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self)?;
        w.write_all(b"\n")
    }

    /// Serialises as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}
