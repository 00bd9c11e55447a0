//! Transcription with a local Whisper model: VAD-gated, speaker-attributed,
//! word-timed.
//!
//! The parts, each testable on its own:
//! * [`pack`]: one speaker's speech pieces packed into 30 s windows, and
//!   window times mapped back to call times;
//! * [`words`]: tokens joined into words, words grouped into utterances;
//! * [`Engine`]: the recogniser behind a trait — Whisper through whisper-rs
//!   with the `transcribe` feature, or a scripted fake in tests;
//! * [`Transcriber`]: one model shared by a pool of workers, one recogniser
//!   state per worker, fed through a bounded queue by every call and every
//!   channel of a batch;
//! * [`TranscribeTap`]: the pipeline stage that receives a call's audio and
//!   speech segments, packs and submits windows, and assembles the
//!   transcript.

pub mod pack;
mod tap;
#[cfg(feature = "transcribe")]
pub mod whisper;
pub mod words;

pub use tap::{TranscribeTap, Transcript};

use crossbeam_channel::{Receiver, Sender, bounded};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use words::Token;

/// Settings of transcription (the `[transcribe]` table of the config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscribeConfig {
    /// Language code (`en`, `de`, ...) or `auto` to detect it per window.
    pub language: String,
    /// Threads per Whisper worker.
    pub threads: usize,
    /// Whisper workers (each decodes one window at a time with a state of its
    /// own; the model is shared).
    pub workers: usize,
    /// Longest packed window, s (Whisper reads 30 s). Shorter windows cost
    /// less per second of speech when the encoder context is fitted to the
    /// window ([`Self::fit_encoder`]): self-attention grows with the square
    /// of the context, and with 4-bit weights it is about half of the CPU
    /// (f16 dot products). 15 s cut the stereo devset's time by a fifth at
    /// +0.3 points of WER; much shorter windows give Whisper too little
    /// context (10 s: +4 points on a subset).
    pub window_s: f64,
    /// Speech added before and after each detected segment, s: the detector
    /// cuts close to the energy, and Whisper wants the onsets.
    pub pad_s: f64,
    /// Silence between packed pieces, s: enough for Whisper to hear a pause.
    pub gap_s: f64,
    /// Temperature fallback step (0 disables re-decoding at higher
    /// temperature; Whisper's default is 0.2).
    pub temperature_inc: f32,
    /// Encode only as much of Whisper's 30 s context as the window holds,
    /// plus a second (whisper.cpp's `audio_ctx`). The encoder's cost grows
    /// with its context, its attention quadratically: the last, partly
    /// filled window of each channel, and every window of a short call,
    /// cost a fraction of a full one. `false` always encodes 30 s.
    pub fit_encoder: bool,
    /// whisper.cpp's fused attention kernels (`flash_attn`). Off by default:
    /// on the 2-core AVX-512 machine hearken is measured on, the demo call
    /// took 10–20% more CPU with them (q8_0 and f16 alike), since tiny.en's
    /// attention matrices are small enough to stay in cache anyway.
    pub flash_attn: bool,
}

impl Default for TranscribeConfig {
    fn default() -> Self {
        TranscribeConfig {
            language: "en".into(),
            threads: 1,
            workers: 2,
            window_s: 15.0,
            pad_s: 0.2,
            gap_s: 0.5,
            temperature_inc: 0.2,
            fit_encoder: true,
            flash_attn: false,
        }
    }
}

/// Why transcription failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranscribeError {
    /// No model file where one was expected.
    #[error("no Whisper model at {path}: {fix}")]
    MissingModel {
        /// Where it was looked for.
        path: PathBuf,
        /// The command that fixes it.
        fix: String,
    },
    /// The model file is damaged or not a Whisper ggml file.
    #[error("{0}; {fix}", fix = FIX)]
    BadModel(#[from] crate::model::ModelError),
    /// whisper.cpp refused to load or run.
    #[error("whisper: {0}")]
    Engine(String),
    /// The transcriber has stopped.
    #[error("the transcription workers stopped")]
    Stopped,
    /// This build has no Whisper.
    #[error("this hearken was built without the `transcribe` feature; use --no-transcribe")]
    NotBuilt,
}

/// The command that installs the default model.
pub const FIX: &str = "run `scripts/fetch-model.sh` (or `make model`) to install tiny.en, give --model PATH, or pass --no-transcribe";

/// The file name of the default model in `models/`.
pub const DEFAULT_MODEL: &str = "ggml-tiny.en-iq4_nl.bin";

/// Where hearken looks for the default model, in order: `HEARKEN_MODEL`,
/// `./models/`, and `models/` beside the checkout the binary was built in.
pub fn default_model_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(p) = std::env::var("HEARKEN_MODEL")
        && !p.is_empty()
    {
        v.push(PathBuf::from(p));
        return v;
    }
    v.push(PathBuf::from("models").join(DEFAULT_MODEL));
    v.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(DEFAULT_MODEL),
    );
    v
}

