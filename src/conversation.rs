//! Conversation metrics: pure functions from "who spoke when" to the figures
//! the active-listening practice cares about.
//!
//! Input is an [`Annotation`] (speaker id → speech timeline) and the call's
//! duration; output is [`Conversation`], where every figure carries the
//! intervals that produced it. Nothing here knows about audio, so the same
//! code scores a hypothesis and derives the reference figures from a
//! reference RTTM in the evaluation — one definition for both sides.
//!
//! Definitions (thresholds in [`ConversationConfig`]):
//! * **utterance**: a speaker's speech with pauses shorter than
//!   `utterance_gap_s` bridged;
//! * **backchannel**: B starts an utterance inside one of A's utterances,
//!   B's utterance is shorter than `backchannel_max_s`, and A's utterance
//!   outlasts it;
//! * **interruption**: B starts an utterance inside one of A's utterances
//!   (A started first; a pause of A shorter than `utterance_gap_s` does not
//!   end A's utterance), it is not a backchannel, and B's speech overlaps
//!   A's by at least `interruption_min_overlap_s` within B's utterance;
//! * **turn**: a maximal run of one speaker's utterances, backchannels of the
//!   others not counted as taking the floor; **response latency** is the
//!   time from the end of one turn to the start of the next speaker's turn
//!   (negative when they overlap: the floor-transfer offset);
//! * **silence**: a stretch of at least `silence_min_s` (and, separately,
//!   `long_silence_s`) where nobody speaks, anywhere in the recording;
//! * **talk share**: a speaker's talk time over the sum of all talk times
//!   (`share_of_speech`, overlap counted for each speaker) and over the
//!   call duration (`share_of_call`).

use crate::time::Time;
use crate::timeline::{Annotation, Span, Timeline};
use serde::{Deserialize, Serialize};

/// Thresholds of the conversation metrics. Sources of the defaults are noted
/// on each field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConversationConfig {
    /// Shortest stretch of nobody speaking reported as silence, s. 2 s is
    /// the usual "dead air" threshold of call-centre quality forms.
    pub silence_min_s: f64,
    /// Long silences, reported separately, s. 5 s is the hold/dead-air
    /// alert of several contact-centre analytics products.
    pub long_silence_s: f64,
    /// Simultaneous speech needed for an interruption, s (issue #3: 200 ms,
    /// above the ~100–200 ms overlaps of smooth turn exchanges).
    pub interruption_min_overlap_s: f64,
    /// Longest utterance that can be a backchannel, s ("uh-huh", "right":
    /// typically well under a second).
    pub backchannel_max_s: f64,
    /// Pauses shorter than this do not end an utterance, s.
    pub utterance_gap_s: f64,
    /// The share of speech the customer should have: active-listening
    /// guidance is that a representative listens ~55% of the call.
    pub listening_target: f64,
}

impl Default for ConversationConfig {
    fn default() -> Self {
        ConversationConfig {
            silence_min_s: 2.0,
            long_silence_s: 5.0,
            interruption_min_overlap_s: 0.2,
            backchannel_max_s: 1.0,
            utterance_gap_s: 0.5,
            listening_target: 0.55,
        }
    }
}

/// Whether an overlap onset took the floor or supported the speaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverlapKind {
    /// B cut in on A.
    Interruption,
    /// B signalled listening while A went on.
    Backchannel,
}

/// One interruption or backchannel.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlapEvent {
    /// When B started.
    pub at: Time,
    /// B.
    pub interrupter: String,
    /// A.
    pub interrupted: String,
    /// Simultaneous speech within B's utterance.
    pub overlap: Time,
    /// Interruption or backchannel.
    pub kind: OverlapKind,
    /// B's utterance.
    pub utterance: Span,
}

/// A turn: one speaker holding the floor.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    /// Who.
    pub speaker: String,
    /// From the first utterance's start to the last one's end.
    pub span: Span,
    /// Time from the previous speaker's turn end to this start (negative
    /// when overlapping); `None` for the first turn.
    pub latency: Option<Time>,
}

