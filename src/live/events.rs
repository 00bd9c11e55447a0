//! The meter's events as JSON lines (`--events FILE|-`), for softphones
//! and CRMs.
//!
//! One JSON object per line, flushed as it is written. Every line has
//! `event` (its kind) and `emitted` (the stream time, in seconds, at which
//! the meter emitted it; see the latency notes in [`super`]); times of
//! what happened are `t`, in seconds from the start of the call:
//!
//! ```text
//! {"event":"start","speakers":["agent","customer"],"source":"…","sample_rate":8000,"speed":1.0,"emitted":0.0}
//! {"event":"speech_start","speaker":"agent","t":0.53,"emitted":0.58}
//! {"event":"speech_end","speaker":"agent","t":3.3,"emitted":3.36}
//! {"event":"alert","alert":"dead_air","state":"on","t":20.1,"value":5.0,"threshold":5.0,"emitted":20.12}
//! {"event":"alert","alert":"dead_air","state":"off","t":21.4,"value":6.3,"threshold":5.0,"emitted":21.45}
//! {"event":"alert","alert":"interruption","state":"on","t":30.2,"value":0.45,"threshold":0.2,"emitted":31.5}
//! {"event":"device","device":"hw:1","state":"lost","message":"…","emitted":40.0}
//! {"event":"snapshot","t":45.0,…the meter's figures…,"emitted":45.01}
//! {"event":"end","t":60.0,…the final figures…,"emitted":60.2}
//! {"event":"report","files":["hearken-out/call.json","hearken-out/call.rttm"],"emitted":60.3}
//! ```
//!
//! Alerts: `agent_share` (value: the agent's share of speech over the
//! recent window), `monologue` (the agent's current turn, s), `dead_air`
//! (the current silence, s), `interruption` (the agent cut in; value: the
//! overlap, s; no `off`). `snapshot` and `end` carry the fields of
//! [`super::meter::Snapshot`].

use super::meter::Snapshot;
use crate::time::{Time, round_ms};
use crossbeam_channel::{Receiver, Sender, bounded};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Kinds of alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The agent's share of speech over the recent window is too high.
    AgentShare,
    /// The agent's current turn is too long.
    Monologue,
    /// Nobody has spoken for too long.
    DeadAir,
    /// The agent has just interrupted the customer.
    Interruption,
}

impl AlertKind {
    /// Every kind, in display order.
    pub const ALL: [AlertKind; 4] = [
        AlertKind::AgentShare,
        AlertKind::Monologue,
        AlertKind::DeadAir,
        AlertKind::Interruption,
    ];
}

/// Whether an alert starts or ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition has begun.
    On,
    /// It is over.
    Off,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The session has started.
    Start {
        /// Speaker ids in channel order.
        speakers: Vec<String>,
        /// The input: a file, or the capture devices.
        source: String,
        /// The input's sample rate, Hz.
        sample_rate: u32,
        /// The replay speed (1 for a sound card).
        speed: f64,
    },
    /// A speaker starts speaking.
    SpeechStart {
        /// Who.
        speaker: String,
        /// When, s.
        t: f64,
    },
    /// A speaker stops speaking.
    SpeechEnd {
        /// Who.
        speaker: String,
        /// When, s.
        t: f64,
    },
    /// An alert starts or ends.
    Alert {
        /// Which.
        alert: AlertKind,
        /// On or off.
        state: AlertState,
        /// When, s.
        t: f64,
        /// The measured value (share 0..1, or seconds).
        value: f64,
        /// The configured threshold.
        threshold: f64,
    },
    /// A capture device was lost or came back.
    Device {
        /// Its name.
        device: String,
        /// `lost` or `reconnected`.
        state: String,
        /// What is wrong, for people.
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The meter's figures, every `snapshot_interval_s`.
    Snapshot(Snapshot),
    /// The call has ended: the final figures.
    End(Snapshot),
    /// The report files written at the end.
    Report {
        /// Their paths.
        files: Vec<String>,
    },
}

/// Seconds for an event field.
pub fn secs(t: Time) -> f64 {
    round_ms(t.secs())
}

