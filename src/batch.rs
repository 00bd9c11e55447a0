//! `hearken analyze`: many calls in parallel, one report per call, a
//! summary per run.
//!
//! Inputs (files, or directories searched recursively for audio) become
//! jobs on a bounded channel; `jobs` workers each run one call's pipeline
//! at a time; results come back to the calling thread, which alone writes
//! outputs, prints, and keeps the summary (one writer: no interleaved lines,
//! no two threads renaming into the same directory). A call that fails is
//! reported on one line and the batch goes on; the summary lists it.

pub mod agents;

use crate::annotate::Lexicon;
use crate::annotate::tap::{AcousticTrack, AnnotateTap};
use crate::audio::{self, Roles};
use crate::config::Config;
use crate::conversation;
use crate::diarize::apply;
use crate::diarize::frontend::band_top_hz;
use crate::diarize::tap::{DiarizeTap, Diarized};
use crate::formats;
use crate::pipeline::{self, Control, PipelineError, Tap};
use crate::report::html::{self, HtmlOptions, IndexEntry};
use crate::report::{self, Report, WriteError, write_atomic};
use crate::time::Time;
use crate::transcribe::{TranscribeTap, TranscriberHandle, Transcript};
use agents::AgentIds;
use crossbeam_channel::bounded;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Per-call output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutputFormat {
    /// `<stem>.json`, the report.
    Json,
    /// `<stem>.rttm`, speech per speaker.
    Rttm,
    /// `summary.csv` for the run.
    Csv,
    /// `<stem>.srt`, the transcript as subtitles.
    Srt,
    /// `<stem>.vtt`, WebVTT with voice tags.
    Vtt,
    /// `<stem>.txt`, the transcript as text.
    Txt,
    /// `<stem>.stm`, the transcript for sclite-style scoring.
    Stm,
    /// `<stem>.html`, the page of the call, and `index.html` for the run.
    Html,
}

impl OutputFormat {
    /// Parses one format name.
    pub fn parse(s: &str) -> Option<OutputFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Some(OutputFormat::Json),
            "rttm" => Some(OutputFormat::Rttm),
            "csv" => Some(OutputFormat::Csv),
            "srt" => Some(OutputFormat::Srt),
            "vtt" => Some(OutputFormat::Vtt),
            "txt" => Some(OutputFormat::Txt),
            "stm" => Some(OutputFormat::Stm),
            "html" => Some(OutputFormat::Html),
            _ => None,
        }
    }

    /// True for the formats that carry the transcript.
    pub fn needs_transcript(self) -> bool {
        matches!(
            self,
            OutputFormat::Srt | OutputFormat::Vtt | OutputFormat::Txt | OutputFormat::Stm
        )
    }

    /// Every format name, for help texts.
    pub const NAMES: &'static [&'static str] =
        &["json", "rttm", "csv", "html", "srt", "vtt", "txt", "stm"];
}

/// Transcription for a batch: a handle on the shared Whisper workers.
#[derive(Clone, Debug)]
pub struct TranscribeSetup {
    /// Where windows go.
    pub handle: TranscriberHandle,
}

/// Everything `hearken analyze` needs to know.
#[derive(Clone, Debug)]
pub struct AnalyzeOptions {
    /// Files and directories to analyse.
    pub inputs: Vec<PathBuf>,
    /// Where outputs go.
    pub out_dir: PathBuf,
    /// Calls analysed at once.
    pub jobs: usize,
    /// Outputs to write.
    pub formats: BTreeSet<OutputFormat>,
    /// Roles, thresholds, transcription, lexicon.
    pub setup: CallSetup,
    /// No per-call lines, no progress bar.
    pub quiet: bool,
    /// Agent of each call, for the per-agent figures of `index.html`.
    pub agents: AgentIds,
}

/// Why a batch could not run at all (per-call problems are not errors of
/// the batch: they are counted in [`BatchOutcome`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The output directory cannot be created or written.
    #[error("output directory {path} cannot be written: {source}")]
    OutputDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing `summary.csv` failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Nothing to analyse at all.
    #[error("no input files")]
    NoInputs,
}

