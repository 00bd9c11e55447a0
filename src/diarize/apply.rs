//! Turning a diarized mono call into the shape of a stereo one: named
//! speakers, speech per speaker, the transcript split by speaker turns and
//! the acoustic measurements shared out.
//!
//! * Names: with two speakers, `agent` and `customer` ([`super::roles`]);
//!   with more, `speaker_1`… in order of appearance. All of them come from
//!   file channel 0.
//! * Transcript: each word goes to the speaker whose speech it overlaps
//!   most, counting speech of that speaker alone first (in an overlap the
//!   word belongs to one of the two; the one speaking alone around it is
//!   the better guess), then any speech, then the nearest speech; each
//!   speaker's words are grouped into utterances along their own speech
//!   with the same rule as a stereo call's.
//! * Acoustics: the annotation stage measured the mono channel per detector
//!   segment; each segment's measurements go to the speaker with the most
//!   speech in it (a segment holding a change of speaker mixes the two
//!   voices' pitch — a known limitation of annotating a mono call).

use super::DiarizeConfig;
use super::roles::{self, RoleRule};
use super::tap::Diarized;
use crate::annotate::tap::AcousticTrack;
use crate::audio::Speaker;
use crate::time::Time;
use crate::timeline::{Annotation, Span, Timeline};
use crate::transcribe::Transcript;
use crate::transcribe::words::{TimedWord, group_utterances};

/// A diarized call, ready for the conversation metrics and the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The speakers, all on channel 0.
    pub speakers: Vec<Speaker>,
    /// Speech per speaker id.
    pub speech: Annotation,
    /// How the agent was chosen (two speakers only).
    pub rule: Option<RoleRule>,
}

/// The speaker index whose speech covers `span` best (see the module notes).
fn speaker_of(span: Span, speech: &[Timeline], alone: &[Timeline], prev: usize) -> usize {
    let best = |tls: &[Timeline]| -> Option<usize> {
        let cover: Vec<Time> = tls.iter().map(|t| t.covered(span)).collect();
        let max = cover.iter().copied().max()?;
        if max <= Time::ZERO {
            return None;
        }
        // Ties keep the previous word's speaker.
        if cover.get(prev) == Some(&max) {
            return Some(prev);
        }
        cover.iter().position(|&c| c == max)
    };
    best(alone).or_else(|| best(speech)).unwrap_or_else(|| {
        let mid = Time((span.start.0 + span.end.0) / 2);
        let dist = |t: &Timeline| {
            t.iter()
                .map(|s| {
                    if s.contains(mid) {
                        0
                    } else if mid < s.start {
                        (s.start - mid).0
                    } else {
                        (mid - s.end).0
                    }
                })
                .min()
                .unwrap_or(i64::MAX)
        };
        (0..speech.len())
            .min_by_key(|&k| (dist(&speech[k]), usize::from(k != prev)))
            .unwrap_or(prev)
    })
}

/// Splits a mono transcript (all on speaker 0) between the diarized
/// speakers; speaker indices are those of `speech`.
pub fn split_transcript(t: &Transcript, speech: &[Timeline], utterance_gap: Time) -> Transcript {
    let k = speech.len();
    if k == 0 {
        return t.clone();
    }
    let alone: Vec<Timeline> = (0..k)
        .map(|i| {
            let others = speech
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .fold(Timeline::new(), |acc, (_, tl)| acc.union(tl));
            speech[i].difference(&others)
        })
        .collect();
    let mut words: Vec<Vec<TimedWord>> = vec![Vec::new(); k];
    let mut prev = 0;
    for (_, u) in &t.utterances {
        for w in &u.words {
            let s = speaker_of(w.span, speech, &alone, prev);
            prev = s;
            words[s].push(w.clone());
        }
    }
    let mut utterances = Vec::new();
    for (s, w) in words.into_iter().enumerate() {
        for u in group_utterances(&speech[s], w, utterance_gap) {
            utterances.push((s, u));
        }
    }
    utterances.sort_by_key(|(s, u)| (u.span.start, *s));
    Transcript {
        utterances,
        windows: t.windows,
        audio_s: t.audio_s,
    }
}

/// Shares the mono channel's acoustic segments out between speakers.
pub fn split_acoustic(track: &AcousticTrack, speech: &[Timeline]) -> AcousticTrack {
    let mut segments = vec![Vec::new(); speech.len()];
    for seg in track.segments.iter().flatten() {
        let best = (0..speech.len()).max_by_key(|&k| speech[k].covered(seg.span));
        if let Some(k) = best {
            segments[k].push(seg.clone());
        }
    }
    AcousticTrack { segments }
}

