//! From a sound card's callback to the pipeline: lock-free rings.
//!
//! Each capture device gets one single-producer, single-consumer ring
//! ([`rtrb`]) of interleaved `f32` frames, allocated before its stream
//! starts. The producer half ([`RingWriter`]) lives in the device's audio
//! callback and does nothing but convert and copy; what does not fit is
//! dropped and counted with atomics. The consumer half ([`RingReader`]) is
//! read by [`RingSource`], the pipeline's [`AudioSource`] for sound cards,
//! on the pipeline's decode thread, where waiting is allowed.
//!
//! [`RingSource`] also keeps the timeline true when things go wrong:
//! frames a full ring dropped come back as silence of the same length; a
//! device that has disappeared is replaced by silence at the pace of the
//! wall clock until the capture side hands over a new ring
//! ([`RingSource::replacements`]); two devices whose clocks drift apart are
//! pulled back together by skipping the excess of the one ahead.

use super::clock::StreamClock;
use crate::audio::{AudioError, AudioSource, Format, SourceInfo};
use crate::time::Time;
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Seconds of audio each ring holds: the analysis may stall this long
/// without losing a sample.
pub const RING_SECONDS: usize = 2;
/// How long the source sleeps when it waits for audio.
const POLL: Duration = Duration::from_millis(2);
/// Two devices further apart than this (in their rings) are realigned, s.
const MAX_SKEW_S: f64 = 0.25;

/// What a device's callback reports: atomics only, so that the callback
/// never takes a lock.
#[derive(Debug, Default)]
pub struct DeviceCounters {
    /// Callbacks that could not store everything they were given.
    pub overruns: AtomicU64,
    /// Frames those callbacks dropped.
    pub dropped: AtomicU64,
    /// The device reported that it is gone (unplugged, server stopped).
    pub lost: AtomicBool,
    /// Other stream errors the host reported (xruns of its own...).
    pub errors: AtomicU64,
}

/// One capture device as the meter shows it.
#[derive(Debug)]
pub struct DeviceStatus {
    /// The device's name.
    pub name: String,
    /// Its callback's counters (shared with every stream opened on it).
    pub counters: Arc<DeviceCounters>,
    /// `None` while it captures; otherwise what is wrong, for the screen
    /// (written by the capture supervisor, never by the callback).
    pub problem: Mutex<Option<String>>,
    /// Reconnections so far.
    pub reconnects: AtomicU64,
}

/// The capture devices of a session (none for a replay).
#[derive(Debug, Default)]
pub struct FeedStatus {
    /// One entry per device.
    pub devices: Vec<DeviceStatus>,
    /// Their sample rate, Hz.
    pub rate: u32,
}