/// Resolves the model to use: `explicit` if given, else the first default
/// candidate that exists. Checks the file (whisper.cpp aborts the whole
/// process on some damaged files, so nothing reaches it unchecked).
pub fn resolve_model(
    explicit: Option<&Path>,
) -> Result<(PathBuf, crate::model::GgmlInfo), TranscribeError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let candidates = default_model_candidates();
            candidates
                .iter()
                .find(|p| p.exists())
                .cloned()
                .unwrap_or_else(|| candidates[0].clone())
        }
    };
    if !path.exists() {
        return Err(TranscribeError::MissingModel {
            path,
            fix: FIX.into(),
        });
    }
    let info = crate::model::inspect(&path)?;
    Ok((path, info))
}

/// A recogniser: produces one worker per thread of the pool.
pub trait Engine: Send + Sync {
    /// A new worker with its own state.
    fn worker(&self) -> Result<Box<dyn EngineWorker>, TranscribeError>;
}

/// One worker's recogniser state.
pub trait EngineWorker: Send {
    /// Transcribes 16 kHz mono audio (at most 30 s); token times are in
    /// samples from the start of `audio`.
    fn run(&mut self, audio: &[f32]) -> Result<Vec<Token>, TranscribeError>;
}

/// A window to transcribe and where to send its tokens.
pub struct Job {
    /// 16 kHz samples.
    pub audio: Vec<f32>,
    /// Receives the tokens (or the error).
    pub reply: Sender<Result<Vec<Token>, TranscribeError>>,
}

/// A pool of recogniser workers sharing one model.
///
/// The job queue is bounded by the number of workers: a call that produces
/// windows faster than Whisper reads them waits, so the whole pipeline runs
/// at the recogniser's pace and memory stays bounded.
pub struct Transcriber {
    tx: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Transcriber {
    /// Starts `workers` workers (their states are created before this
    /// returns, so a model that cannot run fails here, once).
    pub fn start(engine: Arc<dyn Engine>, workers: usize) -> Result<Transcriber, TranscribeError> {
        let workers = workers.max(1);
        let (tx, rx): (Sender<Job>, Receiver<Job>) = bounded(workers);
        let mut threads = Vec::new();
        for _ in 0..workers {
            let mut worker = engine.worker()?;
            let rx = rx.clone();
            threads.push(std::thread::spawn(move || {
                for job in rx.iter() {
                    let result = worker.run(&job.audio);
                    let _ = job.reply.send(result);
                }
            }));
        }
        Ok(Transcriber {
            tx: Some(tx),
            threads,
        })
    }

    /// A handle to submit jobs with.
    pub fn handle(&self) -> TranscriberHandle {
        TranscriberHandle {
            tx: self.tx.clone(),
        }
    }
}

impl Drop for Transcriber {
    fn drop(&mut self) {
        self.tx = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Submits jobs to a [`Transcriber`].
#[derive(Clone, Debug)]
pub struct TranscriberHandle {
    tx: Option<Sender<Job>>,
}

impl TranscriberHandle {
    /// Queues a job; blocks while the queue is full.
    pub fn submit(&self, job: Job) -> Result<(), TranscribeError> {
        self.tx
            .as_ref()
            .ok_or(TranscribeError::Stopped)?
            .send(job)
            .map_err(|_| TranscribeError::Stopped)
    }
}

/// A scripted recogniser for tests: returns the given tokens for every
/// window (times relative to the window).
pub struct FakeEngine {
    /// What every window "says".
    pub tokens: Vec<Token>,
}

impl Engine for FakeEngine {
    fn worker(&self) -> Result<Box<dyn EngineWorker>, TranscribeError> {
        Ok(Box::new(FakeWorker(self.tokens.clone())))
    }
}

struct FakeWorker(Vec<Token>);

impl EngineWorker for FakeWorker {
    fn run(&mut self, audio: &[f32]) -> Result<Vec<Token>, TranscribeError> {
        let len = crate::time::Time(audio.len() as i64);
        Ok(self.0.iter().filter(|t| t.start < len).cloned().collect())
    }
}

/// Loads the Whisper engine for `model` (with the `transcribe` feature).
pub fn whisper_engine(
    model: &Path,
    info: &crate::model::GgmlInfo,
    cfg: &TranscribeConfig,
) -> Result<Arc<dyn Engine>, TranscribeError> {
    #[cfg(feature = "transcribe")]
    {
        Ok(Arc::new(whisper::WhisperEngine::load(model, info, cfg)?))
    }
    #[cfg(not(feature = "transcribe"))]
    {
        let _ = (model, info, cfg);
        Err(TranscribeError::NotBuilt)
    }
}
