//! The state of the live meter: from the detector's frame-by-frame
//! decisions and finished segments to the figures on screen, the alerts and
//! the events.
//!
//! Nothing here knows about threads or clocks: [`Meter`] is fed what the
//! pipeline gives a tap (frames with the detector's running decision,
//! finished segments, watermarks, the end) and answers with a
//! [`Snapshot`] and a list of [`Event`]s, so it is tested with plain calls.
//!
//! *Speaking now* and the *silence timer* follow the detector's running
//! decision ([`crate::pipeline::Tap::activity`]) frame by frame, and so do
//! the `speech_start` / `speech_end` events. The *figures* (talk shares,
//! interruptions, overlap, monologues) are those of
//! [`crate::conversation::analyze`] — the report's own definitions — over
//! the speech known so far: the finished segments, and after each
//! channel's watermark (where segments are still being decided) the
//! running decision. Every `update_interval_s` they are recomputed; when the
//! call ends, only finished segments remain, and the figures are exactly
//! the report's.
//!
//! *Speaking pace* is the acoustic syllable rate of each finished segment
//! ([`crate::annotate::pace::acoustic_pace`] on the features' syllable
//! envelope), in estimated words per minute, over the whole call and the
//! recent window.

use super::LiveConfig;
use super::events::{AlertKind, AlertState, Event, secs};
use crate::annotate::pace::{SyllableConfig, acoustic_pace, envelope_from_features};
use crate::conversation::{self, ConversationConfig, OverlapKind};
use crate::dsp::features::FrameFeatures;
use crate::time::{Time, round_ms};
use crate::timeline::{Annotation, Span, Timeline};
use serde::Serialize;
use std::collections::VecDeque;

/// What the meter is configured with.
#[derive(Clone, Debug)]
pub struct MeterSetup {
    /// Speaker ids in channel order.
    pub speakers: Vec<String>,
    /// Alerts and rhythm.
    pub live: LiveConfig,
    /// The definitions of the figures.
    pub conversation: ConversationConfig,
    /// The syllable-rate estimate.
    pub syllables: SyllableConfig,
    /// A frame with at least this periodicity is voiced (the detector's
    /// `voiced_periodicity`).
    pub voiced_periodicity: f32,
    /// Frames the detector's decision lags its input (its lookahead).
    pub lookahead: i64,
}

/// One speaker on the meter.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SpeakerNow {
    /// Speaker id.
    pub id: String,
    /// Speaking at this moment.
    pub speaking: bool,
    /// Talk time so far, s.
    pub talk_s: f64,
    /// Share of all speech so far (0..1).
    pub share: f64,
    /// Share of speech over the recent window.
    pub share_recent: f64,
    /// Interruptions this speaker made.
    pub interruptions_made: usize,
    /// The longest turn so far, s.
    pub longest_monologue_s: f64,
    /// The current turn, s, when this speaker holds the floor.
    pub current_turn_s: Option<f64>,
    /// Estimated words per minute over the call.
    pub pace_wpm: Option<f64>,
    /// ... over the recent window.
    pub pace_recent_wpm: Option<f64>,
}

/// A capture device on the meter.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeviceNow {
    /// Its name.
    pub name: String,
    /// `None` while it captures, else what is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// What the capture side reports (for the meter's status line).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CaptureNow {
    /// Callbacks that dropped audio because the analysis fell behind.
    pub overruns: u64,
    /// Audio dropped by them, s.
    pub dropped_s: f64,
    /// The devices (none for a replay).
    pub devices: Vec<DeviceNow>,
}

/// The meter's figures at one moment: what the screen shows and what
/// `snapshot` events carry. Seconds at this edge.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Stream time of the figures, s.
    pub t: f64,
    /// The call has ended (these are the final figures).
    pub finished: bool,
    /// The recent window, s.
    pub recent_window_s: f64,
    /// Per speaker, in channel order.
    pub speakers: Vec<SpeakerNow>,
    /// Two or more speak at this moment.
    pub overlap_now: bool,
    /// Overlapped speech so far, s.
    pub overlap_s: f64,
    /// ... over the recent window, s.
    pub overlap_recent_s: f64,
    /// Time since anybody spoke, s (0 while somebody speaks).
    pub silence_now_s: f64,
    /// Silences of at least `silence_min_s` so far, s.
    pub silence_total_s: f64,
    /// Alerts in force.
    pub alerts: Vec<AlertKind>,
    /// Capture health.
    pub capture: CaptureNow,
}

