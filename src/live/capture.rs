//! Sound-card capture with cpal (the `live` feature).
//!
//! * `--list-devices` lists the input devices ([`list_devices`]);
//! * `--device NAME` opens one device: a stereo one carries the agent on
//!   the left and the customer on the right (call-recording taps and
//!   softphone loopbacks do), a mono one a single mixed speaker;
//! * `--agent-device A --customer-device B` opens two, one speaker each
//!   (each device's channels averaged), at a rate both support. On Linux
//!   the customer is usually the far end of a softphone: a PulseAudio or
//!   PipeWire *monitor* source of the playback device. Through ALSA (cpal's
//!   host here) it is reached as the `pulse` device with the source picked
//!   by `PULSE_SOURCE=<name>.monitor` (`pactl list short sources` names
//!   them), or as `pipewire` with `PIPEWIRE_NODE`.
//!
//! Any rate and sample format the device offers is taken as it is: the
//! callback converts samples to `f32` (the only work it does, with
//! [`RingWriter::push`]) and the pipeline's resampler brings the rate to
//! 16 kHz. A supervisor thread owns the streams: when a device reports
//! that it has gone, it says so on the meter and tries to reopen it every
//! second, at the same rate, handing the new ring to the source.

use super::LiveError;
use super::clock::StreamClock;
use super::ring::{DeviceCounters, FeedStatus, Layout, RingReader, RingSource, RingWriter, ring};
use crate::time::Time;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, SampleFormat, SizedSample, StreamConfig};
use crossbeam_channel::Sender;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Rates tried, in order, when two devices must agree on one.
const PREFERRED_RATES: [u32; 6] = [48_000, 44_100, 16_000, 32_000, 22_050, 8_000];
/// Pause between attempts to reopen a lost device.
const RETRY: Duration = Duration::from_secs(1);

/// An input device as `--list-devices` shows it.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    /// The name to give `--device`: the host's identifier of the device
    /// (`pulse`, `hw:CARD=PCH,DEV=0`, ...).
    pub name: String,
    /// What the host says the device is (its description's first line).
    pub description: String,
    /// The host's default input device.
    pub is_default: bool,
    /// Its default configuration, as text (`2 ch, 48000 Hz, f32`).
    pub default_config: Option<String>,
    /// Every supported range, as text.
    pub ranges: Vec<String>,
}

/// What to capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureSpec {
    /// One device (`None`: the default input).
    Single(Option<String>),
    /// One device per speaker.
    Pair {
        /// The agent's device.
        agent: String,
        /// The customer's device.
        customer: String,
    },
}

fn device_error(what: &str, e: impl std::fmt::Display) -> LiveError {
    LiveError::Device(format!("{what}: {e}"))
}

/// Every input device of the default host.
pub fn list_devices() -> Result<Vec<DeviceInfo>, LiveError> {
    let host = cpal::default_host();
    let default = host.default_input_device().map(|d| device_name(&d));
    let devices = host
        .input_devices()
        .map_err(|e| device_error("cannot list the input devices", e))?;
    Ok(devices
        .map(|d| {
            let name = device_name(&d);
            DeviceInfo {
                description: d.to_string(),
                is_default: default.as_deref() == Some(name.as_str()),
                default_config: d.default_input_config().ok().map(|c| {
                    format!(
                        "{} ch, {} Hz, {}",
                        c.channels(),
                        c.sample_rate(),
                        c.sample_format()
                    )
                }),
                ranges: d
                    .supported_input_configs()
                    .map(|r| {
                        summarize_ranges(r.map(|c| ConfigRange {
                            channels: c.channels(),
                            min_rate: c.min_sample_rate(),
                            max_rate: c.max_sample_rate(),
                            format: c.sample_format().to_string(),
                        }))
                    })
                    .unwrap_or_default(),
                name,
            }
        })
        .collect())
}

/// One supported configuration range of a device, as cpal gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigRange {
    /// Channels.
    pub channels: u16,
    /// Lowest sample rate, Hz.
    pub min_rate: u32,
    /// Highest sample rate, Hz.
    pub max_rate: u32,
    /// Sample format (`i16`, `f32`, ...).
    pub format: String,
}