/// Talk time of one speaker.
#[derive(Clone, Debug, PartialEq)]
pub struct Talk {
    /// Total speech.
    pub time: Time,
    /// Fraction of all speakers' summed talk time.
    pub share_of_speech: f64,
    /// Fraction of the call duration.
    pub share_of_call: f64,
}

/// Per-speaker summary figures.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeakerFigures {
    /// Talk time and shares.
    pub talk: Talk,
    /// Interruptions this speaker made.
    pub interruptions_made: usize,
    /// Interruptions this speaker suffered.
    pub interruptions_suffered: usize,
    /// Backchannels this speaker gave.
    pub backchannels_made: usize,
    /// Number of turns.
    pub turns: usize,
    /// The longest turn.
    pub longest_monologue: Option<Span>,
    /// Median response latency when taking the floor from someone else.
    pub latency_median: Option<Time>,
    /// 90th percentile of the same.
    pub latency_p90: Option<Time>,
    /// Number of floor transfers to this speaker.
    pub latency_count: usize,
}

/// Everything measured about a conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    /// Call duration.
    pub duration: Time,
    /// Speaker ids in order.
    pub speakers: Vec<String>,
    /// Figures per speaker, in `speakers` order.
    pub figures: Vec<SpeakerFigures>,
    /// Where two or more speakers speak at once.
    pub overlaps: Timeline,
    /// Interruptions and backchannels, by time.
    pub events: Vec<OverlapEvent>,
    /// Silences of at least `silence_min_s`.
    pub silences: Timeline,
    /// Silences of at least `long_silence_s`.
    pub long_silences: Timeline,
    /// Turns in time order.
    pub turns: Vec<Turn>,
    /// Customer share of speech, when there is an `agent` and a `customer`.
    pub listening_share: Option<f64>,
    /// The target it is compared against.
    pub listening_target: f64,
}

impl Conversation {
    /// Figures of one speaker.
    pub fn speaker(&self, id: &str) -> Option<&SpeakerFigures> {
        self.speakers
            .iter()
            .position(|s| s == id)
            .map(|i| &self.figures[i])
    }

    /// Total silence (stretches of at least `silence_min_s`).
    pub fn silence_total(&self) -> Time {
        self.silences.total()
    }

    /// Interruptions only.
    pub fn interruptions(&self) -> impl Iterator<Item = &OverlapEvent> {
        self.events
            .iter()
            .filter(|e| e.kind == OverlapKind::Interruption)
    }
}

