//! A call's annotations: tone and pace per utterance, per-speaker summaries,
//! language markers, and the agent's active-listening scorecard.
//!
//! Utterances are the transcript's when there is one (their words give the
//! pace and the markers), else the speech timeline's (segments closer than
//! the utterance gap joined), annotated from the sound alone. Each
//! utterance's sound comes from the [`SegmentStats`] of the segments it
//! covers, pooled: pitch over their voiced frames, loudness as the energy
//! mean, syllables over their speaking time.
//!
//! The scorecard turns the habits of active listening into lines with a
//! figure, a target from `[scorecard]` and the intervals that are the
//! evidence: let the customer talk (listening share), don't interrupt, ask
//! open questions, paraphrase and summarise, show empathy, be patient (no
//! jumping in, no long dead air, no long monologues).

use super::AnnotateConfig;
use super::aggregate::{self, UtteranceAnnotations};
use super::loudness::UtteranceProsody;
use super::markers::{Lexicon, MarkerKind};
use super::pace::{AcousticPace, Pauses, word_pace};
use super::pitch::PitchSummary;
use super::tap::{AcousticTrack, SegmentStats};
use crate::audio::Speaker;
use crate::conversation::{Conversation, OverlapKind};
use crate::report::{
    AcousticUtterance, LanguageOut, MarkerPhrase, PaceMismatchOut, PaceOut, PausesOut, Report,
    ScoreLine, Scorecard, ToneOut, UtteranceTone,
};
use crate::time::{Time, round_ms};
use crate::timeline::{Annotation, Span, Timeline};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Targets of the scorecard (`[scorecard]` in the config). The listening
/// share's target is `conversation.listening_target`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScorecardConfig {
    /// Most interruptions the agent may make (the habit: let the customer
    /// finish).
    pub max_interruptions: f64,
    /// Fewest open questions ("what", "how", "tell me…") per call.
    pub min_open_questions: f64,
    /// Fewest paraphrases or summaries per call.
    pub min_paraphrases: f64,
    /// Fewest empathy statements per call.
    pub min_empathy: f64,
    /// Shortest median response latency when taking the floor, s: a
    /// patient agent lets a pause happen before answering.
    pub min_response_latency_s: f64,
    /// Most stretches of dead air (silences of `long_silence_s` or more).
    pub max_long_silences: f64,
    /// Longest agent monologue, s.
    pub max_monologue_s: f64,
}

impl Default for ScorecardConfig {
    fn default() -> Self {
        ScorecardConfig {
            max_interruptions: 0.0,
            min_open_questions: 2.0,
            min_paraphrases: 1.0,
            min_empathy: 1.0,
            min_response_latency_s: 0.2,
            max_long_silences: 0.0,
            max_monologue_s: 60.0,
        }
    }
}

