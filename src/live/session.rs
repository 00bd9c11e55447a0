//! One live session, start to end: the pipeline with the meter's taps, the
//! screen, the events, the recording, and the report at the end.

use super::LiveError;
use super::clock::StreamClock;
use super::events::{Event, EventTarget, EventWriter, Stamped, secs};
use super::meter::{MeterSetup, Snapshot};
use super::record::{RecordOutcome, RecordTap};
use super::ring::FeedStatus;
use super::status;
use super::tap::{LiveTap, SharedSnapshot};
use crate::audio::{AudioSource, Speaker};
use crate::batch::{self, CallResult, CallSetup, OutputFormat};
use crate::pipeline::{Control, Tap};
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the audio comes from, ready to run.
pub struct LiveInput {
    /// A [`super::replay::ReplaySource`] or a [`super::ring::RingSource`].
    pub source: Box<dyn AudioSource>,
    /// The clock the source runs on.
    pub clock: Arc<StreamClock>,
    /// The capture devices' health (empty for a replay).
    pub feed: Arc<FeedStatus>,
    /// What the screen and the `start` event call the input.
    pub description: String,
    /// `input.path` of the report.
    pub display: String,
    /// Output file names: `<stem>.json`...
    pub stem: String,
    /// The audio file, when there is one, for the HTML page's player.
    pub audio: Option<PathBuf>,
}

/// What the session shows while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// The full-screen meter (needs the `live` feature and a terminal).
    Meter,
    /// One status line a second on standard error.
    StatusLine,
    /// Nothing.
    Quiet,
}

/// Everything a session needs besides its input.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Roles, thresholds (with `[live]`), transcription, annotations.
    pub setup: CallSetup,
    /// Where the report goes.
    pub out_dir: PathBuf,
    /// Which per-call outputs.
    pub formats: BTreeSet<OutputFormat>,
    /// `--events`.
    pub events: Option<EventTarget>,
    /// `--record`.
    pub record: Option<PathBuf>,
    /// The screen.
    pub screen: Screen,
}

/// How a session ended.
pub struct LiveOutcome {
    /// The report and its figures.
    pub result: CallResult,
    /// The files written.
    pub written: Vec<PathBuf>,
    /// Events written.
    pub events: u64,
    /// Seconds recorded, with `--record`.
    pub recorded_s: Option<f64>,
    /// The meter's final figures.
    pub last: Snapshot,
}

/// The screen a session gets when it asks for [`Screen::Meter`] and can
/// have it: standard output is a terminal and carries no events.
pub fn default_screen(no_tui: bool, events: Option<&EventTarget>) -> Screen {
    let events_on_stdout = events == Some(&EventTarget::Stdout);
    if !no_tui && !events_on_stdout && cfg!(feature = "live") && std::io::stdout().is_terminal() {
        Screen::Meter
    } else if std::io::stderr().is_terminal() || no_tui {
        Screen::StatusLine
    } else {
        Screen::Quiet
    }
}

/// Output names of a capture: `live-YYYYMMDD-HHMMSS` (UTC, now).
pub fn capture_stem() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    stem_at(secs)
}