/// Computes every conversation metric of `speech` over `[0, duration)`.
pub fn analyze(speech: &Annotation, duration: Time, cfg: &ConversationConfig) -> Conversation {
    let whole = Span::new(Time::ZERO, duration);
    let speech = speech.crop(&Timeline::from_spans([whole]));
    let speakers: Vec<String> = speech.labels().map(str::to_string).collect();
    let utt_gap = Time::from_secs(cfg.utterance_gap_s);
    let utterances: Vec<Timeline> = speech.tracks().map(|(_, t)| t.fill_gaps(utt_gap)).collect();

    let events = overlap_events(&speech, &utterances, cfg);
    let turns = turns(&speakers, &utterances, &events);

    let silence_all = speech.support().gaps(whole);
    let silences = silence_all.remove_short(Time::from_secs(cfg.silence_min_s));
    let long_silences = silence_all.remove_short(Time::from_secs(cfg.long_silence_s));

    let total_talk: Time = speech.tracks().map(|(_, t)| t.total()).sum();
    let figures = speakers
        .iter()
        .zip(speech.tracks())
        .map(|(id, (_, tl))| {
            let time = tl.total();
            let mine: Vec<&Turn> = turns.iter().filter(|t| &t.speaker == id).collect();
            let mut lat: Vec<Time> = mine.iter().filter_map(|t| t.latency).collect();
            lat.sort_unstable();
            SpeakerFigures {
                talk: Talk {
                    time,
                    share_of_speech: ratio(time, total_talk),
                    share_of_call: ratio(time, duration),
                },
                interruptions_made: count(&events, |e| {
                    e.interrupter == *id && e.kind == OverlapKind::Interruption
                }),
                interruptions_suffered: count(&events, |e| {
                    e.interrupted == *id && e.kind == OverlapKind::Interruption
                }),
                backchannels_made: count(&events, |e| {
                    e.interrupter == *id && e.kind == OverlapKind::Backchannel
                }),
                turns: mine.len(),
                longest_monologue: mine
                    .iter()
                    .map(|t| t.span)
                    .max_by_key(|s| (s.duration(), std::cmp::Reverse(s.start))),
                latency_median: percentile(&lat, 0.5),
                latency_p90: percentile(&lat, 0.9),
                latency_count: lat.len(),
            }
        })
        .collect::<Vec<_>>();

    let listening_share = match (
        speakers.iter().position(|s| s == "agent"),
        speakers.iter().position(|s| s == "customer"),
    ) {
        (Some(a), Some(c)) => {
            let (ta, tc) = (figures[a].talk.time, figures[c].talk.time);
            Some(ratio(tc, ta + tc))
        }
        _ => None,
    };

    Conversation {
        duration,
        overlaps: speech.overlap(),
        speakers,
        figures,
        events,
        silences,
        long_silences,
        turns,
        listening_share,
        listening_target: cfg.listening_target,
    }
}

fn ratio(a: Time, b: Time) -> f64 {
    if b.0 <= 0 {
        0.0
    } else {
        a.0 as f64 / b.0 as f64
    }
}

fn count(events: &[OverlapEvent], f: impl Fn(&OverlapEvent) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Time], q: f64) -> Option<Time> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Finds every utterance that starts while someone else is speaking and
/// classifies it.
fn overlap_events(
    speech: &Annotation,
    utterances: &[Timeline],
    cfg: &ConversationConfig,
) -> Vec<OverlapEvent> {
    let tracks: Vec<(&str, &Timeline)> = speech.tracks().collect();
    let min_overlap = Time::from_secs(cfg.interruption_min_overlap_s);
    let bc_max = Time::from_secs(cfg.backchannel_max_s);
    let mut events = Vec::new();
    for (b, (b_id, b_speech)) in tracks.iter().enumerate() {
        for utt in utterances[b].iter() {
            let start = utt.start;
            // The speaker B cut in on: someone in the middle of an utterance
            // at B's start (a pause shorter than `utterance_gap_s` does not
            // end it), who started before B. With several, the one speaking
            // longest.
            let victim = utterances
                .iter()
                .enumerate()
                .filter(|&(a, _)| a != b)
                .filter_map(|(a, a_utts)| {
                    let seg = a_utts.span_at(start)?;
                    (seg.start < start).then_some((a, seg))
                })
                .min_by_key(|(_, seg)| seg.start);
            let Some((a, _)) = victim else { continue };
            let (a_id, a_speech) = tracks[a];
            let overlap = b_speech.crop(*utt).intersection(a_speech).total();
            // "A keeps talking": A's utterance around B's start outlasts B's.
            let a_utt = utterances[a].span_at(start);
            let a_continues = a_utt.is_some_and(|u| u.end > utt.end);
            let kind = if utt.duration() < bc_max && a_continues {
                OverlapKind::Backchannel
            } else if overlap >= min_overlap {
                OverlapKind::Interruption
            } else {
                continue;
            };
            events.push(OverlapEvent {
                at: start,
                interrupter: b_id.to_string(),
                interrupted: a_id.to_string(),
                overlap,
                kind,
                utterance: *utt,
            });
        }
    }
    events.sort_by(|x, y| {
        x.at.cmp(&y.at)
            .then_with(|| x.interrupter.cmp(&y.interrupter))
    });
    events
}

