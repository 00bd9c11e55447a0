//! The `hearken` command line: arguments → options → library calls.
//!
//! Exit codes: 0 all good; 1 some inputs failed (each reported on one line,
//! the others were processed); 2 the command could not run at all (bad
//! arguments, unwritable output directory, unreadable reference); 130
//! stopped by Ctrl-C.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use hearken::audio::Roles;
use hearken::batch::agents::AgentIds;
use hearken::batch::{self, AnalyzeOptions, OutputFormat};
use hearken::config::Config;
use hearken::eval::{self, EvalOptions};
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
    /// Print the default configuration (TOML) to adapt and pass with --config.
    Config,
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
    /// Outputs: json (report), rttm, csv (summary.csv), html (a page per call and index.html).
    #[arg(long, default_value = "json,rttm,csv", value_delimiter = ',')]
    format: Vec<String>,
    /// Thresholds (TOML; see `hearken config`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// No per-call lines and no progress bar (errors are still printed).
    #[arg(long, short)]
    quiet: bool,
    /// Agent id from the file name: a regular expression whose first group is the id, e.g. '^([a-z]+)_'.
    #[arg(long, value_name = "REGEX")]
    agent_from: Option<String>,
    /// Agent ids from a CSV with columns `file,agent` (wins over --agent-from).
    #[arg(long, value_name = "CSV")]
    manifest: Option<PathBuf>,
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
    /// Calls analysed in parallel when scoring audio.
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Speaker of each channel when scoring audio.
    #[arg(long, default_value = "agent,customer")]
    roles: String,
}

fn load_config(path: &Option<PathBuf>) -> Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn analyze(args: AnalyzeArgs, cancel: &AtomicBool) -> Result<ExitCode> {
    let mut formats = BTreeSet::new();
    for f in &args.format {
        match OutputFormat::parse(f) {
            Some(x) => {
                formats.insert(x);
            }
            None => bail!(
                "unknown output format {f:?} (choose from {})",
                OutputFormat::NAMES.join(", ")
            ),
        }
    }
    let mut agents = AgentIds::none();
    if let Some(re) = &args.agent_from {
        agents = agents.with_pattern(re)?;
    }
    if let Some(m) = &args.manifest {
        agents = agents.with_manifest(m)?;
    }
    let opts = AnalyzeOptions {
        inputs: args.inputs,
        out_dir: args.out,
        jobs: args.jobs.unwrap_or_else(cores).max(1),
        roles: Roles::parse(&args.roles).context("--roles")?,
        formats,
        config: load_config(&args.config)?,
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

fn evaluate(args: EvalArgs, cancel: &AtomicBool) -> Result<ExitCode> {
    let config = load_config(&args.config)?;
    let opts = EvalOptions {
        collar_s: args.collar,
        tolerance_s: args.tolerance,
        conversation: config.conversation.clone(),
        ..EvalOptions::default()
    };
    let hyps = match (&args.hyp, args.audio.is_empty()) {
        (Some(h), true) => eval::load_hypotheses(h)?,
        (None, false) => analyse_for_eval(&args, &config, cancel)?,
        (Some(_), false) => bail!("give either --hyp or audio files, not both"),
        (None, true) => bail!("nothing to score: give --hyp PATH or audio files"),
    };
    let known: Vec<String> = hyps.keys().cloned().collect();
    let refs = eval::load_references(&args.reference, args.uem.as_deref(), &known)?;
    let result = eval::evaluate(&refs, &hyps, &opts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result.to_json())?);
    } else {
        print!("{}", result.table(args.markdown));
    }
    Ok(ExitCode::SUCCESS)
}

fn analyse_for_eval(
    args: &EvalArgs,
    config: &Config,
    cancel: &AtomicBool,
) -> Result<std::collections::BTreeMap<String, eval::HypFile>> {
    let roles = Roles::parse(&args.roles).context("--roles")?;
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
                    match batch::analyze_call(
                        f,
                        &f.display().to_string(),
                        &roles,
                        config,
                        Vec::new(),
                        &ctl,
                    ) {
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
        Command::Config => {
            print!("{}", include_str!("../config/default.toml"));
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