impl FeedStatus {
    /// Status for devices named `names`, capturing at `rate`.
    pub fn new(names: &[String], rate: u32) -> FeedStatus {
        FeedStatus {
            rate,
            devices: names
                .iter()
                .map(|n| DeviceStatus {
                    name: n.clone(),
                    counters: Arc::new(DeviceCounters::default()),
                    problem: Mutex::new(None),
                    reconnects: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    /// Overruns over all devices.
    pub fn overruns(&self) -> u64 {
        self.devices
            .iter()
            .map(|d| d.counters.overruns.load(Ordering::Relaxed))
            .sum()
    }

    /// Audio dropped over all devices, s.
    pub fn dropped_secs(&self) -> f64 {
        let frames: u64 = self
            .devices
            .iter()
            .map(|d| d.counters.dropped.load(Ordering::Relaxed))
            .sum();
        frames as f64 / f64::from(self.rate.max(1))
    }
}

/// The callback's half of a ring.
pub struct RingWriter {
    producer: rtrb::Producer<f32>,
    channels: usize,
    counters: Arc<DeviceCounters>,
}

/// The pipeline's half of a ring.
pub struct RingReader {
    consumer: rtrb::Consumer<f32>,
    channels: usize,
    counters: Arc<DeviceCounters>,
}

/// A ring of [`RING_SECONDS`] of `channels`-channel audio at `rate`. Call
/// before starting the stream: this is the only allocation.
pub fn ring(rate: u32, channels: usize, counters: Arc<DeviceCounters>) -> (RingWriter, RingReader) {
    let channels = channels.max(1);
    let (producer, consumer) = rtrb::RingBuffer::new(rate as usize * channels * RING_SECONDS);
    (
        RingWriter {
            producer,
            channels,
            counters: counters.clone(),
        },
        RingReader {
            consumer,
            channels,
            counters,
        },
    )
}

impl RingWriter {
    /// Stores interleaved samples, converted by `to_f32`. Real-time safe:
    /// no allocation, no lock, no system call; whole frames that do not
    /// fit are dropped and counted.
    #[inline]
    pub fn push<T: Copy>(&mut self, data: &[T], to_f32: impl Fn(T) -> f32) {
        let ch = self.channels;
        let frames = data.len() / ch;
        let n = frames.min(self.producer.slots() / ch);
        if n > 0
            && let Ok(chunk) = self.producer.write_chunk_uninit(n * ch)
        {
            chunk.fill_from_iter(data[..n * ch].iter().map(|&s| to_f32(s)));
        }
        if n < frames {
            self.counters.overruns.fetch_add(1, Ordering::Relaxed);
            self.counters
                .dropped
                .fetch_add((frames - n) as u64, Ordering::Relaxed);
        }
    }

    /// The counters this writer reports to.
    pub fn counters(&self) -> &Arc<DeviceCounters> {
        &self.counters
    }
}

impl RingReader {
    /// Whole frames waiting.
    fn available(&self) -> usize {
        self.consumer.slots() / self.channels
    }

    /// The writer has been dropped (its stream is closed) and nothing is
    /// left to read.
    fn finished(&self) -> bool {
        self.consumer.is_abandoned() && self.available() == 0
    }

    /// Moves `n` frames out; `each(frame, channel, sample)` sees them in
    /// order.
    fn take(&mut self, n: usize, mut each: impl FnMut(usize, usize, f32)) {
        let ch = self.channels;
        if let Ok(chunk) = self.consumer.read_chunk(n * ch) {
            let (a, b) = chunk.as_slices();
            for (i, &s) in a.iter().chain(b).enumerate() {
                each(i / ch, i % ch, s);
            }
            chunk.commit_all();
        }
    }

    /// Drops `n` frames.
    fn skip(&mut self, n: usize) {
        if let Ok(chunk) = self.consumer.read_chunk(n * self.channels) {
            chunk.commit_all();
        }
    }
}

/// How device channels become the source's channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One device; its channels are the source's (a stereo tap: agent
    /// left, customer right).
    Channels,
    /// One source channel per device, its channels averaged (an agent
    /// headset and a customer loopback).
    DevicePerChannel,
}

struct Slot {
    reader: Option<RingReader>,
    counters: Arc<DeviceCounters>,
    dropped_seen: u64,
    /// Silence owed for frames the ring dropped.
    owed: u64,
}

/// The pipeline's source for sound cards.
pub struct RingSource {
    info: SourceInfo,
    slots: Vec<Slot>,
    layout: Layout,
    device_channels: Vec<usize>,
    clock: Arc<StreamClock>,
    stop: Arc<AtomicBool>,
    limit: Option<u64>,
    delivered: u64,
    block: usize,
    replacements: Receiver<(usize, RingReader)>,
    replacement_tx: Option<Sender<(usize, RingReader)>>,
    warnings: Vec<String>,
    skew_skipped: u64,
    zero_filled: u64,
}

impl RingSource {
    /// A source over the rings of one or two devices running at `rate`
    /// (`readers[i]` carries `device_channels[i]` channels).
    pub fn new(
        readers: Vec<RingReader>,
        rate: u32,
        layout: Layout,
        clock: Arc<StreamClock>,
        stop: Arc<AtomicBool>,
        limit: Option<Time>,
    ) -> RingSource {
        let device_channels: Vec<usize> = readers.iter().map(|r| r.channels).collect();
        let channels = match layout {
            Layout::Channels => device_channels.first().copied().unwrap_or(1),
            Layout::DevicePerChannel => readers.len(),
        };
        let (tx, rx) = unbounded();
        let slots = readers
            .into_iter()
            .map(|r| Slot {
                counters: r.counters.clone(),
                dropped_seen: r.counters.dropped.load(Ordering::Relaxed),
                reader: Some(r),
                owed: 0,
            })
            .collect();
        RingSource {
            info: SourceInfo {
                format: Format::Raw,
                sample_rate: rate,
                channels,
                frames: None,
            },
            slots,
            layout,
            device_channels,
            clock,
            stop,
            limit: limit.map(|t| (t.0.max(0) as u64 * u64::from(rate)).div_ceil(16_000)),
            delivered: 0,
            block: (rate / 100).max(1) as usize,
            replacements: rx,
            replacement_tx: Some(tx),
            warnings: Vec::new(),
            skew_skipped: 0,
            zero_filled: 0,
        }
    }

    /// Where the capture side sends the ring of a reopened device
    /// (`(device index, reader)`); taken once.
    pub fn replacements(&mut self) -> Option<Sender<(usize, RingReader)>> {
        self.replacement_tx.take()
    }

    /// Frames the source can hand out now from every device, and whether
    /// any device is capturing.
    fn ready(&mut self) -> (usize, bool) {
        while let Ok((i, r)) = self.replacements.try_recv() {
            if let Some(s) = self.slots.get_mut(i) {
                s.dropped_seen = r.counters.dropped.load(Ordering::Relaxed);
                s.reader = Some(r);
            }
        }
        let mut any = false;
        let mut n = usize::MAX;
        for s in &mut self.slots {
            let dropped = s.counters.dropped.load(Ordering::Relaxed);
            s.owed += dropped.saturating_sub(s.dropped_seen);
            s.dropped_seen = dropped;
            if s.reader.as_ref().is_some_and(RingReader::finished) {
                s.reader = None;
            }
            if let Some(r) = &s.reader {
                any = true;
                n = n.min(r.available() + s.owed as usize);
            }
        }
        if !any {
            // Nobody captures: silence as the clock runs.
            let due = (self.clock.now().secs() * f64::from(self.info.sample_rate)) as u64;
            n = due.saturating_sub(self.delivered) as usize;
        }
        (n, any)
    }

    /// Skips what one device holds beyond the other (clock drift).
    fn realign(&mut self) {
        if self.slots.len() < 2 {
            return;
        }
        let max_skew = (MAX_SKEW_S * f64::from(self.info.sample_rate)) as usize;
        let have: Vec<Option<usize>> = self
            .slots
            .iter()
            .map(|s| s.reader.as_ref().map(|r| r.available() + s.owed as usize))
            .collect();
        let Some(least) = have.iter().flatten().min().copied() else {
            return;
        };
        for (s, h) in self.slots.iter_mut().zip(have) {
            if let (Some(h), Some(r)) = (h, s.reader.as_mut())
                && h - least > max_skew
            {
                let excess = (h - least).min(r.available());
                r.skip(excess);
                self.skew_skipped += excess as u64;
            }
        }
    }
}

impl AudioSource for RingSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, out: &mut [Vec<f32>], max_frames: usize) -> Result<usize, AudioError> {
        self.clock.start();
        let left = self
            .limit
            .map_or(u64::MAX, |l| l.saturating_sub(self.delivered));
        let want = (max_frames.min(self.block) as u64).min(left) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            self.realign();
            let (n, _) = self.ready();
            if n >= want {
                break want;
            }
            std::thread::sleep(POLL);
        };
        let start: Vec<usize> = out.iter().map(Vec::len).collect();
        for o in out.iter_mut() {
            o.resize(o.len() + n, 0.0);
        }
        for (d, s) in self.slots.iter_mut().enumerate() {
            // Silence owed for dropped frames first, then the ring.
            let owed = (s.owed as usize).min(n);
            s.owed -= owed as u64;
            let Some(r) = s.reader.as_mut() else {
                self.zero_filled += n as u64;
                continue;
            };
            let dc = self.device_channels[d] as f32;
            let layout = self.layout;
            r.take(n - owed, |i, c, v| {
                let (dst, v) = match layout {
                    Layout::Channels => (c, v),
                    Layout::DevicePerChannel => (d, v / dc),
                };
                if let Some(o) = out.get_mut(dst) {
                    o[start[dst] + owed + i] += v;
                }
            });
        }
        self.delivered += n as u64;
        Ok(n)
    }