/// The supported ranges as short lines: ranges that differ only in their
/// channel count or their format become one line (`1–64 ch, any rate, i16
/// f32`). ALSA's
/// `null` and `default` plugins offer every count from 1 to 64 in every
/// format, which listed one by one buries the devices under a thousand
/// lines.
pub fn summarize_ranges(ranges: impl IntoIterator<Item = ConfigRange>) -> Vec<String> {
    let mut groups: Vec<(u32, u32, String, Vec<u16>)> = Vec::new();
    for r in ranges {
        match groups
            .iter_mut()
            .find(|g| g.0 == r.min_rate && g.1 == r.max_rate && g.2 == r.format)
        {
            Some(g) => g.3.push(r.channels),
            None => groups.push((r.min_rate, r.max_rate, r.format, vec![r.channels])),
        }
    }
    // Then lines that differ only in their format become one.
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    for (lo, hi, format, mut channels) in groups {
        channels.sort_unstable();
        channels.dedup();
        let first = channels.first().copied().unwrap_or(0);
        let last = channels.last().copied().unwrap_or(0);
        let contiguous = usize::from(last - first) + 1 == channels.len();
        let ch = if channels.len() == 1 {
            format!("{first}")
        } else if contiguous {
            format!("{first}–{last}")
        } else {
            channels
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let rate = if lo <= 1 && hi >= 384_000 {
            "any rate".to_string()
        } else if lo == hi {
            format!("{lo} Hz")
        } else {
            format!("{lo}–{hi} Hz")
        };
        let shape = format!("{ch} ch, {rate}");
        match lines.iter_mut().find(|l| l.0 == shape) {
            Some(l) => l.1.push(format),
            None => lines.push((shape, vec![format])),
        }
    }
    lines
        .into_iter()
        .map(|(shape, formats)| format!("{shape}, {}", formats.join(" ")))
        .collect()
}

/// The name of a device `--device` takes: the host's identifier (ALSA's
/// PCM name), which is short and unique, unlike the description cpal
/// displays (ALSA's `null` device is "Discard all samples (playback) or
/// generate zero samples (capture)").
fn device_name(d: &cpal::Device) -> String {
    d.id()
        .map(|id| id.id().to_string())
        .unwrap_or_else(|_| d.to_string())
}

/// Finds an input device: `default`, an exact name or description, or the
/// only one whose name or description contains `name` (case-insensitive).
fn find(name: Option<&str>) -> Result<cpal::Device, LiveError> {
    let host = cpal::default_host();
    let Some(name) = name.filter(|n| *n != "default") else {
        return host.default_input_device().ok_or_else(|| {
            LiveError::Device("no default input device (see `hearken live --list-devices`)".into())
        });
    };
    let devices: Vec<cpal::Device> = host
        .input_devices()
        .map_err(|e| device_error("cannot list the input devices", e))?
        .collect();
    if let Some(d) = devices
        .iter()
        .find(|d| device_name(d) == name || d.to_string() == name)
    {
        return Ok(d.clone());
    }
    let lower = name.to_lowercase();
    let matching: Vec<&cpal::Device> = devices
        .iter()
        .filter(|d| {
            device_name(d).to_lowercase().contains(&lower)
                || d.to_string().to_lowercase().contains(&lower)
        })
        .collect();
    match matching.as_slice() {
        [d] => Ok((*d).clone()),
        [] => Err(LiveError::Device(format!(
            "no input device called {name:?} (see `hearken live --list-devices`)"
        ))),
        many => Err(LiveError::Device(format!(
            "{name:?} matches several input devices: {}",
            many.iter()
                .map(|d| device_name(d))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// How one device is opened.
#[derive(Clone, Copy, Debug)]
struct Opening {
    rate: u32,
    channels: u16,
    format: SampleFormat,
}

/// Formats the callback converts, best first.
fn format_rank(f: SampleFormat) -> Option<usize> {
    [
        SampleFormat::F32,
        SampleFormat::I16,
        SampleFormat::I32,
        SampleFormat::F64,
        SampleFormat::U16,
        SampleFormat::I8,
        SampleFormat::U8,
        SampleFormat::U32,
    ]
    .iter()
    .position(|&g| g == f)
}

/// A configuration of `device` at `rate` (any, when `None`), preferring
/// `channels` channels and then the default configuration.
fn choose(device: &cpal::Device, rate: Option<u32>, channels: u16) -> Result<Opening, LiveError> {
    let name = device_name(device);
    let default = device.default_input_config().ok();
    if let Some(d) = &default
        && rate.is_none_or(|r| r == d.sample_rate())
        && d.channels() >= channels
        && format_rank(d.sample_format()).is_some()
    {
        return Ok(Opening {
            rate: d.sample_rate(),
            channels: d.channels(),
            format: d.sample_format(),
        });
    }
    let want_rate = rate.or(default.as_ref().map(|d| d.sample_rate()));
    let ranges: Vec<_> = device
        .supported_input_configs()
        .map_err(|e| {
            device_error(
                &format!(
                    "cannot open the input device {name} (no sound card? `--input FILE` replays a recording)"
                ),
                e,
            )
        })?
        .filter(|r| format_rank(r.sample_format()).is_some())
        .collect();
    let best = ranges
        .iter()
        .filter_map(|r| {
            let rate = match want_rate {
                Some(w) if r.contains_rate(w) => w,
                Some(_) if rate.is_some() => return None,
                _ => PREFERRED_RATES
                    .into_iter()
                    .find(|&p| r.contains_rate(p))
                    .unwrap_or(r.max_sample_rate()),
            };
            let fits = r.channels() >= channels;
            Some((
                (
                    !fits,
                    r.channels(),
                    format_rank(r.sample_format()).unwrap_or(99),
                ),
                Opening {
                    rate,
                    channels: r.channels(),
                    format: r.sample_format(),
                },
            ))
        })
        .min_by_key(|(k, _)| *k)
        .map(|(_, o)| o);
    best.ok_or_else(|| match rate {
        Some(r) => LiveError::Device(format!("{name} cannot capture at {r} Hz")),
        None => LiveError::Device(format!("{name} offers no sample format hearken reads")),
    })
}

/// A rate both devices support.
fn common_rate(a: &cpal::Device, b: &cpal::Device) -> Result<u32, LiveError> {
    let ranges = |d: &cpal::Device| -> Vec<(u32, u32)> {
        d.supported_input_configs()
            .map(|r| {
                r.map(|c| (c.min_sample_rate(), c.max_sample_rate()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ra, rb) = (ranges(a), ranges(b));
    let supports = |r: &[(u32, u32)], x: u32| r.iter().any(|&(lo, hi)| lo <= x && x <= hi);
    let default_a = a.default_input_config().ok().map(|c| c.sample_rate());
    default_a
        .into_iter()
        .chain(PREFERRED_RATES)
        .find(|&x| supports(&ra, x) && supports(&rb, x))
        .ok_or_else(|| {
            LiveError::Device(format!(
                "{a} and {b} have no sample rate in common (tried {})",
                PREFERRED_RATES.map(|r| r.to_string()).join(", ")
            ))
        })
}

/// Builds and starts a stream of `device` with a fresh ring (allocated
/// here, before the stream runs); returns the stream and the ring's reader.
fn start(
    device: &cpal::Device,
    o: Opening,
    counters: &Arc<DeviceCounters>,
) -> Result<(cpal::Stream, RingReader), LiveError> {
    let name = device_name(device);
    // Ask for 10 ms periods (latency); a device that refuses gets its own.
    let buffers = [
        cpal::BufferSize::Fixed((o.rate / 100).max(64)),
        cpal::BufferSize::Default,
    ];
    let mut last = String::new();
    for buffer_size in buffers {
        let config = StreamConfig {
            channels: o.channels,
            sample_rate: o.rate,
            buffer_size,
        };
        let (writer, reader) = ring(o.rate, usize::from(o.channels), counters.clone());
        match build(device, config, o.format, writer, counters) {
            Ok(stream) => {
                stream
                    .play()
                    .map_err(|e| device_error(&format!("cannot start {name}"), e))?;
                return Ok((stream, reader));
            }
            Err(e) => last = e,
        }
    }
    Err(LiveError::Device(format!("cannot open {name}: {last}")))
}

fn build(
    device: &cpal::Device,
    config: StreamConfig,
    format: SampleFormat,
    writer: RingWriter,
    counters: &Arc<DeviceCounters>,
) -> Result<cpal::Stream, String> {
    match format {
        SampleFormat::F32 => typed::<f32>(device, config, writer, counters),
        SampleFormat::I16 => typed::<i16>(device, config, writer, counters),
        SampleFormat::I32 => typed::<i32>(device, config, writer, counters),
        SampleFormat::F64 => typed::<f64>(device, config, writer, counters),
        SampleFormat::U16 => typed::<u16>(device, config, writer, counters),
        SampleFormat::I8 => typed::<i8>(device, config, writer, counters),
        SampleFormat::U8 => typed::<u8>(device, config, writer, counters),
        SampleFormat::U32 => typed::<u32>(device, config, writer, counters),
        other => Err(format!("unsupported sample format {other}")),
    }
}

/// The stream with its real-time callback: convert and copy, nothing else
/// (see [`RingWriter::push`]); errors only set atomics.
fn typed<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut writer: RingWriter,
    counters: &Arc<DeviceCounters>,
) -> Result<cpal::Stream, String>
where
    T: SizedSample + Send + 'static,
    f32: cpal::FromSample<T>,
{
    let errors = counters.clone();
    device
        .build_input_stream::<T, _, _>(
            config,
            move |data: &[T], _| writer.push(data, |s| s.to_sample::<f32>()),
            move |e: cpal::Error| match e.kind() {
                ErrorKind::DeviceNotAvailable
                | ErrorKind::StreamInvalidated
                | ErrorKind::HostUnavailable => errors.lost.store(true, Ordering::Relaxed),
                _ => {
                    errors.errors.fetch_add(1, Ordering::Relaxed);
                }
            },
            None,
        )
        .map_err(|e| e.to_string())
}

/// A device the supervisor looks after.
struct Watched {
    /// `None` for the default device.
    name: Option<String>,
    opening: Opening,
    stream: Option<cpal::Stream>,
    next_try: Instant,
}

/// Running capture: the streams and their supervisor.
pub struct Capture {
    stop: Arc<AtomicBool>,
    supervisor: Option<JoinHandle<()>>,
    /// The devices' health, for the meter.
    pub feed: Arc<FeedStatus>,
    /// What the screen calls the input.
    pub description: String,
}

impl Capture {
    /// Stops the streams.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.supervisor.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Opens the devices of `spec`, starts them and the clock, and returns the
/// pipeline's source with the running capture. `stop` ends the stream (the
/// call); `limit` is `--duration`.
pub fn open(
    spec: &CaptureSpec,
    clock: Arc<StreamClock>,
    stop: Arc<AtomicBool>,
    limit: Option<Time>,
) -> Result<(RingSource, Capture), LiveError> {
    let (devices, layout): (Vec<(Option<String>, cpal::Device)>, Layout) = match spec {
        CaptureSpec::Single(name) => (
            vec![(name.clone(), find(name.as_deref())?)],
            Layout::Channels,
        ),
        CaptureSpec::Pair { agent, customer } => (
            vec![
                (Some(agent.clone()), find(Some(agent))?),
                (Some(customer.clone()), find(Some(customer))?),
            ],
            Layout::DevicePerChannel,
        ),
    };
    let openings: Vec<Opening> = match layout {
        Layout::Channels => vec![choose(&devices[0].1, None, 2)?],
        Layout::DevicePerChannel => {
            let rate = common_rate(&devices[0].1, &devices[1].1)?;
            vec![
                choose(&devices[0].1, Some(rate), 1)?,
                choose(&devices[1].1, Some(rate), 1)?,
            ]
        }
    };
    let names: Vec<String> = devices.iter().map(|(_, d)| device_name(d)).collect();
    let rate = openings[0].rate;
    let feed = Arc::new(FeedStatus::new(&names, rate));
    let mut readers = Vec::new();
    let mut watched = Vec::new();
    for (((name, device), o), status) in devices.into_iter().zip(&openings).zip(&feed.devices) {
        let (stream, reader) = start(&device, *o, &status.counters)?;
        readers.push(reader);
        watched.push(Watched {
            name,
            opening: *o,
            stream: Some(stream),
            next_try: Instant::now(),
        });
    }
    clock.start();
    let mut source = RingSource::new(readers, rate, layout, clock, stop, limit);
    let replacements = source
        .replacements()
        .ok_or_else(|| LiveError::Device("internal error: capture opened twice".into()))?;
    let sup_stop = Arc::new(AtomicBool::new(false));
    let supervisor = std::thread::Builder::new()
        .name("live-capture".into())
        .spawn({
            let feed = feed.clone();
            let stop = sup_stop.clone();
            move || supervise(watched, &feed, &stop, &replacements)
        })
        .map_err(|e| device_error("cannot start the capture supervisor", e))?;
    let description = match layout {
        Layout::Channels => format!(
            "{} ({} ch, {} Hz, {})",
            names[0], openings[0].channels, rate, openings[0].format
        ),
        Layout::DevicePerChannel => {
            format!("agent {} + customer {} ({rate} Hz)", names[0], names[1])
        }
    };
    Ok((
        source,
        Capture {
            stop: sup_stop,
            supervisor: Some(supervisor),
            feed,
            description,
        },
    ))
}

/// Watches the streams; reopens lost devices every second.
fn supervise(
    mut watched: Vec<Watched>,
    feed: &FeedStatus,
    stop: &AtomicBool,
    replacements: &Sender<(usize, RingReader)>,
) {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        for (i, (w, status)) in watched.iter_mut().zip(&feed.devices).enumerate() {
            if w.stream.is_some() && status.counters.lost.load(Ordering::Relaxed) {
                // Dropping the stream drops its writer: the source sees the
                // ring abandoned and fills the channel with silence.
                w.stream = None;
                w.next_try = Instant::now() + RETRY;
                set_problem(status, format!("{} lost — reconnecting", status.name));
            }
            if w.stream.is_some() || Instant::now() < w.next_try {
                continue;
            }
            w.next_try = Instant::now() + RETRY;
            let attempt = status.reconnects.load(Ordering::Relaxed) + 1;
            let reopened = find(w.name.as_deref()).and_then(|d| {
                let o = choose(&d, Some(w.opening.rate), w.opening.channels)?;
                if o.channels != w.opening.channels {
                    return Err(LiveError::Device("came back with other channels".into()));
                }
                status.counters.lost.store(false, Ordering::Relaxed);
                start(&d, o, &status.counters)
            });
            match reopened {
                Ok((stream, reader)) => {
                    if replacements.send((i, reader)).is_err() {
                        return; // the source is gone: the call is over
                    }
                    w.stream = Some(stream);
                    status.reconnects.store(attempt, Ordering::Relaxed);
                    if let Ok(mut p) = status.problem.lock() {
                        *p = None;
                    }
                }
                Err(e) => set_problem(
                    status,
                    format!(
                        "{} lost — reconnecting (attempt {attempt} failed: {e})",
                        status.name
                    ),
                ),
            }
        }
    }
}

fn set_problem(status: &super::ring::DeviceStatus, message: String) {
    if let Ok(mut p) = status.problem.lock() {
        *p = Some(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(channels: u16, min_rate: u32, max_rate: u32, format: &str) -> ConfigRange {
        ConfigRange {
            channels,
            min_rate,
            max_rate,
            format: format.into(),
        }
    }

    #[test]
    fn ranges_that_differ_by_channels_are_one_line() {
        let mut all: Vec<ConfigRange> = (1..=64).map(|c| range(c, 1, u32::MAX, "i16")).collect();
        all.extend((1..=2).map(|c| range(c, 8000, 48000, "f32")));
        all.push(range(2, 44100, 44100, "i32"));
        all.push(range(4, 44100, 44100, "i32"));
        all.extend((1..=64).map(|c| range(c, 1, u32::MAX, "f32")));
        assert_eq!(
            summarize_ranges(all),
            [
                "1–64 ch, any rate, i16 f32",
                "1–2 ch, 8000–48000 Hz, f32",
                "2,4 ch, 44100 Hz, i32"
            ]
        );
        assert!(summarize_ranges([]).is_empty());
    }
}