/// How a batch went.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Calls analysed and written.
    pub ok: usize,
    /// `(input, one-line error)` of every failure.
    pub failed: Vec<(String, String)>,
    /// Ctrl-C stopped the run.
    pub cancelled: bool,
    /// Total audio analysed, seconds.
    pub audio_s: f64,
    /// Wall time, seconds.
    pub wall_s: f64,
}

/// One call to analyse.
#[derive(Clone, Debug)]
struct Job {
    path: PathBuf,
    display: String,
    stem: String,
}

/// Expands directories into their audio files (recursively, sorted) and
/// checks that plain files exist. Returns the files and the inputs that
/// yielded nothing, with the reason.
pub fn collect_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(input)
                .follow_links(true)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file() && audio::has_audio_extension(e.path()))
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.into_path())
                .collect();
            found.sort();
            if found.is_empty() {
                errors.push((
                    input.display().to_string(),
                    format!(
                        "directory without audio files (looked for .{})",
                        audio::AUDIO_EXTENSIONS.join(", .")
                    ),
                ));
            }
            files.extend(found);
        } else if input.exists() {
            files.push(input.clone());
        } else {
            errors.push((
                input.display().to_string(),
                "no such file or directory".into(),
            ));
        }
    }
    (files, errors)
}

/// Output stems, unique within the run: the file stem, prefixed with parent
/// directory names (joined by `__`) where two inputs share a stem.
fn unique_stems(files: &[PathBuf]) -> Vec<String> {
    let stem = |p: &Path, depth: usize| -> String {
        let mut parts: Vec<String> = p
            .parent()
            .into_iter()
            .flat_map(|d| d.components().rev().take(depth))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.reverse();
        parts.push(
            p.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "call".into()),
        );
        parts.join("__")
    };
    let mut depth = vec![0usize; files.len()];
    for _ in 0..8 {
        let names: Vec<String> = files.iter().zip(&depth).map(|(f, &d)| stem(f, d)).collect();
        let mut count: HashMap<&str, usize> = HashMap::new();
        for n in &names {
            *count.entry(n).or_default() += 1;
        }
        if count.values().all(|&c| c == 1) {
            return names;
        }
        for (i, n) in names.iter().enumerate() {
            if count[n.as_str()] > 1 {
                depth[i] += 1;
            }
        }
    }
    // Identical paths given twice: number them.
    files
        .iter()
        .zip(&depth)
        .enumerate()
        .map(|(i, (f, &d))| format!("{}-{}", stem(f, d), i + 1))
        .collect()
}

