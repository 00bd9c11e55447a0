//! All thresholds in one place: the TOML file given with `--config`.
//!
//! Each table mirrors one stage: `[vad]` ([`VadConfig`]), `[conversation]`
//! ([`ConversationConfig`]), `[transcribe]` ([`TranscribeConfig`]), `[live]`
//! ([`LiveConfig`]), `[diarize]` ([`DiarizeConfig`]). Omitted keys keep their
//! defaults; unknown keys
//! are an error (a misspelt threshold must not be silently ignored).
//! `config/default.toml` lists every key with its default and where the
//! default comes from; a test keeps it in step with the code.

use crate::annotate::AnnotateConfig;
use crate::annotate::call::ScorecardConfig;
use crate::conversation::ConversationConfig;
use crate::diarize::DiarizeConfig;
use crate::live::LiveConfig;
use crate::transcribe::TranscribeConfig;
use crate::vad::VadConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Voice activity detection.
    pub vad: VadConfig,
    /// Conversation metrics.
    pub conversation: ConversationConfig,
    /// Transcription.
    pub transcribe: TranscribeConfig,
    /// Tone, pace and language annotations.
    pub annotate: AnnotateConfig,
    /// Targets of the agent's active-listening scorecard.
    pub scorecard: ScorecardConfig,
    /// Alerts of the live meter (`hearken live`).
    pub live: LiveConfig,
    /// Speaker diarization of mono calls.
    pub diarize: DiarizeConfig,
}

/// Why a config file was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is invalid or has unknown keys.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, on one line.
        message: String,
    },
}

impl Config {
    /// Reads a TOML config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses TOML text; the error is a one-line message.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.message().replace('\n', " "))
    }

    /// The defaults as TOML.
    pub fn default_toml() -> String {
        toml::to_string(&Config::default()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_keep_defaults() {
        let c = Config::parse("[conversation]\nsilence_min_s = 3.0\n").unwrap();
        assert_eq!(c.conversation.silence_min_s, 3.0);
        assert_eq!(c.vad, VadConfig::default());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = Config::parse("[vad]\nonsett = 0.3\n").unwrap_err();
        assert!(e.contains("onsett"), "{e}");
    }

    #[test]
    fn shipped_default_file_matches_the_code() {
        let text = include_str!("../config/default.toml");
        assert_eq!(Config::parse(text).unwrap(), Config::default());
    }
}