impl Snapshot {
    /// The speaker with id `id`.
    pub fn speaker(&self, id: &str) -> Option<&SpeakerNow> {
        self.speakers.iter().find(|s| s.id == id)
    }
}

/// A finished segment's syllable count, for the pace.
#[derive(Clone, Copy, Debug)]
struct PaceSeg {
    end: Time,
    nuclei: u32,
    speaking: Time,
}

#[derive(Clone, Debug, Default)]
struct Channel {
    /// Finished segments.
    speech: Timeline,
    /// Segments not yet delivered start at or after this.
    watermark: Time,
    /// The running decision and since when (frame).
    active: bool,
    run_start: i64,
    /// A pause began at this frame; its `speech_end` waits for the hold.
    pending_end: Option<i64>,
    /// Runs of the running decision that ended after the watermark.
    provisional: Vec<Span>,
    /// Syllable envelope and voicing per frame, from `env_base` on.
    env: VecDeque<(f32, bool)>,
    env_base: i64,
    pace: VecDeque<PaceSeg>,
    pace_nuclei: u64,
    pace_time: Time,
}

/// The live meter.
#[derive(Debug)]
pub struct Meter {
    setup: MeterSetup,
    agent: Option<usize>,
    channels: Vec<Channel>,
    /// Frames seen (the next frame's index).
    frames: i64,
    /// Set at the end of the call.
    end: Option<Time>,
    /// Last frame with somebody speaking (running decision), exclusive.
    last_voice: i64,
    next_update: i64,
    next_snapshot: i64,
    snap: Snapshot,
    alerts: Vec<AlertKind>,
    /// Agent interruptions already announced (their onsets).
    announced: Vec<Time>,
    interruption_until: i64,
    events: Vec<Event>,
    scratch: Vec<FrameFeatures>,
}

impl Meter {
    /// A meter for a call with `setup.speakers`.
    pub fn new(setup: MeterSetup) -> Meter {
        let n = setup.speakers.len();
        let agent = setup.speakers.iter().position(|s| s == "agent");
        let snap = Snapshot {
            recent_window_s: setup.live.recent_window_s,
            speakers: setup
                .speakers
                .iter()
                .map(|id| SpeakerNow {
                    id: id.clone(),
                    ..SpeakerNow::default()
                })
                .collect(),
            ..Snapshot::default()
        };
        Meter {
            agent,
            channels: vec![Channel::default(); n],
            frames: 0,
            end: None,
            last_voice: 0,
            next_update: 0,
            next_snapshot: frames_of(setup.live.snapshot_interval_s),
            snap,
            alerts: Vec::new(),
            announced: Vec::new(),
            interruption_until: i64::MIN,
            events: Vec::new(),
            scratch: Vec::new(),
            setup,
        }
    }

    /// Stream time reached.
    pub fn now(&self) -> Time {
        self.end.unwrap_or(Time::from_frames(self.frames))
    }

    /// The figures as of the last update.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Sets the capture health shown with the figures.
    pub fn set_capture(&mut self, capture: CaptureNow) {
        self.snap.capture = capture;
    }

