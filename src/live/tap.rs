//! The meter as a pipeline tap: [`Meter`] on the tap's thread, its
//! snapshot shared with the screen, its events stamped and sent to the
//! events writer.

use super::clock::StreamClock;
use super::events::{Event, Stamped, secs};
use super::meter::{CaptureNow, DeviceNow, Meter, MeterSetup, Snapshot};
use super::ring::FeedStatus;
use crate::dsp::features::FrameFeatures;
use crate::pipeline::Tap;
use crate::time::{RATE, Time, round_ms};
use crate::vad::Segment;
use crossbeam_channel::Sender;
use std::sync::{Arc, Mutex};

/// The snapshot the screen draws from.
pub type SharedSnapshot = Arc<Mutex<Snapshot>>;

/// How often the shared snapshot is refreshed, in stream time (the screen
/// draws ten times a second).
const PUBLISH_EVERY: Time = Time(RATE as i64 / 50);

/// The live meter's tap.
pub struct LiveTap {
    meter: Meter,
    rows: Vec<FrameFeatures>,
    clock: Arc<StreamClock>,
    shared: SharedSnapshot,
    events: Option<Sender<Stamped>>,
    feed: Arc<FeedStatus>,
    problems: Vec<Option<String>>,
    published: Time,
}

impl LiveTap {
    /// A tap feeding `shared` and `events`; `start` is the session's first
    /// event, sent at once.
    pub fn new(
        setup: MeterSetup,
        clock: Arc<StreamClock>,
        shared: SharedSnapshot,
        events: Option<Sender<Stamped>>,
        feed: Arc<FeedStatus>,
        start: Event,
    ) -> LiveTap {
        let meter = Meter::new(setup);
        if let Ok(mut s) = shared.lock() {
            *s = meter.snapshot().clone();
        }
        let mut tap = LiveTap {
            meter,
            rows: Vec::new(),
            problems: vec![None; feed.devices.len()],
            clock,
            shared,
            events,
            feed,
            published: Time::ZERO,
        };
        tap.send(vec![start]);
        tap
    }

    fn send(&mut self, events: Vec<Event>) {
        let Some(tx) = &self.events else {
            return;
        };
        let emitted = secs(self.clock.now());
        for event in events {
            // A writer that failed reports its error at the end.
            let _ = tx.send(Stamped { event, emitted });
        }
    }

    /// Device changes since the last look (the capture supervisor writes
    /// them; this is not the audio callback, so a lock is fine).
    fn capture(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        let mut devices = Vec::with_capacity(self.feed.devices.len());
        for (d, last) in self.feed.devices.iter().zip(self.problems.iter_mut()) {
            let now = d.problem.lock().map(|p| p.clone()).unwrap_or(None);
            if now != *last {
                events.push(Event::Device {
                    device: d.name.clone(),
                    state: if now.is_some() { "lost" } else { "reconnected" }.into(),
                    message: now.clone(),
                });
                *last = now.clone();
            }
            devices.push(DeviceNow {
                name: d.name.clone(),
                problem: now,
            });
        }
        self.meter.set_capture(CaptureNow {
            overruns: self.feed.overruns(),
            dropped_s: round_ms(self.feed.dropped_secs()),
            devices,
        });
        events
    }

    fn publish(&mut self, force: bool) {
        let now = self.meter.now();
        if !force && now - self.published < PUBLISH_EVERY {
            return;
        }
        self.published = now;
        if let Ok(mut s) = self.shared.lock() {
            s.clone_from(self.meter.snapshot());
        }
    }
}

impl Tap for LiveTap {
    fn audio(&mut self, _channel: usize, _start: Time, _samples: &[f32]) -> Result<(), String> {
        Ok(())
    }

    fn segment(&mut self, segment: &Segment) -> Result<(), String> {
        self.meter.segment(segment.channel, segment.span);
        Ok(())
    }

    fn frames(&mut self, rows: &[FrameFeatures], _scores: &[f32]) -> Result<(), String> {
        self.rows.clear();
        self.rows.extend_from_slice(rows);
        Ok(())
    }

    fn activity(&mut self, active: &[bool]) -> Result<(), String> {
        self.meter.push(&self.rows, active);
        let mut events = self.capture();
        events.extend(self.meter.take_events());
        let force = !events.is_empty();
        self.send(events);
        self.publish(force);
        Ok(())
    }

    fn watermark(&mut self, channel: usize, t: Time) -> Result<(), String> {
        self.meter.watermark(channel, t);
        Ok(())
    }

    fn finish(&mut self, duration: Time) -> Result<(), String> {
        let mut events = self.capture();
        self.meter.finish(duration);
        events.extend(self.meter.take_events());
        self.send(events);
        self.publish(true);
        Ok(())
    }
}
