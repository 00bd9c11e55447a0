//! The `hearken` command line: arguments → options → library calls.
//!
//! Exit codes: 0 all good; 1 some inputs failed (each reported on one line,
//! the others were processed); 2 the command could not run at all (bad
//! arguments, unwritable output directory, unreadable reference); 130
//! stopped by Ctrl-C.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use hearken::annotate::Lexicon;
use hearken::audio::Roles;
use hearken::batch::agents::AgentIds;
use hearken::batch::{self, AnalyzeOptions, CallSetup, OutputFormat, TranscribeSetup};
use hearken::config::Config;
use hearken::eval::{self, EvalOptions};
use hearken::model::{self, Quantization};
use hearken::transcribe::{self, Transcriber};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "hearken",
    version,
    about = "How people listen to each other, measured from call audio."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse call recordings: who spoke when, talk share, interruptions, silences.
    Analyze(AnalyzeArgs),
    /// Score hypotheses (RTTM, STM, hearken JSON, or audio analysed on the spot) against references.
    Eval(EvalArgs),
    /// Live talk-ratio meter of a call in progress (sound card, or a recording replayed in real time).
    Live(LiveArgs),
    /// Print the default configuration (TOML) to adapt and pass with --config.
    Config,
    /// Whisper models: import a CTranslate2 model, list or check installed ones.
    #[command(subcommand)]
    Model(ModelCommand),
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Convert a CTranslate2 Whisper model directory (model.bin + vocabulary) to whisper.cpp's ggml format.
    Import {
        /// The CTranslate2 directory.
        dir: PathBuf,
        /// Output file (default: models/ggml-<kind>[-q8_0|-q4_0|-iq4_nl].bin).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Weight format: f16 (as whisper.cpp converts), q8_0 (8-bit, about half the size),
        /// iq4_nl (4-bit non-linear: the fastest on x86, 3-4 points of WER above q8_0) or q4_0.
        #[arg(long, default_value = "f16")]
        quantize: String,
        /// Expected SHA-256 of the result; a mismatch is an error.
        #[arg(long)]
        sha256: Option<String>,
    },
    /// List the ggml models in a directory (default: models/).
    List {
        /// Directory to list.
        #[arg(default_value = "models")]
        dir: PathBuf,
    },
    /// Check a ggml model file and describe it.
    Inspect {
        /// The model file.
        file: PathBuf,
    },
}

/// Transcription options shared by `analyze` and `eval`.
#[derive(Args, Clone)]
struct TranscribeArgs {
    /// Skip transcription (no model needed).
    #[arg(long)]
    no_transcribe: bool,
    /// Whisper model (ggml, any whisper.cpp model; default: $HEARKEN_MODEL or models/ggml-tiny.en-iq4_nl.bin).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Language code, or `auto` (multilingual models).
    #[arg(long)]
    language: Option<String>,
    /// Whisper threads per worker.
    #[arg(long)]
    threads: Option<usize>,
    /// Whisper workers (each with its own state; the model is shared).
    #[arg(long)]
    workers: Option<usize>,
}

/// Mono-call diarization options shared by `analyze` and `eval` (they
/// override the config's `[diarize]` table).
#[derive(Args, Clone)]
struct DiarizeArgs {
    /// Speakers in a mono call (default 2; 1 keeps one speaker-agnostic speaker).
    #[arg(long, value_name = "N")]
    speakers: Option<usize>,
    /// Mono calls: the first speaker is the customer, not the agent (outbound calls).
    #[arg(long)]
    customer_first: bool,
    /// Do not split mono calls between speakers (one speaker for the channel).
    #[arg(long)]
    no_diarize: bool,
}

impl DiarizeArgs {
    /// Applies the options to the config; a bad value is an error.
    fn apply(&self, config: &mut Config) -> Result<()> {
        let d = &mut config.diarize;
        if let Some(n) = self.speakers {
            d.speakers = n;
        }
        if self.customer_first {
            d.agent_first = false;
        }
        if self.no_diarize {
            d.enabled = false;
        }
        d.validate()?;
        Ok(())
    }
}

