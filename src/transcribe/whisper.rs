//! Whisper through whisper-rs: the [`Engine`] behind `--transcribe`.
//!
//! One `WhisperContext` (the weights, read-only, shared by reference
//! counting) and one `WhisperState` per window (the mutable decoding state).
//! Each window is decoded greedily with token timestamps; nothing carries
//! over from one window to the next, since consecutive windows of a worker
//! come from different speakers and calls, in an order that depends on
//! thread timing.
//!
//! Why a fresh state per window rather than one per worker: whisper.cpp
//! (1.8.3, the version whisper-rs 0.16 builds) seeds the random generator of
//! its first decoder once, when the state is created, and never again
//! (ggml-org/whisper.cpp#4025). The generator is only read when a window
//! falls back to sampling at a higher temperature, which noisy telephone
//! windows do, and then a reused state makes a window's text depend on how
//! many fallbacks that state served before: the same call gave different
//! transcripts in different batches, and the same window decoded four times
//! in one state gave four texts. A state costs 10–20 ms to create, a few
//! percent of a window's decoding.

use super::words::Token;
use super::{Engine, EngineWorker, TranscribeConfig, TranscribeError};
use crate::model::GgmlInfo;
use crate::time::Time;
use std::path::Path;
use std::sync::Arc;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

/// A loaded Whisper model.
pub struct WhisperEngine {
    ctx: Arc<WhisperContext>,
    language: Option<String>,
    threads: i32,
    temperature_inc: f32,
    fit_encoder: bool,
    eot: i32,
}

fn engine_err(e: impl std::fmt::Display) -> TranscribeError {
    TranscribeError::Engine(e.to_string())
}

impl WhisperEngine {
    /// Loads `model` (already checked by [`crate::model::inspect`]).
    pub fn load(
        model: &Path,
        info: &GgmlInfo,
        cfg: &TranscribeConfig,
    ) -> Result<WhisperEngine, TranscribeError> {
        // whisper.cpp and ggml log to stderr by default; hearken prints its
        // own one-line messages.
        whisper_rs::install_logging_hooks();
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        params.flash_attn(cfg.flash_attn);
        let ctx = WhisperContext::new_with_params(model, params).map_err(engine_err)?;
        let language = match cfg.language.as_str() {
            "auto" if info.multilingual => None,
            // An English-only model only knows English.
            _ if !info.multilingual => Some("en".to_string()),
            l => Some(l.to_string()),
        };
        let eot = ctx.token_eot();
        Ok(WhisperEngine {
            ctx: Arc::new(ctx),
            language,
            threads: cfg.threads.max(1) as i32,
            temperature_inc: cfg.temperature_inc,
            fit_encoder: cfg.fit_encoder,
            eot,
        })
    }
}

impl Engine for WhisperEngine {
    fn worker(&self) -> Result<Box<dyn EngineWorker>, TranscribeError> {
        // A state now, so that a model that cannot run fails here, once,
        // rather than on every window.
        let state = self.ctx.create_state().map_err(engine_err)?;
        Ok(Box::new(WhisperWorker {
            ctx: Arc::clone(&self.ctx),
            state: Some(state),
            language: self.language.clone(),
            threads: self.threads,
            temperature_inc: self.temperature_inc,
            fit_encoder: self.fit_encoder,
            eot: self.eot,
        }))
    }
}

struct WhisperWorker {
    ctx: Arc<WhisperContext>,
    /// The state for the next window (taken by it, see the module docs).
    state: Option<WhisperState>,
    language: Option<String>,
    threads: i32,
    temperature_inc: f32,
    fit_encoder: bool,
    eot: i32,
}

impl EngineWorker for WhisperWorker {
    fn run(&mut self, audio: &[f32]) -> Result<Vec<Token>, TranscribeError> {
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(self.threads);
        p.set_language(self.language.as_deref());
        p.set_no_context(true);
        p.set_token_timestamps(true);
        p.set_temperature_inc(self.temperature_inc);
        if self.fit_encoder {
            p.set_audio_ctx(encoder_positions(audio.len()));
        }
        p.set_max_tokens(token_budget(audio.len()));
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_special(false);
        p.set_print_timestamps(false);
        let mut state = match self.state.take() {
            Some(state) => state,
            None => self.ctx.create_state().map_err(engine_err)?,
        };
        state.full(p, audio).map_err(engine_err)?;
        let mut tokens = Vec::new();
        for (n, seg) in state.as_iter().enumerate() {
            for i in 0..seg.n_tokens() {
                let Some(tok) = seg.get_token(i) else {
                    continue;
                };
                let data = tok.token_data();
                // Special tokens (timestamps, end of text, ...) sit at and
                // above the end-of-text id.
                if data.id >= self.eot {
                    continue;
                }
                let text = tok.to_str_lossy().map_err(engine_err)?.into_owned();
                // Times are in 10 ms ticks from the window's start.
                tokens.push(Token {
                    text,
                    start: Time::from_frames(data.t0.max(0)),
                    end: Time::from_frames(data.t1.max(data.t0).max(0)),
                    p: data.p,
                    segment: u32::try_from(n).unwrap_or(u32::MAX),
                });
            }
        }
        Ok(tokens)
    }
}

/// Most tokens one decoding pass over `samples` of 16 kHz audio may
/// produce: 10 a second (fast speech is about 7, counting punctuation and
/// timestamp tokens) plus 16.
///
/// Why: on a short window that Whisper cannot make sense of, it can repeat
/// one word until the decoder's context is full (about 220 tokens), then
/// fall back to a higher temperature and do it again, up to six times: a
/// one-second window took 3.2 s of CPU, more than a full 30 s window. With
/// the budget, each failing pass stops at a length the audio could hold.
/// whisper.cpp's `max_tokens` counts the tokens of a pass (its comment says
/// "per segment", but the counter is the pass's); a 29 s window's budget,
/// 306, is above the context limit, so long windows are unaffected.
fn token_budget(samples: usize) -> i32 {
    (samples.div_ceil(16_000) * 10 + 16).min(i32::MAX as usize) as i32
}

/// The encoder context for `samples` of 16 kHz audio: Whisper's encoder has
/// one position per 20 ms (320 samples) of its 30 s input, 1500 in all.
/// One second of margin, rounded up to a multiple of 64 so that windows of
/// nearly the same length share a graph size.
fn encoder_positions(samples: usize) -> i32 {
    const FULL: usize = 1500;
    let used = samples.div_ceil(320) + 50;
    (used.div_ceil(64) * 64).min(FULL) as i32
}

#[cfg(test)]
mod tests {
    use super::{encoder_positions, token_budget};

    #[test]
    fn token_budget_grows_with_the_window() {
        assert_eq!(token_budget(0), 16);
        assert_eq!(token_budget(16_000), 26);
        assert_eq!(token_budget(29 * 16_000), 306);
    }

    #[test]
    fn encoder_context_covers_the_window_and_caps_at_thirty_seconds() {
        assert_eq!(encoder_positions(0), 64);
        // 17 s: 850 positions + 50 → 960.
        assert_eq!(encoder_positions(17 * 16_000), 960);
        assert_eq!(encoder_positions(29 * 16_000), 1500);
        assert_eq!(encoder_positions(30 * 16_000), 1500);
    }
}