/// An event with the stream time of its emission: one line of output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stamped {
    /// The event.
    #[serde(flatten)]
    pub event: Event,
    /// Stream time of emission, s.
    pub emitted: f64,
}

/// Where events go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventTarget {
    /// Standard output (`--events -`).
    Stdout,
    /// A file, created or truncated.
    File(PathBuf),
}

impl EventTarget {
    /// `-` is standard output, anything else a file.
    pub fn parse(s: &str) -> EventTarget {
        if s == "-" {
            EventTarget::Stdout
        } else {
            EventTarget::File(PathBuf::from(s))
        }
    }
}

/// The writer thread of the events: the meter never waits for a slow
/// consumer of its output beyond the channel's depth.
pub struct EventWriter {
    tx: Sender<Stamped>,
    thread: JoinHandle<Result<u64, String>>,
}

/// Events queued before the meter waits for the writer.
const QUEUE: usize = 4096;

impl EventWriter {
    /// Opens `target` and starts the writer.
    pub fn start(target: &EventTarget) -> Result<EventWriter, String> {
        let (tx, rx) = bounded::<Stamped>(QUEUE);
        let out: Box<dyn Write + Send> = match target {
            EventTarget::Stdout => Box::new(std::io::stdout()),
            EventTarget::File(p) => Box::new(open(p)?),
        };
        let name = match target {
            EventTarget::Stdout => "standard output".to_string(),
            EventTarget::File(p) => p.display().to_string(),
        };
        let thread = std::thread::Builder::new()
            .name("live-events".into())
            .spawn(move || write_all(rx, out, &name))
            .map_err(|e| format!("cannot start the events writer: {e}"))?;
        Ok(EventWriter { tx, thread })
    }

    /// A sender for the meter.
    pub fn sender(&self) -> Sender<Stamped> {
        self.tx.clone()
    }

    /// Waits until every event sent (by every sender, all of which must be
    /// dropped by now) is written; returns how many were.
    pub fn finish(self) -> Result<u64, String> {
        drop(self.tx);
        self.thread
            .join()
            .map_err(|_| "the events writer stopped unexpectedly".to_string())?
    }
}

fn open(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::create(path)
        .map_err(|e| format!("cannot write events to {}: {e}", path.display()))
}

fn write_all(
    rx: Receiver<Stamped>,
    mut out: Box<dyn Write + Send>,
    name: &str,
) -> Result<u64, String> {
    let mut n = 0;
    let mut line = Vec::with_capacity(512);
    for ev in rx.iter() {
        line.clear();
        serde_json::to_writer(&mut line, &ev)
            .map_err(|e| format!("event not serialisable: {e}"))?;
        line.push(b'\n');
        out.write_all(&line)
            .and_then(|_| out.flush())
            .map_err(|e| format!("cannot write events to {name}: {e}"))?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_one_json_object_per_line_with_their_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ev.jsonl");
        let w = EventWriter::start(&EventTarget::File(path.clone())).unwrap();
        let tx = w.sender();
        tx.send(Stamped {
            event: Event::SpeechStart {
                speaker: "agent".into(),
                t: 1.25,
            },
            emitted: 1.3,
        })
        .unwrap();
        tx.send(Stamped {
            event: Event::Alert {
                alert: AlertKind::DeadAir,
                state: AlertState::On,
                t: 9.0,
                value: 5.0,
                threshold: 5.0,
            },
            emitted: 9.01,
        })
        .unwrap();
        drop(tx);
        assert_eq!(w.finish().unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"event":"speech_start","speaker":"agent","t":1.25,"emitted":1.3}"#
        );
        assert_eq!(
            lines[1],
            r#"{"event":"alert","alert":"dead_air","state":"on","t":9.0,"value":5.0,"threshold":5.0,"emitted":9.01}"#
        );
        assert_eq!(EventTarget::parse("-"), EventTarget::Stdout);
    }

    #[test]
    fn an_unwritable_target_is_named() {
        let e = EventWriter::start(&EventTarget::File("/nonexistent-dir/x.jsonl".into()))
            .err()
            .unwrap();
        assert!(e.contains("/nonexistent-dir/x.jsonl"), "{e}");
    }
}