/// Names the diarized speakers and builds their speech. `transcript` is the
/// split transcript (speaker indices as in `d`), used for greetings.
pub fn name_speakers(
    d: &Diarized,
    transcript: Option<&Transcript>,
    cfg: &DiarizeConfig,
) -> (Applied, Vec<usize>) {
    let k = d.speech.len();
    // order[i]: the diarized index of the i-th named speaker.
    let (names, order, rule): (Vec<String>, Vec<usize>, Option<RoleRule>) = if k == 2 {
        let greeting = if cfg.greetings {
            transcript.and_then(|t| {
                roles::agent_by_greeting(
                    t.utterances
                        .iter()
                        .map(|(s, u)| (*s, u.span.start, u.text()))
                        .collect::<Vec<_>>()
                        .iter()
                        .map(|(s, st, txt)| (*s, *st, txt.as_str())),
                    &cfg.agent_phrases,
                    Time::from_secs(cfg.greeting_window_s),
                )
            })
        } else {
            None
        };
        let (agent, rule) = roles::agent_of_two(greeting, cfg.agent_first);
        (
            vec!["agent".into(), "customer".into()],
            vec![agent, 1 - agent],
            Some(rule),
        )
    } else {
        (
            (1..=k).map(|i| format!("speaker_{i}")).collect(),
            (0..k).collect(),
            None,
        )
    };
    let speakers: Vec<Speaker> = names
        .iter()
        .map(|id| Speaker {
            id: id.clone(),
            channel: 0,
        })
        .collect();
    let mut speech = Annotation::new();
    for (name, &i) in names.iter().zip(&order) {
        speech.insert(name, d.speech[i].clone());
    }
    (
        Applied {
            speakers,
            speech,
            rule,
        },
        order,
    )
}

/// Reorders per-speaker data from diarized order to named order.
pub fn reorder<T: Clone>(v: &[T], order: &[usize]) -> Vec<T> {
    order.iter().filter_map(|&i| v.get(i).cloned()).collect()
}

/// Re-indexes a transcript's speakers from diarized to named order.
pub fn reindex_transcript(t: &Transcript, order: &[usize]) -> Transcript {
    let mut out = t.clone();
    for (s, _) in &mut out.utterances {
        *s = order.iter().position(|&i| i == *s).unwrap_or(*s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::words::UtteranceWords;

    fn tl(spans: &[(f64, f64)]) -> Timeline {
        Timeline::from_spans(spans.iter().map(|&(a, b)| Span::from_secs(a, b)))
    }

    fn word(text: &str, a: f64, b: f64) -> TimedWord {
        TimedWord {
            text: text.into(),
            span: Span::from_secs(a, b),
            p: 0.9,
        }
    }

    #[test]
    fn words_follow_the_speaker_turns() {
        // Speaker 0 speaks 0–2 s, speaker 1 1.8–4 s (overlap 1.8–2).
        let speech = vec![tl(&[(0.0, 2.0)]), tl(&[(1.8, 4.0)])];
        let t = Transcript {
            utterances: vec![(
                0,
                UtteranceWords {
                    span: Span::from_secs(0.0, 4.0),
                    words: vec![
                        word("thank", 0.1, 0.5),
                        word("you", 0.5, 0.9),
                        word("hi", 1.85, 1.98),
                        word("there", 2.2, 2.6),
                    ],
                },
            )],
            windows: 1,
            audio_s: 4.0,
        };
        let s = split_transcript(&t, &speech, Time::from_secs(0.5));
        let texts: Vec<(usize, String)> =
            s.utterances.iter().map(|(k, u)| (*k, u.text())).collect();
        // "hi" lies in the overlap: it keeps the previous word's speaker
        // unless either speaks alone there (neither does).
        assert_eq!(
            texts,
            [(0, "thank you hi".to_string()), (1, "there".to_string())]
        );
    }

    #[test]
    fn two_speakers_are_named_by_the_first_speaker_rule_or_a_greeting() {
        let d = Diarized {
            speech: vec![tl(&[(0.0, 1.0)]), tl(&[(1.5, 3.0)])],
            pitch_gap: None,
        };
        let cfg = DiarizeConfig::default();
        let (a, order) = name_speakers(&d, None, &cfg);
        assert_eq!(order, [0, 1]);
        assert_eq!(a.rule, Some(RoleRule::AgentFirst));
        assert_eq!(a.speech.get("agent"), Some(&d.speech[0]));
        let t = Transcript {
            utterances: vec![
                (
                    0,
                    UtteranceWords {
                        span: Span::from_secs(0.0, 1.0),
                        words: vec![word("hello", 0.1, 0.6)],
                    },
                ),
                (
                    1,
                    UtteranceWords {
                        span: Span::from_secs(1.5, 3.0),
                        words: vec![
                            word("thanks", 1.6, 1.9),
                            word("for", 1.9, 2.0),
                            word("calling", 2.0, 2.5),
                        ],
                    },
                ),
            ],
            windows: 1,
            audio_s: 3.0,
        };
        let (a, order) = name_speakers(&d, Some(&t), &cfg);
        assert_eq!(order, [1, 0]);
        assert_eq!(a.rule, Some(RoleRule::Greeting));
        assert_eq!(a.speech.get("agent"), Some(&d.speech[1]));
        let r = reindex_transcript(&t, &order);
        assert_eq!(r.utterances[1].0, 0, "the greeting is the agent's (0)");
        let three = Diarized {
            speech: vec![Timeline::new(); 3],
            pitch_gap: None,
        };
        let (a, _) = name_speakers(&three, None, &cfg);
        let ids: Vec<&str> = a.speakers.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["speaker_1", "speaker_2", "speaker_3"]);
        assert!(a.speakers.iter().all(|s| s.channel == 0));
    }
}