#[derive(Args)]
struct AnalyzeArgs {
    /// Audio files, or directories searched recursively for .wav/.flac/.mp3.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output directory.
    #[arg(long, short, default_value = "hearken-out")]
    out: PathBuf,
    /// Calls analysed in parallel (default: number of cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Speaker of each channel in order, e.g. `agent,customer`; `-` skips a channel.
    #[arg(long, default_value = "agent,customer")]
    roles: String,
    /// Outputs: json (report), rttm, csv (summary.csv), html (a page per call and index.html),
    /// and from the transcript srt, vtt, txt, stm [default: json,rttm,csv, plus srt,vtt,txt
    /// when transcribing].
    #[arg(long, value_delimiter = ',')]
    format: Vec<String>,
    /// Thresholds (TOML; see `hearken config`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// No per-call lines and no progress bar (errors are still printed).
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    transcribe: TranscribeArgs,
    #[command(flatten)]
    diarize: DiarizeArgs,
    /// Agent id from the file name: a regular expression whose first group is the id, e.g. '^([a-z]+)_'.
    #[arg(long, value_name = "REGEX")]
    agent_from: Option<String>,
    /// Agent ids from a CSV with columns `file,agent` (wins over --agent-from).
    #[arg(long, value_name = "CSV")]
    manifest: Option<PathBuf>,
    /// Language-marker lexicon (TOML) replacing the built-in one (see config/lexicon.toml).
    #[arg(long, value_name = "TOML")]
    lexicon: Option<PathBuf>,
    /// Skip the tone, pace and scorecard annotations.
    #[arg(long)]
    no_annotate: bool,
}

#[derive(Args)]
struct LiveArgs {
    /// List the capture devices and exit.
    #[arg(long)]
    list_devices: bool,
    /// Capture device (see --list-devices; default: the default input). A stereo device carries the agent on the left, the customer on the right.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["agent_device", "customer_device", "input"])]
    device: Option<String>,
    /// The agent's capture device (with --customer-device): one speaker per device.
    #[arg(
        long,
        value_name = "NAME",
        requires = "customer_device",
        conflicts_with = "input"
    )]
    agent_device: Option<String>,
    /// The customer's capture device, e.g. the monitor of the softphone's output (PULSE_SOURCE=<sink>.monitor with the `pulse` device).
    #[arg(
        long,
        value_name = "NAME",
        requires = "agent_device",
        conflicts_with = "input"
    )]
    customer_device: Option<String>,
    /// Replay a recording through the live path instead of capturing (demos, machines without a sound card).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Replay speed with --input (1 = real time).
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "N",
        allow_negative_numbers = true
    )]
    speed: f64,
    /// End the call after this many seconds (otherwise: Ctrl-C or q, or the end of --input).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    duration: Option<f64>,
    /// Write events (speaker changes, alerts, snapshots) as JSON lines to FILE, or `-` for standard output.
    #[arg(long, value_name = "FILE|-")]
    events: Option<String>,
    /// Output directory of the report written at the end.
    #[arg(long, short, default_value = "hearken-out")]
    out: PathBuf,
    /// Outputs written at the end: json, rttm, csv, html (and srt, vtt, txt, stm with --transcribe).
    #[arg(long, default_value = "json,rttm", value_delimiter = ',')]
    format: Vec<String>,
    /// Output file name stem (default: the input's, or live-<UTC date>-<time>).
    #[arg(long)]
    name: Option<String>,
    /// Keep the audio: a 16 kHz 16-bit WAV, one channel per speaker (never overwrites).
    #[arg(long, value_name = "FILE.wav")]
    record: Option<PathBuf>,
    /// Transcribe for the final report (off by default live: Whisper may not keep up on a small machine).
    #[arg(long, conflicts_with = "no_transcribe")]
    transcribe: bool,
    #[command(flatten)]
    whisper: TranscribeArgs,
    /// Thresholds, including the [live] alerts (TOML; see `hearken config`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Speaker of each channel in order; `-` skips a channel.
    #[arg(long, default_value = "agent,customer")]
    roles: String,
    /// No full-screen meter: a status line a second on standard error.
    #[arg(long)]
    no_tui: bool,
    /// Skip the tone, pace and scorecard annotations of the final report.
    #[arg(long)]
    no_annotate: bool,
}