    /// Frames of every speaker (row-major as [`crate::pipeline::Tap::frames`]
    /// gives them) with the detector's running decision for each.
    pub fn push(&mut self, rows: &[FrameFeatures], active: &[bool]) {
        let n = self.channels.len();
        if n == 0 || rows.len() != active.len() || self.end.is_some() {
            return;
        }
        for c in 0..n {
            self.scratch.clear();
            self.scratch.extend(rows.iter().skip(c).step_by(n).copied());
            let env = envelope_from_features(&self.scratch, &self.setup.syllables);
            let vp = self.setup.voiced_periodicity;
            let ch = &mut self.channels[c];
            if ch.env.is_empty() {
                ch.env_base = self.scratch.first().map_or(0, |f| f.index);
            }
            for (f, e) in self.scratch.iter().zip(env) {
                ch.env
                    .push_back((e, f.periodicity >= vp && f.pitch_hz > 0.0));
            }
        }
        let hold = frames_of(self.setup.live.speech_end_hold_s);
        for (row, act) in rows.chunks_exact(n).zip(active.chunks_exact(n)) {
            let index = row[0].index;
            // The decision is about the frame `lookahead` frames back.
            let at = (index - self.setup.lookahead).max(0);
            for (c, &a) in act.iter().enumerate() {
                let ch = &mut self.channels[c];
                if a && !ch.active {
                    ch.active = true;
                    ch.run_start = at;
                    // Speech again within the hold: the pause was too short
                    // to announce, and so is this restart.
                    if ch.pending_end.take().is_none() {
                        self.events.push(Event::SpeechStart {
                            speaker: self.setup.speakers[c].clone(),
                            t: secs(Time::from_frames(at)),
                        });
                    }
                } else if !a && ch.active {
                    ch.active = false;
                    ch.provisional.push(Span::new(
                        Time::from_frames(ch.run_start),
                        Time::from_frames(at),
                    ));
                    ch.pending_end = Some(at);
                }
                if let Some(end) = ch.pending_end
                    && at - end >= hold
                {
                    ch.pending_end = None;
                    self.events.push(Event::SpeechEnd {
                        speaker: self.setup.speakers[c].clone(),
                        t: secs(Time::from_frames(end)),
                    });
                }
            }
            self.frames = index + 1;
            let speaking = self.channels.iter().filter(|c| c.active).count();
            if speaking > 0 {
                self.last_voice = (at + 1).max(self.last_voice);
            }
            self.tick();
        }
    }

    /// A finished segment of channel `c`.
    pub fn segment(&mut self, c: usize, span: Span) {
        let cfg = self.setup.syllables.clone();
        let Some(ch) = self.channels.get_mut(c) else {
            return;
        };
        ch.speech.push(span);
        let (s, e) = (span.start.frame(), span.end.frame());
        let lo = usize::try_from(s - ch.env_base).unwrap_or(0);
        let hi = usize::try_from(e - ch.env_base)
            .unwrap_or(0)
            .min(ch.env.len());
        if lo < hi {
            let env: Vec<f32> = ch.env.range(lo..hi).map(|p| p.0).collect();
            let voiced: Vec<bool> = ch.env.range(lo..hi).map(|p| p.1).collect();
            let speech = vec![true; env.len()];
            if let Some(p) = acoustic_pace(&env, &voiced, &speech, &cfg) {
                let seg = PaceSeg {
                    end: span.end,
                    nuclei: p.nuclei.len() as u32,
                    speaking: p.speaking_time,
                };
                ch.pace_nuclei += u64::from(seg.nuclei);
                ch.pace_time += seg.speaking;
                ch.pace.push_back(seg);
            }
        }
    }

    /// Segments of channel `c` not yet delivered start at or after `t`.
    pub fn watermark(&mut self, c: usize, t: Time) {
        let Some(ch) = self.channels.get_mut(c) else {
            return;
        };
        ch.watermark = ch.watermark.max(t);
        let w = ch.watermark;
        ch.provisional.retain(|s| s.end > w);
        let keep_from = w.frame();
        while ch.env_base < keep_from && !ch.env.is_empty() {
            ch.env.pop_front();
            ch.env_base += 1;
        }
    }