/// `live-YYYYMMDD-HHMMSS` of a Unix time (UTC).
fn stem_at(unix: u64) -> String {
    let (days, rest) = (unix / 86_400, unix % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "live-{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Runs a session until the source ends (end of the file, `--duration`,
/// or `stop`: Ctrl-C or `q`), then writes the report as `analyze` does.
pub fn run(
    input: LiveInput,
    opts: &LiveOptions,
    stop: &Arc<AtomicBool>,
) -> Result<LiveOutcome, LiveError> {
    let config = &opts.setup.config;
    config.live.validate()?;
    if let (Some(rec), Some(audio)) = (&opts.record, &input.audio)
        && rec.canonicalize().ok() == audio.canonicalize().ok()
    {
        return Err(LiveError::Output(format!(
            "refusing to overwrite the input {} with --record",
            audio.display()
        )));
    }
    let writer = match &opts.events {
        Some(t) => Some(EventWriter::start(t).map_err(LiveError::Output)?),
        None => None,
    };
    let shared: SharedSnapshot = Arc::new(Mutex::new(Snapshot::default()));
    let record_outcome: RecordOutcome = Arc::default();
    let mut setup_error = None;
    let done = AtomicBool::new(false);
    // Analysis is never cancelled from outside: Ctrl-C ends the *call*
    // (the source stops), and the report is still made.
    let never = AtomicBool::new(false);
    let progress = AtomicU64::new(0);
    let ctl = Control {
        cancel: &never,
        progress: &progress,
    };
    let info = input.source.info().clone();
    let clock = input.clock.clone();
    let title = input.description.clone();

    let analysed = std::thread::scope(|scope| {
        let screen = scope.spawn(|| show(opts.screen, &shared, &title, stop, &done));
        let extra = |speakers: &[Speaker]| -> Vec<Box<dyn Tap>> {
            let mut taps: Vec<Box<dyn Tap>> = Vec::new();
            let ids: Vec<String> = speakers.iter().map(|s| s.id.clone()).collect();
            let meter = MeterSetup {
                speakers: ids.clone(),
                live: config.live.clone(),
                conversation: config.conversation.clone(),
                syllables: config.annotate.syllables.clone(),
                voiced_periodicity: config.vad.voiced_periodicity,
                lookahead: config.vad.smooth_half_width as i64,
            };
            let start = Event::Start {
                speakers: ids,
                source: input.description.clone(),
                sample_rate: info.sample_rate,
                speed: clock.speed(),
            };
            taps.push(Box::new(LiveTap::new(
                meter,
                clock.clone(),
                shared.clone(),
                writer.as_ref().map(EventWriter::sender),
                input.feed.clone(),
                start,
            )));
            if let Some(path) = &opts.record {
                match RecordTap::create(path, speakers.len(), record_outcome.clone()) {
                    Ok(t) => taps.push(Box::new(t)),
                    Err(e) => setup_error = Some(e),
                }
            }
            taps
        };
        let r = batch::analyze_source(input.source, &input.display, &opts.setup, extra, &ctl);
        done.store(true, Ordering::Relaxed);
        let shown = screen.join();
        (r, shown)
    });
    let (result, shown) = analysed;
    if let Ok(Err(e)) = shown {
        eprintln!("warning: the meter could not draw: {e}");
    }
    if let Some(e) = setup_error {
        // The recording could not start: nothing else should have either.
        return Err(LiveError::Output(e));
    }
    let mut result = result?;
    let recorded = record_outcome.lock().ok().and_then(|o| o.clone());
    let recorded_s = match recorded {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            result.report.warnings.push(e);
            None
        }
        None => None,
    };
    let audio = opts.record.as_deref().or(input.audio.as_deref());
    let written = batch::write_single_call(
        &result,
        &input.display,
        &input.stem,
        audio,
        &opts.out_dir,
        &opts.formats,
    )
    .map_err(LiveError::Output)?;
    let mut events = 0;
    if let Some(w) = writer {
        let tx = w.sender();
        let _ = tx.send(Stamped {
            event: Event::Report {
                files: written.iter().map(|p| p.display().to_string()).collect(),
            },
            emitted: secs(input.clock.now()),
        });
        drop(tx);
        events = w.finish().map_err(LiveError::Output)?;
    }
    let last = shared.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(LiveOutcome {
        result,
        written,
        events,
        recorded_s,
        last,
    })
}

/// Shows the meter until `done`.
fn show(
    screen: Screen,
    shared: &SharedSnapshot,
    title: &str,
    stop: &AtomicBool,
    done: &AtomicBool,
) -> Result<(), String> {
    match screen {
        #[cfg(feature = "live")]
        Screen::Meter => super::ui::run(shared, title, stop, done).map_err(|e| e.to_string()),
        #[cfg(not(feature = "live"))]
        Screen::Meter => status_lines(shared, done),
        Screen::StatusLine => {
            let _ = (title, stop);
            status_lines(shared, done)
        }
        Screen::Quiet => Ok(()),
    }
}

/// A status line every second on standard error.
fn status_lines(shared: &SharedSnapshot, done: &AtomicBool) -> Result<(), String> {
    let mut waited = Duration::ZERO;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
        if waited >= Duration::from_secs(1) {
            waited = Duration::ZERO;
            let line = shared.lock().map(|s| status::line(&s)).unwrap_or_default();
            eprintln!("{line}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_stems_are_utc_dates() {
        assert_eq!(stem_at(0), "live-19700101-000000");
        assert_eq!(stem_at(1_709_210_096), "live-20240229-123456");
    }
}