/// Checks that `dir` exists (creating it) and accepts a file.
fn prepare_out_dir(dir: &Path) -> Result<(), BatchError> {
    let fail = |source| BatchError::OutputDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".hearken-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A call back from the workers, kept for `summary.csv` and `index.html`.
struct Finished {
    /// The input as shown.
    display: String,
    /// Its output stem.
    stem: String,
    /// Its agent, when known.
    agent: Option<String>,
    /// The report, or why there is none.
    report: Result<Report, String>,
}

/// The analysis of one call, ready to be written.
pub struct CallResult {
    /// The report.
    pub report: Report,
    /// Speaker id → 1-based channel, for RTTM.
    pub channels: Vec<(String, u32)>,
    /// Audio seconds.
    pub audio_s: f64,
}

/// What every call of a run is analysed with.
#[derive(Clone, Debug)]
pub struct CallSetup {
    /// Channel roles.
    pub roles: Roles,
    /// Thresholds.
    pub config: Config,
    /// Transcription, when enabled.
    pub transcribe: Option<TranscribeSetup>,
    /// The language-marker lexicon.
    pub lexicon: Arc<Lexicon>,
    /// Tone, pace and scorecard annotations (on by default).
    pub annotate: bool,
}

impl CallSetup {
    /// Default roles and lexicon, no transcription.
    pub fn new(config: Config) -> Result<CallSetup, crate::annotate::AnnotateError> {
        Ok(CallSetup {
            roles: Roles::default(),
            config,
            transcribe: None,
            lexicon: Arc::new(Lexicon::builtin()?),
            annotate: true,
        })
    }
}

/// Analyses one call: the pipeline (with the annotation stage, and the
/// transcription stage when enabled), then the conversation metrics and the
/// annotations.
pub fn analyze_call(
    path: &Path,
    display: &str,
    setup: &CallSetup,
    ctl: &Control<'_>,
) -> Result<CallResult, PipelineError> {
    let source = audio::open(path)?;
    analyze_source(source, display, setup, |_| Vec::new(), ctl)
}

/// [`analyze_call`] on an open source, with `extra_taps` (built once the
/// speakers are known) running beside the analysis's own: `hearken live`
/// feeds its capture or paced replay through here, with the meter as an
/// extra tap, so its final report is made exactly as `analyze` makes one.
pub fn analyze_source<'t>(
    source: Box<dyn audio::AudioSource>,
    display: &str,
    setup: &CallSetup,
    extra_taps: impl FnOnce(&[audio::Speaker]) -> Vec<Box<dyn Tap + 't>>,
    ctl: &Control<'_>,
) -> Result<CallResult, PipelineError> {
    let config = &setup.config;
    let transcript_slot: Mutex<Option<Result<Transcript, String>>> = Mutex::new(None);
    let acoustic_slot: Mutex<Option<Result<AcousticTrack, String>>> = Mutex::new(None);
    let diarized_slot: Mutex<Option<Result<Diarized, String>>> = Mutex::new(None);
    let utterance_gap = Time::from_secs(config.conversation.utterance_gap_s);
    let mut tap_error = None;
    // A mono file is diarized; its rate sets the band the voice features use.
    let mono_rate = {
        let info = source.info();
        (info.channels == 1).then_some(info.sample_rate)
    };
    let mut make_taps = |speakers: &[audio::Speaker]| -> Vec<Box<dyn Tap + '_>> {
        let mut taps: Vec<Box<dyn Tap + '_>> = Vec::new();
        if let Some(rate) = mono_rate.filter(|_| config.diarize.active()) {
            match DiarizeTap::new(&config.diarize, band_top_hz(rate), &diarized_slot) {
                Ok(t) => taps.push(Box::new(t)),
                Err(e) => tap_error = Some(e.to_string()),
            }
        }
        if setup.annotate {
            match AnnotateTap::new(speakers.len(), &config.annotate, &acoustic_slot) {
                Ok(t) => taps.push(Box::new(t)),
                Err(e) => tap_error = Some(e.to_string()),
            }
        }
        if let Some(t) = &setup.transcribe {
            taps.push(Box::new(TranscribeTap::new(
                t.handle.clone(),
                &config.transcribe,
                speakers.len(),
                utterance_gap,
                &transcript_slot,
            )));
        }
        taps
    };
    let speakers = setup.roles.assign(source.info().channels);
    let mut taps = make_taps(&speakers);
    taps.extend(extra_taps(&speakers));
    let det = pipeline::run(source, speakers, &config.vad, taps, ctl)?;
    if let Some(e) = tap_error {
        return Err(PipelineError::Tap(e));
    }
    let mut det = det;
    let mut transcript = match transcript_slot.into_inner().ok().flatten() {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return Err(PipelineError::Tap(e)),
        None => None,
    };
    let mut acoustic = match acoustic_slot.into_inner().ok().flatten() {
        Some(Ok(a)) => a,
        Some(Err(e)) => return Err(PipelineError::Tap(e)),
        None => AcousticTrack::default(),
    };
    let diarization = match diarized_slot.into_inner().ok().flatten() {
        Some(Ok(d)) => Some(apply_diarization(
            d,
            &mut det,
            &mut transcript,
            &mut acoustic,
            config,
        )),
        Some(Err(e)) => return Err(PipelineError::Tap(e)),
        None => None,
    };
    let conv = conversation::analyze(&det.speech, det.duration, &config.conversation);
    let transcript = transcript.map(|t| report::utterances_from(&t, &det.speakers));
    let mut report = Report::from_analysis(
        display,
        &det.info,
        &det.speakers,
        &det.speech,
        &conv,
        (
            config.conversation.silence_min_s,
            config.conversation.long_silence_s,
        ),
        det.warnings,
    );
    report.transcript = transcript;
    if diarization.is_some() {
        report.speakers.iter_mut().for_each(|s| s.diarized = true);
    }
    if let Some(d) = diarization.as_ref().filter(|d| d.uncertain) {
        report.warnings.push(format!(
            "speaker split uncertain: the voices' median pitches are {:.2} octave apart \
             (under diarize.min_pitch_gap = {}); per-speaker figures may be wrong",
            d.pitch_gap_octaves.unwrap_or(0.0),
            config.diarize.min_pitch_gap
        ));
    }
    report.diarization = diarization;
    if setup.annotate {
        crate::annotate::call::annotate(
            &mut report,
            &det.speakers,
            &det.speech,
            &conv,
            &acoustic,
            &setup.lexicon,
            &config.annotate,
            &config.scorecard,
            utterance_gap,
        );
    }
    Ok(CallResult {
        channels: det
            .speakers
            .iter()
            .map(|s| (s.id.clone(), s.channel as u32 + 1))
            .collect(),
        audio_s: det.duration.secs(),
        report,
    })
}