    /// The call has ended after `duration`: every segment has been
    /// delivered. Closes open speech, computes the final figures (those of
    /// the report) and emits the `end` event.
    pub fn finish(&mut self, duration: Time) {
        if self.end.is_some() {
            return;
        }
        for (c, ch) in self.channels.iter_mut().enumerate() {
            let end = match (ch.active, ch.pending_end.take()) {
                (true, _) => Some(duration),
                (false, Some(e)) => Some(Time::from_frames(e).min(duration)),
                (false, None) => None,
            };
            ch.active = false;
            if let Some(e) = end {
                self.events.push(Event::SpeechEnd {
                    speaker: self.setup.speakers[c].clone(),
                    t: secs(e),
                });
            }
            ch.provisional.clear();
            ch.watermark = duration;
        }
        self.end = Some(duration);
        for kind in self.alerts.clone() {
            if kind != AlertKind::Interruption {
                let value = self.alert_value(kind);
                self.alert(kind, AlertState::Off, value);
            }
        }
        self.update();
        self.snap.finished = true;
        self.snap.alerts.clear();
        self.events.push(Event::End(self.snap.clone()));
    }

    /// Per frame: the silence timer and the periodic work.
    fn tick(&mut self) {
        let now = self.frames;
        let silence = if self.channels.iter().any(|c| c.active) {
            0
        } else {
            now - self.last_voice
        };
        let dead_air = Time::from_frames(silence).secs() >= self.setup.live.dead_air_s;
        let on = self.alerts.contains(&AlertKind::DeadAir);
        if dead_air && !on {
            self.alert(
                AlertKind::DeadAir,
                AlertState::On,
                Time::from_frames(silence).secs(),
            );
        } else if !dead_air && on {
            let last = Time::from_frames(self.snap_silence_frames()).secs();
            self.alert(AlertKind::DeadAir, AlertState::Off, last);
        }
        self.snap.silence_now_s = round_ms(Time::from_frames(silence).secs());
        self.snap.overlap_now = self.channels.iter().filter(|c| c.active).count() >= 2;
        for (s, ch) in self.snap.speakers.iter_mut().zip(&self.channels) {
            s.speaking = ch.active || ch.pending_end.is_some();
        }
        if now >= self.interruption_until && self.alerts.contains(&AlertKind::Interruption) {
            self.alerts.retain(|a| *a != AlertKind::Interruption);
        }
        if now >= self.next_update {
            self.next_update = now + frames_of(self.setup.live.update_interval_s).max(1);
            self.update();
        }
        self.snap.t = round_ms(self.now().secs());
        self.snap.alerts = self.alerts.clone();
        let every = frames_of(self.setup.live.snapshot_interval_s);
        if every > 0 && now >= self.next_snapshot {
            self.next_snapshot = now + every;
            self.events.push(Event::Snapshot(self.snap.clone()));
        }
    }

    /// The silence the dead-air alert measured when it ended: the gap
    /// before the speech that ended it.
    fn snap_silence_frames(&self) -> i64 {
        (self.snap.silence_now_s * 100.0).round() as i64
    }

    /// Speech known so far: finished segments, then the running decision.
    fn speech(&self) -> Annotation {
        let now = self.now();
        let mut ann = Annotation::new();
        for (id, ch) in self.setup.speakers.iter().zip(&self.channels) {
            let mut spans: Vec<Span> = ch.speech.spans().to_vec();
            let tail = |s: Span| Span::new(s.start.max(ch.watermark), s.end.min(now));
            spans.extend(ch.provisional.iter().map(|&s| tail(s)));
            if ch.active {
                spans.push(tail(Span::new(Time::from_frames(ch.run_start), now)));
            }
            ann.insert(id, Timeline::from_spans(spans));
        }
        ann
    }