    fn warnings(&self) -> Vec<String> {
        let mut w = self.warnings.clone();
        let rate = f64::from(self.info.sample_rate);
        if self.skew_skipped > 0 {
            w.push(format!(
                "the two devices' clocks drifted apart: {:.2} s skipped to realign them",
                self.skew_skipped as f64 / rate
            ));
        }
        if self.zero_filled > 0 {
            w.push(format!(
                "{:.1} s of a channel were filled with silence while its device was missing",
                self.zero_filled as f64 / rate
            ));
        }
        let dropped: u64 = self
            .slots
            .iter()
            .map(|s| s.counters.dropped.load(Ordering::Relaxed))
            .sum();
        // Silence still owed when the call ended was never delivered: a
        // device that outruns its clock (ALSA's `null`) drops far more
        // than the call lasts.
        // (Frames dropped after the last read are not owed yet either.)
        let filled: u64 = self
            .slots
            .iter()
            .map(|s| s.dropped_seen.saturating_sub(s.owed))
            .sum();
        if dropped > 0 && filled == dropped {
            w.push(format!(
                "capture overruns: {:.2} s of audio were lost and replaced by silence",
                dropped as f64 / rate
            ));
        } else if dropped > 0 {
            w.push(format!(
                "capture overruns: {:.2} s of audio were lost, {:.2} s of it within the call \
                 (replaced by silence)",
                dropped as f64 / rate,
                filled as f64 / rate
            ));
        }
        w
    }