#[derive(Args)]
struct EvalArgs {
    /// Reference: an RTTM file or a directory of RTTM (+ UEM, STM) files.
    #[arg(long = "ref")]
    reference: PathBuf,
    /// Hypothesis: RTTM/STM/hearken JSON file or directory. Without it, the AUDIO files are analysed.
    #[arg(long)]
    hyp: Option<PathBuf>,
    /// Scored regions (UEM file or directory); default: UEM files beside the references.
    #[arg(long)]
    uem: Option<PathBuf>,
    /// Audio to analyse and score (instead of --hyp).
    audio: Vec<PathBuf>,
    /// Collar removed around reference boundaries, seconds.
    #[arg(long, default_value_t = 0.0)]
    collar: f64,
    /// Onset tolerance for matching interruptions, seconds.
    #[arg(long, default_value_t = 0.5)]
    tolerance: f64,
    /// Thresholds for the analysis and the derived events (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print JSON (`files` and `pooled`) instead of a table.
    #[arg(long)]
    json: bool,
    /// Print a Markdown table.
    #[arg(long)]
    markdown: bool,
    /// Also write every event (interruptions, backchannels, overlaps, silences) of both sides, matched or not, as TSV to FILE.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Score reference files without a hypothesis as empty hypotheses (all miss), as md-eval does, instead of stopping.
    #[arg(long)]
    missing_as_empty: bool,
    /// Calls analysed in parallel when scoring audio.
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Speaker of each channel when scoring audio.
    #[arg(long, default_value = "agent,customer")]
    roles: String,
    #[command(flatten)]
    transcribe: TranscribeArgs,
    #[command(flatten)]
    diarize: DiarizeArgs,
}

fn load_config(path: &Option<PathBuf>) -> Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