    /// Recomputes the figures and the alerts that depend on them.
    fn update(&mut self) {
        let now = self.now();
        let speech = self.speech();
        let conv = conversation::analyze(&speech, now, &self.setup.conversation);
        let live = self.setup.live.clone();
        let window = Span::new(
            (now - Time::from_secs(live.recent_window_s)).max(Time::ZERO),
            now,
        );
        let recent: Vec<Time> = speech.tracks().map(|(_, t)| t.covered(window)).collect();
        let recent_total: Time = recent.iter().copied().sum();
        let utt_gap = Time::from_secs(self.setup.conversation.utterance_gap_s);
        for (c, s) in self.snap.speakers.iter_mut().enumerate() {
            let Some(f) = conv.figures.get(c) else {
                continue;
            };
            s.talk_s = round_ms(f.talk.time.secs());
            s.share = f.talk.share_of_speech;
            s.share_recent = ratio(recent[c], recent_total);
            s.interruptions_made = f.interruptions_made;
            s.longest_monologue_s =
                round_ms(f.longest_monologue.map_or(0.0, |m| m.duration().secs()));
            // The speaker's latest turn, not the call's: a turn the other
            // side starts inside it (a question the agent talks over) does
            // not end it, as in `longest_monologue`.
            s.current_turn_s = conv
                .turns
                .iter()
                .rfind(|t| t.speaker == s.id)
                .filter(|t| now - t.span.end <= utt_gap)
                .map(|t| round_ms((now - t.span.start).secs()));
            let ch = &self.channels[c];
            s.pace_wpm = wpm(ch.pace_nuclei, ch.pace_time, &self.setup.syllables);
            let (n, t) = ch
                .pace
                .iter()
                .filter(|p| p.end > window.start)
                .fold((0u64, Time::ZERO), |(n, t), p| {
                    (n + u64::from(p.nuclei), t + p.speaking)
                });
            s.pace_recent_wpm = wpm(n, t, &self.setup.syllables);
        }
        // Pace older than the window is in the totals already.
        for ch in &mut self.channels {
            while ch.pace.front().is_some_and(|p| p.end <= window.start) {
                ch.pace.pop_front();
            }
        }
        self.snap.overlap_s = round_ms(conv.overlaps.total().secs());
        self.snap.overlap_recent_s = round_ms(conv.overlaps.covered(window).secs());
        self.snap.silence_total_s = round_ms(conv.silence_total().secs());

        let Some(a) = self.agent else {
            return;
        };
        let agent_id = self.setup.speakers[a].clone();
        // Interruptions the agent made that have not been announced. The
        // running decision may still be revised, so an onset is announced
        // once, matched with a tolerance of a quarter second.
        let tolerance = Time::from_secs(0.25);
        let fresh: Vec<(Time, Time)> = conv
            .events
            .iter()
            .filter(|e| e.kind == OverlapKind::Interruption && e.interrupter == agent_id)
            .filter(|e| {
                !self
                    .announced
                    .iter()
                    .any(|&t| (t - e.at).0.abs() <= tolerance.0)
            })
            .map(|e| (e.at, e.overlap))
            .collect();
        if self.end.is_none() {
            for (at, overlap) in fresh {
                self.announced.push(at);
                self.events.push(Event::Alert {
                    alert: AlertKind::Interruption,
                    state: AlertState::On,
                    t: secs(at),
                    value: round_ms(overlap.secs()),
                    threshold: self.setup.conversation.interruption_min_overlap_s,
                });
                if !self.alerts.contains(&AlertKind::Interruption) {
                    self.alerts.push(AlertKind::Interruption);
                }
                self.interruption_until = self.frames + frames_of(live.interruption_alert_s);
            }
        }
        if self.end.is_some() {
            return;
        }
        let share = self.snap.speakers[a].share_recent;
        let enough = recent_total.secs() >= live.share_min_speech_s;
        self.toggle(
            AlertKind::AgentShare,
            enough && share > live.agent_share_max,
            share,
        );
        let turn = self.snap.speakers[a].current_turn_s.unwrap_or(0.0);
        self.toggle(AlertKind::Monologue, turn > live.monologue_max_s, turn);
    }

    fn toggle(&mut self, kind: AlertKind, on: bool, value: f64) {
        let was = self.alerts.contains(&kind);
        if on && !was {
            self.alert(kind, AlertState::On, value);
        } else if !on && was {
            self.alert(kind, AlertState::Off, value);
        }
    }