/// Replaces the mono call's one `speaker` with the diarized speakers: their
/// speech (within the detector's), the transcript split by turns, the
/// acoustic measurements shared out. Returns the report's note on it.
fn apply_diarization(
    d: Diarized,
    det: &mut pipeline::Detection,
    transcript: &mut Option<Transcript>,
    acoustic: &mut AcousticTrack,
    config: &Config,
) -> report::DiarizationOut {
    let mono = det.speech.support();
    let d = Diarized {
        speech: d.speech.iter().map(|t| t.intersection(&mono)).collect(),
        pitch_gap: d.pitch_gap,
    };
    let gap = Time::from_secs(config.conversation.utterance_gap_s);
    let split = transcript
        .as_ref()
        .map(|t| apply::split_transcript(t, &d.speech, gap));
    let (applied, order) = apply::name_speakers(&d, split.as_ref(), &config.diarize);
    *transcript = split.map(|t| apply::reindex_transcript(&t, &order));
    *acoustic = AcousticTrack {
        segments: apply::reorder(&apply::split_acoustic(acoustic, &d.speech).segments, &order),
    };
    det.speakers = applied.speakers;
    det.speech = applied.speech;
    let uncertain = d
        .pitch_gap
        .is_some_and(|g| g < config.diarize.min_pitch_gap);
    report::DiarizationOut {
        speakers: det.speakers.len(),
        agent_rule: applied.rule.map(|r| r.name().to_string()),
        overlap_s: crate::time::round_ms(d.overlap().total().secs()),
        pitch_gap_octaves: d
            .pitch_gap
            .map(|g| (f64::from(g) * 1000.0).round() / 1000.0),
        uncertain,
    }
}

/// Writes the per-call outputs; returns the paths written.
///
/// Inputs are never overwritten: not a file given as input, and not an
/// existing file beside the audio when `--out` is the audio's own directory
/// (a reference `<stem>.rttm` kept next to `<stem>.wav`, say). Every target
/// is checked before anything is written, so a refused call leaves nothing.
fn write_call(
    result: &CallResult,
    job: &Job,
    opts: &AnalyzeOptions,
    inputs: &BTreeSet<PathBuf>,
) -> Result<Vec<PathBuf>, String> {
    write_outputs(result, job, &opts.out_dir, &opts.formats, inputs)
}

/// Writes the outputs of one call analysed outside a batch (`hearken
/// live`), as `analyze` writes them: `<stem>.json` and the other per-call
/// formats in `out_dir` (and `summary.csv` with its one row when asked).
/// `audio` is the recording, when one is kept, for the HTML page's player.
pub fn write_single_call(
    result: &CallResult,
    display: &str,
    stem: &str,
    audio: Option<&Path>,
    out_dir: &Path,
    formats: &BTreeSet<OutputFormat>,
) -> Result<Vec<PathBuf>, String> {
    prepare_out_dir(out_dir).map_err(|e| e.to_string())?;
    let job = Job {
        path: audio.map(Path::to_path_buf).unwrap_or_default(),
        display: display.to_string(),
        stem: stem.to_string(),
    };
    let inputs: BTreeSet<PathBuf> = audio
        .and_then(|a| a.canonicalize().ok())
        .into_iter()
        .collect();
    let mut written = write_outputs(result, &job, out_dir, formats, &inputs)?;
    if formats.contains(&OutputFormat::Csv) {
        let path = out_dir.join("summary.csv");
        let bytes = report::csv::render(&[report::csv::Row::Ok(&result.report)])
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        write_atomic(&path, &bytes).map_err(|e| e.to_string())?;
        written.push(path);
    }
    Ok(written)
}