fn load_lexicon(path: &Option<PathBuf>) -> Result<Lexicon> {
    Ok(match path {
        Some(p) => Lexicon::load(p)?,
        None => Lexicon::builtin()?,
    })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Starts the Whisper workers unless transcription is off. With the
/// transcribe feature built in, transcription is on by default and a missing
/// or damaged model is an error with the command that fixes it.
fn start_transcriber(
    args: &TranscribeArgs,
    config: &mut Config,
    quiet: bool,
) -> Result<Option<Transcriber>> {
    if args.no_transcribe || !cfg!(feature = "transcribe") {
        return Ok(None);
    }
    if let Some(l) = &args.language {
        config.transcribe.language = l.clone();
    }
    if let Some(t) = args.threads {
        config.transcribe.threads = t.max(1);
    }
    if let Some(w) = args.workers {
        config.transcribe.workers = w.max(1);
    }
    let (path, info) = transcribe::resolve_model(args.model.as_deref())?;
    if !quiet {
        eprintln!(
            "transcribing with {} ({} {}, {} workers x {} threads)",
            path.display(),
            info.kind,
            info.ftype,
            config.transcribe.workers,
            config.transcribe.threads
        );
    }
    let engine = transcribe::whisper_engine(&path, &info, &config.transcribe)
        .with_context(|| format!("loading {}", path.display()))?;
    Ok(Some(Transcriber::start(engine, config.transcribe.workers)?))
}

/// The `--format` names, checked: an unknown one is an error naming the choices.
fn parse_formats(names: &[String]) -> Result<BTreeSet<OutputFormat>> {
    names
        .iter()
        .map(|f| {
            OutputFormat::parse(f).with_context(|| {
                format!(
                    "unknown output format {f:?} (choose from {})",
                    OutputFormat::NAMES.join(", ")
                )
            })
        })
        .collect()
}

fn analyze(args: AnalyzeArgs, cancel: &AtomicBool) -> Result<ExitCode> {
    let defaults = ["json", "rttm", "csv", "srt", "vtt", "txt"].map(String::from);
    let given = !args.format.is_empty();
    let asked = if given {
        &args.format[..]
    } else {
        &defaults[..]
    };
    let mut formats = parse_formats(asked)?;
    let mut config = load_config(&args.config)?;
    args.diarize.apply(&mut config)?;
    let transcriber = start_transcriber(&args.transcribe, &mut config, args.quiet)?;
    if transcriber.is_none() {
        if given && formats.iter().any(|f| f.needs_transcript()) {
            bail!("srt, vtt, txt and stm outputs need transcription (drop --no-transcribe)");
        }
        formats.retain(|f| !f.needs_transcript());
    }
    let mut agents = AgentIds::none();
    if let Some(re) = &args.agent_from {
        agents = agents.with_pattern(re)?;
    }
    if let Some(m) = &args.manifest {
        agents = agents.with_manifest(m)?;
    }
    let setup = CallSetup {
        roles: Roles::parse(&args.roles).context("--roles")?,
        config,
        transcribe: transcriber
            .as_ref()
            .map(|t| TranscribeSetup { handle: t.handle() }),
        lexicon: Arc::new(load_lexicon(&args.lexicon)?),
        annotate: !args.no_annotate,
    };
    let opts = AnalyzeOptions {
        inputs: args.inputs,
        out_dir: args.out,
        jobs: args.jobs.unwrap_or_else(cores).max(1),
        formats,
        setup,
        quiet: args.quiet,
        agents,
    };
    let outcome = batch::run(&opts, cancel)?;
    if !opts.quiet {
        let rtf = if outcome.wall_s > 0.0 {
            outcome.audio_s / outcome.wall_s
        } else {
            0.0
        };
        eprintln!(
            "{} call(s) analysed, {} failed; {:.0} s of audio in {:.1} s ({rtf:.0}× real time); outputs in {}",
            outcome.ok,
            outcome.failed.len(),
            outcome.audio_s,
            outcome.wall_s,
            opts.out_dir.display()
        );
    }
    if outcome.cancelled {
        eprintln!("stopped by Ctrl-C: finished calls were written, nothing half-written was left");
        return Ok(ExitCode::from(130));
    }
    if !outcome.failed.is_empty() {
        eprintln!("{} input(s) failed:", outcome.failed.len());
        for (f, e) in &outcome.failed {
            eprintln!("  {f}: {e}");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn live(args: LiveArgs, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    use hearken::live::clock::StreamClock;
    use hearken::live::events::EventTarget;
    use hearken::live::replay::ReplaySource;
    use hearken::live::ring::FeedStatus;
    use hearken::live::session::{self, LiveInput, LiveOptions};
    use hearken::time::Time;

    if args.list_devices {
        return list_devices();
    }
    if !(args.speed.is_finite() && args.speed > 0.0) {
        bail!("--speed must be a positive number (1 = real time)");
    }
    if args.speed != 1.0 && args.input.is_none() {
        bail!("--speed applies to --input replays only");
    }
    let limit = match args.duration {
        Some(d) if !(d.is_finite() && d > 0.0) => {
            bail!("--duration must be a positive number of seconds")
        }
        Some(d) => Some(Time::from_secs(d)),
        None => None,
    };
    let formats = parse_formats(&args.format)?;
    let mut config = load_config(&args.config)?;
    config.live.validate()?;
    let mut whisper = args.whisper.clone();
    whisper.no_transcribe |= !args.transcribe;
    let events = args.events.as_deref().map(EventTarget::parse);
    let screen = session::default_screen(args.no_tui, events.as_ref());
    let transcriber = start_transcriber(&whisper, &mut config, screen == session::Screen::Meter)?;
    if transcriber.is_none() && formats.iter().any(|f| f.needs_transcript()) {
        bail!("srt, vtt, txt and stm outputs need --transcribe");
    }
    let setup = CallSetup {
        roles: Roles::parse(&args.roles).context("--roles")?,
        config,
        transcribe: transcriber
            .as_ref()
            .map(|t| TranscribeSetup { handle: t.handle() }),
        lexicon: Arc::new(load_lexicon(&None)?),
        annotate: !args.no_annotate,
    };
    let opts = LiveOptions {
        setup,
        out_dir: args.out.clone(),
        formats,
        events,
        record: args.record.clone(),
        screen,
    };

    #[cfg(feature = "live")]
    let mut capture = None;
    let input = if let Some(path) = &args.input {
        let file =
            hearken::audio::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let clock = Arc::new(StreamClock::new(args.speed));
        let source = ReplaySource::new(file, clock.clone(), stop.clone(), limit);
        let speed = if args.speed == 1.0 {
            String::new()
        } else {
            format!(" ×{}", args.speed)
        };
        LiveInput {
            source: Box::new(source),
            clock,
            feed: Arc::new(FeedStatus::default()),
            description: format!("replay {}{speed}", path.display()),
            display: path.display().to_string(),
            stem: args.name.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "call".into())
            }),
            audio: Some(path.clone()),
        }
    } else {
        #[cfg(feature = "live")]
        {
            use hearken::live::capture::{self, CaptureSpec};
            let spec = match (&args.agent_device, &args.customer_device) {
                (Some(a), Some(c)) => CaptureSpec::Pair {
                    agent: a.clone(),
                    customer: c.clone(),
                },
                _ => CaptureSpec::Single(args.device.clone()),
            };
            let clock = Arc::new(StreamClock::new(1.0));
            let (source, cap) = capture::open(&spec, clock.clone(), stop.clone(), limit)?;
            let input = LiveInput {
                source: Box::new(source),
                clock,
                feed: cap.feed.clone(),
                description: cap.description.clone(),
                display: args.record.as_ref().map_or_else(
                    || format!("live:{}", cap.description),
                    |r| r.display().to_string(),
                ),
                stem: args.name.clone().unwrap_or_else(session::capture_stem),
                audio: None,
            };
            capture = Some(cap);
            input
        }
        #[cfg(not(feature = "live"))]
        bail!(
            "this hearken was built without the `live` feature: only --input replays are available"
        );
    };
    let outcome = session::run(input, &opts, stop);
    #[cfg(feature = "live")]
    if let Some(c) = capture {
        c.stop();
    }
    let outcome = outcome?;
    let r = &outcome.result.report;
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("{}", batch::call_line(&r.input.path, r));
    if let Some(s) = outcome.recorded_s {
        eprintln!(
            "recorded {s:.1} s to {}",
            opts.record
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string())
        );
    }
    let files: Vec<String> = outcome
        .written
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    eprintln!("report: {}", files.join(", "));
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "live")]
fn list_devices() -> Result<ExitCode> {
    let devices = hearken::live::capture::list_devices()?;
    if devices.is_empty() {
        println!(
            "no capture devices found (no sound card?); `hearken live --input FILE` replays a recording"
        );
    }
    for d in devices {
        println!(
            "{}{}  {}  [{}]",
            d.name,
            if d.is_default { " (default)" } else { "" },
            d.description,
            d.default_config
                .unwrap_or_else(|| "no default configuration".into())
        );
        for r in d.ranges {
            println!("    {r}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "live"))]
fn list_devices() -> Result<ExitCode> {
    bail!("this hearken was built without the `live` feature: no sound-card capture")
}

fn evaluate(args: EvalArgs, cancel: &AtomicBool) -> Result<ExitCode> {
    let mut config = load_config(&args.config)?;
    args.diarize.apply(&mut config)?;
    let opts = EvalOptions {
        missing_as_empty: args.missing_as_empty,
        collar_s: args.collar,
        tolerance_s: args.tolerance,
        conversation: config.conversation.clone(),
        ..EvalOptions::default()
    };
    let hyps = match (&args.hyp, args.audio.is_empty()) {
        (Some(h), true) => eval::load_hypotheses(h)?,
        (None, false) => {
            // Transcribe only when there are reference transcripts to score.
            let wants_text = std::fs::read_dir(&args.reference)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .any(|e| e.path().extension().is_some_and(|x| x == "stm"))
                })
                .unwrap_or(args.reference.extension().is_some_and(|x| x == "stm"));
            let mut targs = args.transcribe.clone();
            targs.no_transcribe |= !wants_text;
            let transcriber = start_transcriber(&targs, &mut config, true)?;
            let setup = transcriber
                .as_ref()
                .map(|t| TranscribeSetup { handle: t.handle() });
            let setup = CallSetup {
                roles: Roles::parse(&args.roles).context("--roles")?,
                config: config.clone(),
                transcribe: setup,
                lexicon: Arc::new(load_lexicon(&None)?),
                annotate: true,
            };
            analyse_for_eval(&args, &setup, cancel)?
        }
        (Some(_), false) => bail!("give either --hyp or audio files, not both"),
        (None, true) => bail!("nothing to score: give --hyp PATH or audio files"),
    };
    let known: Vec<String> = hyps.keys().cloned().collect();
    let check = (!args.missing_as_empty).then_some(known.as_slice());
    let refs = eval::load_references(&args.reference, args.uem.as_deref(), check)?;
    for id in refs.keys().filter(|id| !hyps.contains_key(*id)) {
        eprintln!("warning: no hypothesis for {id:?}: scored as empty (all miss)");
    }
    let result = eval::evaluate(&refs, &hyps, &opts)?;
    if let Some(path) = &args.events {
        hearken::report::write_atomic(path, result.events_tsv().as_bytes())
            .with_context(|| format!("{}: cannot write the events", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result.to_json())?);
    } else {
        print!("{}", result.table(args.markdown));
    }
    Ok(ExitCode::SUCCESS)
}

fn analyse_for_eval(
    args: &EvalArgs,
    setup: &CallSetup,
    cancel: &AtomicBool,
) -> Result<std::collections::BTreeMap<String, eval::HypFile>> {
    let (files, errors) = batch::collect_inputs(&args.audio);
    for (f, e) in &errors {
        eprintln!("error: {f}: {e}");
    }
    let progress = std::sync::atomic::AtomicU64::new(0);
    let ctl = hearken::pipeline::Control {
        cancel,
        progress: &progress,
    };
    let jobs = args.jobs.unwrap_or_else(cores).max(1);
    let results = std::sync::Mutex::new(std::collections::BTreeMap::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(files.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let stem = f
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    match batch::analyze_call(f, &f.display().to_string(), setup, &ctl) {
                        Ok(call) => {
                            let hyp = eval::hyp_from_report(&stem, &call.report);
                            if let Ok(mut r) = results.lock() {
                                r.insert(stem, hyp);
                            }
                        }
                        Err(e) => {
                            eprintln!("error: {}: {e}", f.display());
                            if let Ok(mut v) = failures.lock() {
                                v.push(f.clone());
                            }
                        }
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    if results.is_empty() {
        bail!("no audio file could be analysed");
    }
    Ok(results)
}

fn model_command(cmd: ModelCommand) -> Result<ExitCode> {
    match cmd {
        ModelCommand::Import {
            dir,
            out,
            quantize,
            sha256,
        } => {
            let Some(quant) = Quantization::from_name(&quantize) else {
                bail!("unknown --quantize {quantize:?} (choose f16, q8_0, q4_0 or iq4_nl)");
            };
            let out = match out {
                Some(o) => o,
                None => {
                    // Name it after the model it holds.
                    let probe = std::env::temp_dir()
                        .join(format!("hearken-import-{}.bin", std::process::id()));
                    let r = model::import_ctranslate2(&dir, &probe, quant)?;
                    let _ = std::fs::remove_file(&probe);
                    PathBuf::from("models").join(format!(
                        "ggml-{}{}.bin",
                        r.kind,
                        quant.file_suffix()
                    ))
                }
            };
            if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let r = model::import_ctranslate2(&dir, &out, quant)?;
            println!(
                "{}: {} {} ({} tensors, {} bytes)\nsha256 {}",
                r.output.display(),
                r.kind,
                r.info.ftype,
                r.tensors,
                r.bytes,
                r.sha256
            );
            if let Some(want) = sha256
                && !want.eq_ignore_ascii_case(&r.sha256)
            {
                bail!(
                    "{}: sha256 {} differs from the expected {want}",
                    r.output.display(),
                    r.sha256
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::List { dir } => {
            let entries = std::fs::read_dir(&dir)
                .with_context(|| format!("cannot list {}", dir.display()))?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "bin"))
                .collect();
            files.sort();
            if files.is_empty() {
                println!("no models in {} ({})", dir.display(), transcribe::FIX);
            }
            for f in files {
                match model::inspect(&f) {
                    Ok(i) => println!(
                        "{}  {} {} {}  {:.1} MB",
                        f.display(),
                        i.kind,
                        i.ftype,
                        if i.multilingual {
                            "multilingual"
                        } else {
                            "English-only"
                        },
                        i.bytes as f64 / 1e6
                    ),
                    Err(e) => println!("{}  unusable: {e}", f.display()),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Inspect { file } => {
            let i = model::inspect(&file)?;
            println!(
                "{}: {} ({}), {}, {} tensors, {} mel bands, vocabulary {}, {} bytes",
                file.display(),
                i.kind,
                if i.multilingual {
                    "multilingual"
                } else {
                    "English-only"
                },
                i.ftype,
                i.n_tensors,
                i.n_mels,
                i.n_vocab,
                i.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The error and its causes on one line, each cause once: the library's
/// errors already name their source in their own message, which anyhow's
/// `{:#}` would repeat.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        // A second Ctrl-C while stopping exits at once.
        let _ = ctrlc::set_handler(move || {
            if cancel.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }
    let result = match cli.command {
        Command::Analyze(a) => analyze(a, &cancel),
        Command::Eval(e) => evaluate(e, &cancel),
        Command::Live(l) => live(l, &cancel),
        Command::Config => {
            print!("{}", include_str!("../config/default.toml"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Model(m) => model_command(m),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}