    fn alert_value(&self, kind: AlertKind) -> f64 {
        let agent = self.agent.and_then(|a| self.snap.speakers.get(a));
        match kind {
            AlertKind::AgentShare => agent.map_or(0.0, |s| s.share_recent),
            AlertKind::Monologue => agent.and_then(|s| s.current_turn_s).unwrap_or(0.0),
            AlertKind::DeadAir => self.snap.silence_now_s,
            AlertKind::Interruption => 0.0,
        }
    }

    fn alert(&mut self, kind: AlertKind, state: AlertState, value: f64) {
        let live = &self.setup.live;
        let threshold = match kind {
            AlertKind::AgentShare => live.agent_share_max,
            AlertKind::Monologue => live.monologue_max_s,
            AlertKind::DeadAir => live.dead_air_s,
            AlertKind::Interruption => self.setup.conversation.interruption_min_overlap_s,
        };
        match state {
            AlertState::On => {
                if !self.alerts.contains(&kind) {
                    self.alerts.push(kind);
                    self.alerts.sort();
                }
            }
            AlertState::Off => self.alerts.retain(|a| *a != kind),
        }
        self.events.push(Event::Alert {
            alert: kind,
            state,
            t: secs(self.now()),
            value: if kind == AlertKind::AgentShare {
                (value * 1000.0).round() / 1000.0
            } else {
                round_ms(value)
            },
            threshold,
        });
    }
}

/// Whole frames in `s` seconds.
fn frames_of(s: f64) -> i64 {
    Time::from_secs(s).frame()
}

fn ratio(a: Time, b: Time) -> f64 {
    if b.0 > 0 {
        a.0 as f64 / b.0 as f64
    } else {
        0.0
    }
}