fn write_outputs(
    result: &CallResult,
    job: &Job,
    out_dir: &Path,
    formats: &BTreeSet<OutputFormat>,
    inputs: &BTreeSet<PathBuf>,
) -> Result<Vec<PathBuf>, String> {
    let stem = &job.stem;
    // The report is streamed to its file (for a long call it is the largest
    // output); the others are small and built in memory.
    let json_path = formats
        .contains(&OutputFormat::Json)
        .then(|| out_dir.join(format!("{stem}.json")));
    let mut outputs: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if formats.contains(&OutputFormat::Rttm) {
        let speech = result.report.speech_annotation();
        let rttm = formats::write_rttm(stem, &speech, |id| {
            result
                .channels
                .iter()
                .find(|(s, _)| s == id)
                .map_or(1, |(_, c)| *c)
        });
        outputs.push((out_dir.join(format!("{stem}.rttm")), rttm.into_bytes()));
    }
    if let Some(t) = &result.report.transcript {
        let channel_of = |id: &str| {
            result
                .channels
                .iter()
                .find(|(s, _)| s == id)
                .map_or(1, |(_, c)| *c)
        };
        for f in formats {
            let (ext, text) = match f {
                OutputFormat::Srt => ("srt", report::transcript::srt(t)),
                OutputFormat::Vtt => ("vtt", report::transcript::vtt(t)),
                OutputFormat::Txt => ("txt", report::transcript::txt(t)),
                OutputFormat::Stm => ("stm", report::transcript::stm(stem, t, channel_of)),
                _ => continue,
            };
            outputs.push((out_dir.join(format!("{stem}.{ext}")), text.into_bytes()));
        }
    }
    if formats.contains(&OutputFormat::Html) {
        let value = serde_json::to_value(&result.report)
            .map_err(|e| format!("cannot serialise the report: {e}"))?;
        let page = html::render_call(
            &value,
            &HtmlOptions {
                title: job.display.clone(),
                audio_src: relative_path(out_dir, &job.path),
            },
        );
        outputs.push((out_dir.join(format!("{stem}.html")), page.into_bytes()));
    }
    let beside_audio = match (
        out_dir.canonicalize(),
        job.path.parent().map(Path::canonicalize),
    ) {
        (Ok(out), Some(Ok(parent))) => out == parent,
        _ => false,
    };
    for path in outputs.iter().map(|(p, _)| p).chain(json_path.iter()) {
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        if inputs.contains(&canon) || (beside_audio && path.exists()) {
            return Err(format!(
                "refusing to overwrite input file {} (choose another --out)",
                path.display()
            ));
        }
    }
    let mut written = Vec::new();
    if let Some(path) = json_path {
        report::write_atomic_with(&path, |w| result.report.write_json(w))
            .map_err(|e| e.to_string())?;
        written.push(path);
    }
    for (path, bytes) in outputs {
        write_atomic(&path, &bytes).map_err(|e| e.to_string())?;
        written.push(path);
    }
    Ok(written)
}