fn secs(t: Time) -> f64 {
    round_ms(t.secs())
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The sound of one utterance, pooled from the segments it covers.
struct Sound {
    prosody: UtteranceProsody,
    syllables: Option<(u32, Time)>,
}

fn sound_of(span: Span, segments: &[SegmentStats]) -> Sound {
    let inside: Vec<&SegmentStats> = segments
        .iter()
        .filter(|s| s.span.overlap(&span) > Time::ZERO)
        .collect();
    let pitch = PitchSummary::from_hz(inside.iter().flat_map(|s| s.pitch_hz()));
    let (power, frames) = inside
        .iter()
        .fold((0.0f64, 0u32), |(p, n), s| (p + s.power_sum, n + s.frames));
    let level_db =
        (frames > 0 && power > 0.0).then(|| (10.0 * (power / f64::from(frames)).log10()) as f32);
    let nuclei: u32 = inside.iter().map(|s| s.nuclei).sum();
    let talk: Time = inside.iter().map(|s| s.speaking_time).sum();
    Sound {
        prosody: UtteranceProsody { level_db, pitch },
        syllables: (talk > Time::ZERO).then_some((nuclei, talk)),
    }
}

fn pauses_out(p: &Pauses) -> Option<PausesOut> {
    Some(PausesOut {
        count: p.count(),
        total_s: secs(p.total),
        longest_s: secs(p.longest),
    })
}

/// Pauses between the speech segments of an utterance.
fn segment_pauses(span: Span, speech: &Timeline, min: Time) -> Pauses {
    let mut p = Pauses::default();
    for gap in speech.gaps(span).iter() {
        // Only gaps between two stretches of speech inside the utterance.
        if gap.start > span.start && gap.end < span.end && gap.duration() >= min {
            p.push(*gap);
        }
    }
    p
}

/// Annotates a call: fills the per-utterance fields of `report.transcript`
/// (or `report.utterances` without one) and the `pace`, `pace_mismatch`,
/// `tone`, `language` and `scorecard` sections.
#[allow(clippy::too_many_arguments)]
pub fn annotate(
    report: &mut Report,
    speakers: &[Speaker],
    speech: &Annotation,
    conv: &Conversation,
    track: &AcousticTrack,
    lexicon: &Lexicon,
    cfg: &AnnotateConfig,
    score: &ScorecardConfig,
    utterance_gap: Time,
) {
    let syll_per_word = cfg.syllables.syllables_per_word;
    let min_pause = cfg.pace.min_pause();
    let empty = Vec::new();
    let segments_of = |id: &str| -> &Vec<SegmentStats> {
        speakers
            .iter()
            .position(|s| s.id == id)
            .and_then(|i| track.segments.get(i))
            .unwrap_or(&empty)
    };
    let no_timeline = Timeline::new();
    let timeline_of = |id: &str| speech.get(id).unwrap_or(&no_timeline);

    // Per-utterance annotations, from the transcript or from the sound.
    let mut anns: Vec<UtteranceAnnotations> = Vec::new();
    let mut marker_sets: Vec<Vec<(MarkerKind, String)>> = Vec::new();
    let transcript_mode = report.transcript.is_some();
    if let Some(t) = &report.transcript {
        for u in t {
            let span = Span::from_secs(u.start_s, u.end_s);
            let sound = sound_of(span, segments_of(&u.speaker));
            let found = lexicon.classify(&u.text);
            marker_sets.push(
                found
                    .markers
                    .iter()
                    .map(|m| (m.kind, m.matched.clone()))
                    .collect(),
            );
            anns.push(UtteranceAnnotations {
                speaker: u.speaker.clone(),
                span,
                prosody: sound.prosody,
                word_pace: word_pace(&u.words, &cfg.pace),
                acoustic_pace: acoustic(sound.syllables, syll_per_word),
                markers: Some(found.counts()),
            });
        }
    } else {
        for s in speakers {
            for span in timeline_of(&s.id).fill_gaps(utterance_gap).iter() {
                let sound = sound_of(*span, segments_of(&s.id));
                anns.push(UtteranceAnnotations {
                    speaker: s.id.clone(),
                    span: *span,
                    prosody: sound.prosody,
                    word_pace: None,
                    acoustic_pace: acoustic(sound.syllables, syll_per_word),
                    markers: None,
                });
                marker_sets.push(Vec::new());
            }
        }
        anns.sort_by_key(|a| a.span.start);
    }

    // Tone flags against each speaker's own baseline.
    let mut tones: Vec<UtteranceTone> = vec![UtteranceTone::default(); anns.len()];
    let mut tone_out = BTreeMap::new();
    let mut pace_out = BTreeMap::new();
    let mut language = BTreeMap::new();
    for s in speakers {
        let idx: Vec<usize> = (0..anns.len())
            .filter(|&i| anns[i].speaker == s.id)
            .collect();
        let mine: Vec<&UtteranceAnnotations> = idx.iter().map(|&i| &anns[i]).collect();
        let prosody = aggregate::speaker_prosody(mine.iter().copied(), &cfg.prosody);
        for (k, &i) in idx.iter().enumerate() {
            let a = &anns[i];
            let f = prosody.flags.get(k).copied().unwrap_or_default();
            tones[i] = UtteranceTone {
                pitch_median_hz: a.prosody.pitch.map(|p| r2(p.median_hz)),
                pitch_sd_semitones: a.prosody.pitch.map(|p| r2(p.sd_semitones)),
                loudness_dbfs: a.prosody.level_db.map(|l| r2(f64::from(l))),
                loudness_vs_baseline_db: f.above_baseline_db.map(r2),
                monotone: f.monotone,
                raised_voice: f.raised_voice,
                syllables_per_s: a.acoustic_pace.as_ref().map(|p| r2(p.syllables_per_s)),
            };
        }
        tone_out.insert(
            s.id.clone(),
            ToneOut {
                pitch_median_hz: prosody.pitch.map(|p| r2(p.median_hz)),
                pitch_sd_semitones: prosody.pitch.map(|p| r2(p.sd_semitones)),
                loudness_dbfs: prosody.baseline.level_db.map(r2),
                pitch_over_time: mine
                    .iter()
                    .filter_map(|a| {
                        let mid = Time((a.span.start.0 + a.span.end.0) / 2);
                        a.prosody.pitch.map(|p| [secs(mid), r2(p.median_hz)])
                    })
                    .collect(),
                raised_voice_utterances: prosody.raised.len(),
                monotone_utterances: prosody.monotone.len(),
            },
        );
        if let Some(p) = aggregate::speaker_pace(mine.iter().copied()) {
            let over_time = aggregate::pace_over_time(mine.iter().copied(), &cfg.aggregate)
                .into_iter()
                .filter_map(|pt| pt.pace.map(|p| [secs(pt.window.start), r2(p.wpm)]))
                .collect();
            let syllables = (p.source == aggregate::PaceSource::Acoustic).then(|| {
                let n: usize = mine
                    .iter()
                    .filter_map(|a| a.acoustic_pace.as_ref())
                    .map(|a| a.nuclei.len())
                    .sum();
                r2(n as f64 / p.speaking_time.secs().max(1e-9))
            });
            pace_out.insert(
                s.id.clone(),
                PaceOut {
                    source: match p.source {
                        aggregate::PaceSource::Words => "words".into(),
                        aggregate::PaceSource::Acoustic => "acoustic".into(),
                    },
                    wpm: r2(p.wpm),
                    syllables_per_s: syllables,
                    over_time,
                },
            );
        }
        if transcript_mode {
            let q = aggregate::question_stats(mine.iter().copied());
            let m = aggregate::marker_totals(mine.iter().copied());
            language.insert(
                s.id.clone(),
                LanguageOut {
                    open_questions: q.open,
                    closed_questions: q.closed,
                    open_question_share: q.open_share.map(r2),
                    empathy: m.empathy,
                    paraphrases: m.paraphrase,
                    clarifying_questions: m.clarifying_question,
                    apologies: m.apology,
                    politeness: m.politeness,
                    fillers: m.filler,
                    fillers_per_minute: aggregate::fillers_per_minute(mine.iter().copied()).map(r2),
                    frustration: m.frustration,
                },
            );
        }
    }

    // Write the per-utterance fields.
    if let Some(t) = report.transcript.as_mut() {
        for ((u, a), (tone, found)) in t
            .iter_mut()
            .zip(&anns)
            .zip(tones.into_iter().zip(&marker_sets))
        {
            u.tone = tone;
            if let Some(wp) = &a.word_pace {
                u.wpm = Some(r2(wp.wpm));
                u.articulation_wpm = Some(r2(wp.articulation_wpm));
                u.pauses = pauses_out(&wp.pauses);
            }
            let mut kinds: Vec<MarkerKind> = found.iter().map(|(k, _)| *k).collect();
            kinds.sort();
            kinds.dedup();
            u.markers = kinds.iter().map(|k| k.name().to_string()).collect();
            u.marker_phrases = found
                .iter()
                .map(|(k, p)| MarkerPhrase {
                    kind: k.name().to_string(),
                    phrase: p.clone(),
                })
                .collect();
        }
    } else {
        report.utterances = Some(
            anns.iter()
                .zip(tones)
                .map(|(a, tone)| AcousticUtterance {
                    speaker: a.speaker.clone(),
                    start_s: secs(a.span.start),
                    end_s: secs(a.span.end),
                    wpm_estimate: a.acoustic_pace.as_ref().map(|p| r2(p.wpm)),
                    pauses: pauses_out(&segment_pauses(a.span, timeline_of(&a.speaker), min_pause)),
                    tone,
                })
                .collect(),
        );
    }
    if !tone_out.is_empty() {
        report.tone = Some(tone_out);
    }
    if let (Some(a), Some(c)) = (pace_out.get("agent"), pace_out.get("customer"))
        && let Some(m) = aggregate::pace_mismatch(a.wpm, c.wpm, &cfg.aggregate)
    {
        report.pace_mismatch = Some(PaceMismatchOut {
            ratio: r2(m.ratio),
            difference_wpm: r2(m.difference_wpm),
            mismatched: m.mismatched,
        });
    }
    if !pace_out.is_empty() {
        report.pace = Some(pace_out);
    }
    if transcript_mode {
        report.language = Some(language);
    }
    report.scorecard = scorecard(conv, &anns, &marker_sets, score, transcript_mode);
}

fn acoustic(syllables: Option<(u32, Time)>, per_word: f64) -> Option<AcousticPace> {
    let (n, t) = syllables?;
    let sps = f64::from(n) / t.secs();
    Some(AcousticPace {
        nuclei: vec![0; n as usize],
        speaking_time: t,
        syllables_per_s: sps,
        wpm: sps * 60.0 / per_word,
    })
}

/// The agent's scorecard (absent without an agent).
fn scorecard(
    conv: &Conversation,
    anns: &[UtteranceAnnotations],
    markers: &[Vec<(MarkerKind, String)>],
    cfg: &ScorecardConfig,
    with_text: bool,
) -> Option<Scorecard> {
    let agent = conv.speaker("agent")?;
    let pair = |s: &Span| s.to_secs_pair();
    let mut lines = Vec::new();
    let mut line = |id: &str,
                    label: &str,
                    figure: Option<f64>,
                    unit: &str,
                    target: f64,
                    at_least: bool,
                    evidence: Vec<[f64; 2]>,
                    note: Option<String>| {
        let meets = figure.map(|f| {
            if at_least {
                f >= target - 1e-9
            } else {
                f <= target + 1e-9
            }
        });
        lines.push(ScoreLine {
            id: id.into(),
            label: label.into(),
            figure: figure.map(|f| (f * 1000.0).round() / 1000.0),
            unit: unit.into(),
            target,
            comparison: if at_least { "at_least" } else { "at_most" }.into(),
            meets,
            evidence,
            note,
        });
    };

    // Let the customer talk: the evidence is the agent's longest turns.
    let mut agent_turns: Vec<Span> = conv
        .turns
        .iter()
        .filter(|t| t.speaker == "agent")
        .map(|t| t.span)
        .collect();
    agent_turns.sort_by_key(|s| std::cmp::Reverse(s.duration()));
    line(
        "listening",
        "Let the customer talk: customer's share of the speech",
        conv.listening_share,
        "share",
        conv.listening_target,
        true,
        agent_turns.iter().take(3).map(pair).collect(),
        Some("evidence: the agent's three longest turns".into()),
    );
    let ints: Vec<[f64; 2]> = conv
        .events
        .iter()
        .filter(|e| e.kind == OverlapKind::Interruption && e.interrupter == "agent")
        .map(|e| pair(&Span::new(e.at, e.at + e.overlap)))
        .collect();
    line(
        "interruptions",
        "Don't interrupt: interruptions made by the agent",
        Some(agent.interruptions_made as f64),
        "count",
        cfg.max_interruptions,
        false,
        ints,
        None,
    );
    let with = |kind: &[MarkerKind]| -> Vec<[f64; 2]> {
        anns.iter()
            .zip(markers)
            .filter(|(a, m)| a.speaker == "agent" && m.iter().any(|(k, _)| kind.contains(k)))
            .map(|(a, _)| pair(&a.span))
            .collect()
    };
    let count = |kind: &[MarkerKind]| -> f64 {
        anns.iter()
            .zip(markers)
            .filter(|(a, _)| a.speaker == "agent")
            .map(|(_, m)| m.iter().filter(|(k, _)| kind.contains(k)).count())
            .sum::<usize>() as f64
    };
    let needs_text =
        (!with_text).then(|| "needs the transcript (run without --no-transcribe)".to_string());
    for (id, label, kinds, target) in [
        (
            "open_questions",
            "Ask open questions",
            &[MarkerKind::OpenQuestion][..],
            cfg.min_open_questions,
        ),
        (
            "paraphrase",
            "Paraphrase and summarise",
            &[MarkerKind::Paraphrase][..],
            cfg.min_paraphrases,
        ),
        (
            "empathy",
            "Show empathy",
            &[MarkerKind::Empathy][..],
            cfg.min_empathy,
        ),
    ] {
        line(
            id,
            label,
            with_text.then(|| count(kinds)),
            "count",
            target,
            true,
            if with_text { with(kinds) } else { Vec::new() },
            needs_text.clone(),
        );
    }
    let jumped: Vec<[f64; 2]> = conv
        .turns
        .iter()
        .filter(|t| t.speaker == "agent" && t.latency.is_some_and(|l| l < Time::ZERO))
        .map(|t| {
            pair(&Span::new(
                t.span.start,
                t.span.start + Time::from_secs(1.0).min(t.span.duration()),
            ))
        })
        .collect();
    line(
        "patience",
        "Be patient: median pause before the agent answers",
        agent.latency_median.map(|t| t.secs()),
        "s",
        cfg.min_response_latency_s,
        true,
        jumped,
        Some("evidence: turns the agent began before the customer had finished".into()),
    );
    line(
        "dead_air",
        "No long dead air",
        Some(conv.long_silences.len() as f64),
        "count",
        cfg.max_long_silences,
        false,
        conv.long_silences.iter().map(pair).collect(),
        None,
    );
    line(
        "monologue",
        "No long monologues: the agent's longest turn",
        Some(agent.longest_monologue.map_or(0.0, |s| s.duration().secs())),
        "s",
        cfg.max_monologue_s,
        false,
        agent.longest_monologue.iter().map(pair).collect(),
        None,
    );
    let measured = lines.iter().filter(|l| l.meets.is_some()).count();
    let met = lines.iter().filter(|l| l.meets == Some(true)).count();
    Some(Scorecard {
        speaker: "agent".into(),
        met,
        measured,
        lines,
    })
}