fn wpm(nuclei: u64, time: Time, cfg: &SyllableConfig) -> Option<f64> {
    // Under three seconds of speech, a rate says little.
    (time.secs() >= 3.0)
        .then(|| (nuclei as f64 / time.secs() * 60.0 / cfg.syllables_per_word).round())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(live: LiveConfig) -> MeterSetup {
        MeterSetup {
            speakers: vec!["agent".into(), "customer".into()],
            live,
            conversation: ConversationConfig::default(),
            syllables: SyllableConfig::default(),
            voiced_periodicity: 0.6,
            lookahead: 0,
        }
    }

    /// Feeds frames `from..to` with the given running decisions.
    fn feed(m: &mut Meter, from: i64, to: i64, state: impl Fn(i64) -> [bool; 2]) {
        let mut rows = Vec::new();
        let mut act = Vec::new();
        for i in from..to {
            for (c, a) in state(i).into_iter().enumerate() {
                rows.push(FrameFeatures {
                    index: i,
                    ..FrameFeatures::default()
                });
                act.push(a);
                let _ = c;
            }
        }
        m.push(&rows, &act);
    }

    fn secs_frames(s: f64) -> i64 {
        frames_of(s)
    }

    #[test]
    fn speech_events_follow_the_running_decision_at_once() {
        let mut m = Meter::new(setup(LiveConfig::default()));
        let on = |i: i64| [(100..250).contains(&i), false];
        feed(&mut m, 0, 120, on);
        let ev = m.take_events();
        assert_eq!(
            ev,
            vec![Event::SpeechStart {
                speaker: "agent".into(),
                t: 1.0
            }]
        );
        assert!(m.snapshot().speakers[0].speaking);
        feed(&mut m, 120, 300, on);
        let ev = m.take_events();
        assert!(ev.contains(&Event::SpeechEnd {
            speaker: "agent".into(),
            t: 2.5
        }));
        assert!(!m.snapshot().speakers[0].speaking);
        assert!(
            (m.snapshot().silence_now_s - 0.5).abs() < 0.011,
            "{:?}",
            m.snapshot()
        );
    }

    #[test]
    fn dead_air_alert_turns_on_and_off() {
        let mut m = Meter::new(setup(LiveConfig::default()));
        feed(&mut m, 0, 100, |i| [i < 50, false]);
        feed(&mut m, 100, 600, |_| [false, false]);
        let ev = m.take_events();
        let on = ev.iter().find_map(|e| match e {
            Event::Alert {
                alert: AlertKind::DeadAir,
                state: AlertState::On,
                t,
                ..
            } => Some(*t),
            _ => None,
        });
        assert_eq!(on, Some(5.5));
        assert!(m.snapshot().alerts.contains(&AlertKind::DeadAir));
        feed(&mut m, 600, 610, |_| [false, true]);
        let ev = m.take_events();
        assert!(ev.iter().any(|e| matches!(
            e,
            Event::Alert {
                alert: AlertKind::DeadAir,
                state: AlertState::Off,
                ..
            }
        )));
        assert!(!m.snapshot().alerts.contains(&AlertKind::DeadAir));
    }

    #[test]
    fn figures_use_segments_then_the_running_decision_and_end_as_the_report() {
        let mut m = Meter::new(setup(LiveConfig::default()));
        // Agent speaks 0–10 s, customer 8–12 s: an interruption by the
        // customer is not an agent alert.
        let state = |i: i64| [i < 1000, (800..1200).contains(&i)];
        feed(&mut m, 0, 1100, state);
        let s = m.snapshot().clone();
        assert!((s.speakers[0].talk_s - 10.0).abs() < 0.3, "{s:?}");
        assert!(s.speakers[0].share > 0.7);
        // The detector finishes the agent's segment a little differently.
        m.segment(0, Span::from_secs(0.02, 9.98));
        m.watermark(0, Time::from_secs(10.5));
        feed(&mut m, 1100, 1400, state);
        m.segment(1, Span::from_secs(8.0, 12.0));
        m.watermark(1, Time::from_secs(12.5));
        m.finish(Time::from_secs(14.0));
        let ev = m.take_events();
        let Some(Event::End(end)) = ev.last() else {
            panic!("{ev:?}")
        };
        let mut ann = Annotation::new();
        ann.insert("agent", Timeline::from_spans([Span::from_secs(0.02, 9.98)]));
        ann.insert(
            "customer",
            Timeline::from_spans([Span::from_secs(8.0, 12.0)]),
        );
        let conv =
            conversation::analyze(&ann, Time::from_secs(14.0), &ConversationConfig::default());
        assert_eq!(end.speakers[0].share, conv.figures[0].talk.share_of_speech);
        assert_eq!(
            end.speakers[1].interruptions_made,
            conv.figures[1].interruptions_made
        );
        assert_eq!(end.overlap_s, round_ms(conv.overlaps.total().secs()));
        assert_eq!(end.silence_total_s, round_ms(conv.silence_total().secs()));
        assert!(end.finished);
    }

    #[test]
    fn agent_share_monologue_and_interruption_alerts() {
        let live = LiveConfig {
            monologue_max_s: 30.0,
            ..LiveConfig::default()
        };
        let mut m = Meter::new(setup(live));
        // The agent talks for 40 s while the customer says 3 s (at 10 s).
        let state = |i: i64| [i < secs_frames(40.0), (1000..1300).contains(&i)];
        feed(&mut m, 0, secs_frames(40.0), state);
        let ev = m.take_events();
        let kinds: Vec<AlertKind> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Alert {
                    alert,
                    state: AlertState::On,
                    ..
                } => Some(*alert),
                _ => None,
            })
            .collect();
        assert!(kinds.contains(&AlertKind::AgentShare), "{kinds:?}");
        assert!(kinds.contains(&AlertKind::Monologue), "{kinds:?}");
        // The customer talks; the agent cuts in after 2 s for 2 s.
        let t0 = secs_frames(41.0);
        let state = move |i: i64| {
            [
                (t0 + 200..t0 + 400).contains(&i),
                (t0..t0 + 600).contains(&i),
            ]
        };
        feed(&mut m, secs_frames(40.0), t0 + 700, state);
        let ev = m.take_events();
        assert!(
            ev.iter().any(|e| matches!(
                e,
                Event::Alert {
                    alert: AlertKind::Interruption,
                    ..
                }
            )),
            "{ev:?}"
        );
        assert_eq!(m.snapshot().speakers[0].interruptions_made, 1);
    }
}