/// `target` as a `/`-separated path relative to the directory `from`, when
/// both exist and the relative path leads back to `target`.
pub fn relative_path(from: &Path, target: &Path) -> Option<String> {
    let from = from.canonicalize().ok()?;
    let target = target.canonicalize().ok()?;
    let (a, b): (Vec<_>, Vec<_>) = (from.components().collect(), target.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return None; // different roots (Windows drives)
    }
    let mut parts: Vec<String> = vec!["..".into(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    let rel = parts.join("/");
    (from.join(&rel).canonicalize().ok()? == target).then_some(rel)
}

/// One line per call for the terminal.
pub fn call_line(display: &str, r: &Report) -> String {
    let dur = r.input.duration_s;
    let mut parts = vec![format!(
        "{display}  {}:{:04.1}",
        (dur / 60.0) as u64,
        dur % 60.0
    )];
    let talk: Vec<String> = r
        .talk
        .iter()
        .map(|(id, t)| format!("{id} {:.0}%", t.share_of_speech * 100.0))
        .collect();
    if !talk.is_empty() {
        parts.push(format!("talk {}", talk.join(" / ")));
    }
    let ints: Vec<String> = r
        .speaker_metrics
        .iter()
        .map(|(id, m)| format!("{id} {}", m.interruptions_made))
        .collect();
    parts.push(format!("interruptions {}", ints.join(", ")));
    parts.push(format!("overlap {:.1}s", r.overlap.total_s));
    parts.push(format!(
        "silence {:.1}s ({} ≥{}s)",
        r.silence.total_s, r.silence.count, r.silence.min_s
    ));
    if let Some(l) = &r.listening {
        parts.push(format!(
            "listening {:.0}% {}",
            l.agent_listening_share * 100.0,
            if l.meets_target { "ok" } else { "below target" }
        ));
    }
    parts.join("  ")
}

/// Runs a whole batch. `cancel` is set by the Ctrl-C handler.
pub fn run(opts: &AnalyzeOptions, cancel: &AtomicBool) -> Result<BatchOutcome, BatchError> {
    let start = Instant::now();
    let (files, input_errors) = collect_inputs(&opts.inputs);
    if files.is_empty() && input_errors.is_empty() {
        return Err(BatchError::NoInputs);
    }
    prepare_out_dir(&opts.out_dir)?;
    let stems = unique_stems(&files);
    let canonical_inputs: BTreeSet<PathBuf> =
        files.iter().filter_map(|f| f.canonicalize().ok()).collect();
    let jobs: Vec<Job> = files
        .iter()
        .zip(stems)
        .map(|(p, stem)| Job {
            path: p.clone(),
            display: p.display().to_string(),
            stem,
        })
        .collect();

    let mut outcome = BatchOutcome::default();
    for (input, e) in &input_errors {
        eprintln!("error: {input}: {e}");
        outcome.failed.push((input.clone(), e.clone()));
    }

    // Reports come back in the order calls finish; the summary lists them
    // in the order of the inputs, whatever the scheduling.
    let order: std::collections::HashMap<String, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.stem.clone(), i))
        .collect();
    let bar = progress_bar(&jobs, opts.quiet);
    let decoded = AtomicU64::new(0);
    let workers = opts.jobs.clamp(1, jobs.len().max(1));
    let (job_tx, job_rx) = bounded::<Job>(workers);
    let (res_tx, res_rx) = bounded::<(Job, Result<CallResult, PipelineError>)>(workers);
    let mut reports: Vec<Finished> = Vec::new();

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (job_rx, res_tx) = (job_rx.clone(), res_tx.clone());
            let decoded = &decoded;
            scope.spawn(move || {
                let ctl = Control {
                    cancel,
                    progress: decoded,
                };
                for job in job_rx.iter() {
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = analyze_call(&job.path, &job.display, &opts.setup, &ctl);
                    if res_tx.send((job, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(res_tx);
        scope.spawn(move || {
            for job in jobs {
                if cancel.load(Ordering::Relaxed) || job_tx.send(job).is_err() {
                    break;
                }
            }
        });

        for (job, result) in res_rx.iter() {
            match result {
                Ok(call) => match write_call(&call, &job, opts, &canonical_inputs) {
                    Ok(_) => {
                        outcome.ok += 1;
                        outcome.audio_s += call.audio_s;
                        for w in &call.report.warnings {
                            bar.suspend(|| eprintln!("warning: {}: {w}", job.display));
                        }
                        if !opts.quiet {
                            bar.suspend(|| println!("{}", call_line(&job.display, &call.report)));
                        }
                        let agent = opts.agents.agent_for(&job.path);
                        reports.push(Finished {
                            display: job.display.clone(),
                            stem: job.stem.clone(),
                            agent,
                            report: Ok(call.report),
                        });
                    }
                    Err(e) => {
                        bar.suspend(|| eprintln!("error: {}: {e}", job.display));
                        outcome.failed.push((job.display.clone(), e.clone()));
                        reports.push(Finished {
                            display: job.display.clone(),
                            stem: job.stem.clone(),
                            agent: None,
                            report: Err(e),
                        });
                    }
                },
                Err(PipelineError::Cancelled) => outcome.cancelled = true,
                Err(e) => {
                    let msg = e.to_string();
                    bar.suspend(|| eprintln!("error: {}: {msg}", job.display));
                    outcome.failed.push((job.display.clone(), msg.clone()));
                    reports.push(Finished {
                        display: job.display.clone(),
                        stem: job.stem.clone(),
                        agent: None,
                        report: Err(msg),
                    });
                }
            }
            bar.inc(1);
        }
    });
    bar.finish_and_clear();
    reports.sort_by_key(|f| order.get(&f.stem).copied().unwrap_or(usize::MAX));
    if cancel.load(Ordering::Relaxed) {
        outcome.cancelled = true;
    }

    if opts.formats.contains(&OutputFormat::Csv) {
        let mut rows: Vec<report::csv::Row<'_>> = Vec::new();
        for (input, e) in &input_errors {
            rows.push(report::csv::Row::Failed {
                file: input,
                error: e,
            });
        }
        for Finished {
            display, report: r, ..
        } in &reports
        {
            rows.push(match r {
                Ok(rep) => report::csv::Row::Ok(rep),
                Err(e) => report::csv::Row::Failed {
                    file: display,
                    error: e,
                },
            });
        }
        let bytes = report::csv::render(&rows).map_err(|e| WriteError {
            path: opts.out_dir.join("summary.csv"),
            source: std::io::Error::other(e.to_string()),
        })?;
        write_atomic(&opts.out_dir.join("summary.csv"), &bytes)?;
    }
    if opts.formats.contains(&OutputFormat::Html) {
        let mut entries: Vec<IndexEntry> = reports
            .iter()
            .filter_map(|f| {
                Some(IndexEntry {
                    report: serde_json::to_value(f.report.as_ref().ok()?).ok()?,
                    page: format!("{}.html", f.stem),
                    agent: f.agent.clone(),
                })
            })
            .collect();
        entries.sort_by(|a, b| a.page.cmp(&b.page));
        let page = html::render_index(&entries, &outcome.failed);
        write_atomic(&opts.out_dir.join("index.html"), page.as_bytes())?;
    }
    outcome.wall_s = start.elapsed().as_secs_f64();
    Ok(outcome)
}

fn progress_bar(jobs: &[Job], quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(jobs.len() as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} calls  ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_made_unique_with_parents() {
        let files = vec![
            PathBuf::from("a/day1/call.wav"),
            PathBuf::from("a/day2/call.wav"),
            PathBuf::from("b/other.wav"),
        ];
        assert_eq!(unique_stems(&files), ["day1__call", "day2__call", "other"]);
        let same = vec![PathBuf::from("x.wav"), PathBuf::from("x.wav")];
        assert_eq!(unique_stems(&same), ["x-1", "x-2"]);
    }

    #[test]
    fn audio_paths_are_relative_to_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let audio = dir.path().join("in dir").join("x.wav");
        std::fs::create_dir_all(audio.parent().unwrap()).unwrap();
        std::fs::write(&audio, b"").unwrap();
        let out = dir.path().join("out").join("deep");
        std::fs::create_dir_all(&out).unwrap();
        assert_eq!(
            relative_path(&out, &audio).as_deref(),
            Some("../../in dir/x.wav")
        );
        assert_eq!(
            relative_path(audio.parent().unwrap(), &audio).as_deref(),
            Some("x.wav")
        );
        assert_eq!(relative_path(&out, &dir.path().join("missing.wav")), None);
    }

    #[test]
    fn formats_parse() {
        assert_eq!(OutputFormat::parse(" JSON"), Some(OutputFormat::Json));
        assert_eq!(OutputFormat::parse("html"), Some(OutputFormat::Html));
        assert_eq!(OutputFormat::parse("xml"), None);
    }
}