    fn live_block_frames(&self) -> Option<usize> {
        Some(self.block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(devices: &[usize], layout: Layout) -> (Vec<RingWriter>, RingSource, Arc<StreamClock>) {
        let clock = Arc::new(StreamClock::new(100.0));
        let mut writers = Vec::new();
        let mut readers = Vec::new();
        for &ch in devices {
            let (w, r) = ring(1000, ch, Arc::new(DeviceCounters::default()));
            writers.push(w);
            readers.push(r);
        }
        let src = RingSource::new(
            readers,
            1000,
            layout,
            clock.clone(),
            Arc::new(AtomicBool::new(false)),
            None,
        );
        (writers, src, clock)
    }

    #[test]
    fn a_stereo_device_keeps_its_channels() {
        let (mut w, mut src, _) = setup(&[2], Layout::Channels);
        let data: Vec<i16> = (0..40)
            .map(|i| if i % 2 == 0 { 1000 } else { -1000 })
            .collect();
        w[0].push(&data, |s| f32::from(s) / 32768.0);
        let mut out = vec![Vec::new(), Vec::new()];
        assert_eq!(src.read(&mut out, 100).unwrap(), 10);
        assert_eq!(src.read(&mut out, 100).unwrap(), 10);
        assert!(out[0].iter().all(|&v| (v - 1000.0 / 32768.0).abs() < 1e-6));
        assert!(out[1].iter().all(|&v| v < 0.0));
    }

    #[test]
    fn two_devices_become_two_channels_and_a_full_ring_counts_overruns() {
        let (mut w, mut src, _) = setup(&[1, 2], Layout::DevicePerChannel);
        w[0].push(&[0.5f32; 10], |s| s);
        w[1].push(&[0.2f32, 0.4].repeat(10), |s| s);
        let mut out = vec![Vec::new(), Vec::new()];
        assert_eq!(src.read(&mut out, 10).unwrap(), 10);
        assert!(out[0].iter().all(|&v| v == 0.5));
        assert!(
            out[1].iter().all(|&v| (v - 0.3).abs() < 1e-6),
            "{:?}",
            out[1]
        );
        // The ring holds 2000 frames: 2500 more overflow by 500.
        w[0].push(&vec![0.1f32; 2500], |s| s);
        let c = w[0].counters();
        assert_eq!(c.overruns.load(Ordering::Relaxed), 1);
        assert_eq!(c.dropped.load(Ordering::Relaxed), 500);
    }

    #[test]
    fn dropped_frames_come_back_as_silence_and_a_lost_device_as_paced_silence() {
        let (mut w, mut src, clock) = setup(&[1], Layout::Channels);
        w[0].push(&vec![0.1f32; 2100], |s| s);
        let mut out = vec![Vec::new()];
        let mut total = 0;
        while total < 2100 {
            total += src.read(&mut out, 1000).unwrap();
        }
        assert_eq!(total, 2100);
        assert_eq!(out[0].iter().filter(|&&v| v == 0.0).count(), 100);
        // The stream closes: silence follows the clock (×100 here).
        drop(w);
        let n = src.read(&mut out, 1000).unwrap();
        assert_eq!(n, 10);
        assert!(clock.now().secs() >= 2.1);
        assert!(out[0][2100..].iter().all(|&v| v == 0.0));
        assert!(src.warnings().iter().any(|w| w.contains("overruns")));
    }
}