/// Groups utterances into turns: consecutive utterances of one speaker, with
/// backchannels left out of floor-taking.
fn turns(speakers: &[String], utterances: &[Timeline], events: &[OverlapEvent]) -> Vec<Turn> {
    let mut all: Vec<(Span, usize)> = Vec::new();
    for (s, tl) in utterances.iter().enumerate() {
        for u in tl.iter() {
            let backchannel = events.iter().any(|e| {
                e.kind == OverlapKind::Backchannel
                    && e.utterance == *u
                    && e.interrupter == speakers[s]
            });
            if !backchannel {
                all.push((*u, s));
            }
        }
    }
    all.sort_by_key(|(u, s)| (u.start, *s));
    let mut out: Vec<Turn> = Vec::new();
    for (u, s) in all {
        match out.last_mut() {
            Some(t) if t.speaker == speakers[s] => t.span.end = t.span.end.max(u.end),
            _ => {
                let latency = out.last().map(|prev| u.start - prev.span.end);
                out.push(Turn {
                    speaker: speakers[s].clone(),
                    span: u,
                    latency,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tl(spans: &[(f64, f64)]) -> Timeline {
        Timeline::from_spans(spans.iter().map(|&(a, b)| Span::from_secs(a, b)))
    }

    fn call(agent: &[(f64, f64)], customer: &[(f64, f64)]) -> Annotation {
        let mut a = Annotation::new();
        a.insert("agent", tl(agent));
        a.insert("customer", tl(customer));
        a
    }

    fn run(agent: &[(f64, f64)], customer: &[(f64, f64)], dur: f64) -> Conversation {
        analyze(
            &call(agent, customer),
            Time::from_secs(dur),
            &ConversationConfig::default(),
        )
    }

    #[test]
    fn talk_shares_use_both_denominators() {
        let c = run(&[(0.0, 4.0)], &[(5.0, 11.0)], 20.0);
        let a = c.speaker("agent").unwrap();
        assert_eq!(a.talk.time, Time::from_secs(4.0));
        assert!((a.talk.share_of_speech - 0.4).abs() < 1e-9);
        assert!((a.talk.share_of_call - 0.2).abs() < 1e-9);
        assert!((c.listening_share.unwrap() - 0.6).abs() < 1e-9);
    }

    #[test]
    fn silences_include_the_edges_and_respect_thresholds() {
        let c = run(&[(3.0, 4.0)], &[(5.5, 6.0), (12.0, 13.0)], 15.0);
        // Gaps: 0–3 (3 s), 4–5.5 (1.5 s), 6–12 (6 s), 13–15 (2 s).
        assert_eq!(c.silences, tl(&[(0.0, 3.0), (6.0, 12.0), (13.0, 15.0)]));
        assert_eq!(c.long_silences, tl(&[(6.0, 12.0)]));
        assert_eq!(c.silence_total(), Time::from_secs(11.0));
    }

    #[test]
    fn interruption_needs_200ms_overlap_and_a_long_turn() {
        // Customer cuts in at 3.0 while the agent speaks until 3.5, then
        // talks for 3 s: an interruption with 0.5 s overlap.
        let c = run(&[(0.0, 3.5)], &[(3.0, 6.0)], 10.0);
        assert_eq!(c.events.len(), 1);
        let e = &c.events[0];
        assert_eq!(
            (e.kind, e.interrupter.as_str(), e.interrupted.as_str()),
            (OverlapKind::Interruption, "customer", "agent")
        );
        assert_eq!(e.overlap, Time::from_secs(0.5));
        assert_eq!(c.speaker("customer").unwrap().interruptions_made, 1);
        assert_eq!(c.speaker("agent").unwrap().interruptions_suffered, 1);
        assert_eq!(c.overlaps, tl(&[(3.0, 3.5)]));
    }

    #[test]
    fn short_overlap_at_a_turn_exchange_is_not_an_interruption() {
        let c = run(&[(0.0, 3.1)], &[(3.0, 6.0)], 10.0);
        assert!(c.events.is_empty());
        assert_eq!(c.turns.len(), 2);
        assert_eq!(c.turns[1].latency, Some(Time::from_secs(-0.1)));
    }

    #[test]
    fn backchannel_is_short_and_the_speaker_goes_on() {
        let c = run(&[(0.0, 6.0)], &[(2.0, 2.6)], 10.0);
        assert_eq!(c.events.len(), 1);
        assert_eq!(c.events[0].kind, OverlapKind::Backchannel);
        assert_eq!(c.speaker("customer").unwrap().backchannels_made, 1);
        assert_eq!(c.speaker("customer").unwrap().interruptions_made, 0);
        // The backchannel does not take the floor: one agent turn.
        assert_eq!(c.turns.len(), 1);
        assert_eq!(
            c.speaker("agent").unwrap().longest_monologue,
            Some(Span::from_secs(0.0, 6.0))
        );
    }

    #[test]
    fn short_utterance_that_stops_the_speaker_is_an_interruption() {
        // "Wait!" (0.6 s) while the agent speaks, and the agent stops.
        let c = run(&[(0.0, 2.5)], &[(2.0, 2.6)], 5.0);
        assert_eq!(c.events[0].kind, OverlapKind::Interruption);
    }

    #[test]
    fn simultaneous_starts_interrupt_nobody() {
        let c = run(&[(1.0, 3.0)], &[(1.0, 4.0)], 5.0);
        assert!(c.events.is_empty());
        assert_eq!(c.overlaps, tl(&[(1.0, 3.0)]));
    }

    #[test]
    fn all_silence_and_one_speaker_only() {
        let c = run(&[], &[], 10.0);
        assert_eq!(c.silences, tl(&[(0.0, 10.0)]));
        assert!(c.turns.is_empty() && c.events.is_empty());
        assert_eq!(c.speaker("agent").unwrap().talk.share_of_speech, 0.0);
        assert_eq!(c.listening_share, Some(0.0));

        let c = run(&[(0.0, 10.0)], &[], 10.0);
        assert!(c.silences.is_empty());
        assert_eq!(c.speaker("agent").unwrap().talk.share_of_speech, 1.0);
        assert_eq!(
            c.speaker("agent").unwrap().longest_monologue,
            Some(Span::from_secs(0.0, 10.0))
        );
    }

    #[test]
    fn overlaps_at_the_file_edges_are_cropped() {
        let c = run(&[(-1.0, 2.0)], &[(0.0, 12.0)], 10.0);
        assert_eq!(c.overlaps, tl(&[(0.0, 2.0)]));
        assert_eq!(
            c.speaker("customer").unwrap().talk.time,
            Time::from_secs(10.0)
        );
        // The customer started at 0 together with the agent: no event.
        assert!(c.events.is_empty());
    }

    #[test]
    fn response_latency_per_responder() {
        let c = run(&[(0.0, 2.0), (5.0, 6.0)], &[(2.5, 4.0), (7.0, 8.0)], 10.0);
        let cust = c.speaker("customer").unwrap();
        assert_eq!(cust.latency_count, 2);
        assert_eq!(cust.latency_median, Some(Time::from_secs(0.5)));
        assert_eq!(cust.latency_p90, Some(Time::from_secs(1.0)));
        let agent = c.speaker("agent").unwrap();
        assert_eq!(agent.latency_median, Some(Time::from_secs(1.0)));
    }

    #[test]
    fn pauses_inside_an_utterance_do_not_split_it() {
        // A 0.3 s pause inside the customer's cut-in keeps it one utterance
        // (1.6 s), so it is an interruption, not a backchannel.
        let c = run(&[(0.0, 5.0)], &[(2.0, 2.8), (3.1, 3.6)], 6.0);
        assert_eq!(c.events.len(), 1);
        assert_eq!(c.events[0].kind, OverlapKind::Interruption);
    }
}
