//! `hearken live`: the talk-ratio meter of a call in progress.
//!
//! The meter is not a second analyser: the audio of a sound card (or of a
//! recording replayed at the pace of a sound card) goes through the very
//! pipeline `hearken analyze` runs — the same resampler filter, feature
//! extractor, voice detector and conversation metrics — and the meter is one
//! more *tap* on it. When the call ends, the report is made by
//! [`crate::batch::analyze_source`], the path `analyze` itself takes, so the
//! figures at the end are those of `hearken analyze` on the same audio.
//!
//! ```text
//!  sound card ──cpal callback──▶ rtrb ring ──▶ RingSource ┐   (capture.rs, ring.rs)
//!  (or: file ──▶ ReplaySource, paced at --speed) ─────────┤   (replay.rs)
//!                                                         ▼
//!   pipeline::run:  decode ─▶ resample ─▶ features ─▶ detect ──▶ segments
//!                  (10 ms blocks, FFT resampler one block at a time)
//!                                                         │ taps, each on its own thread
//!            ┌───────────────────┬────────────────────────┼──────────────────┐
//!            ▼                   ▼                        ▼                  ▼
//!      AnnotateTap        TranscribeTap (opt.)     LiveTap (tap.rs)    RecordTap (record.rs)
//!      (final report)     (final report)           Meter (meter.rs)    WAV, --record
//!                                                   │        │
//!                                  Mutex<Snapshot> ◀┘        └▶ events channel ─▶ writer thread
//!                                         │                         (events.rs, --events)
//!                        UI thread, 10×/s ▼
//!                    ratatui meter (ui.rs) or a status line (status.rs)
//!
//!  end of call (Ctrl-C, q, --duration, end of file):
//!      batch::analyze_source ─▶ Report ─▶ <out>/<stem>.json, .rttm, ... (as `analyze`)
//! ```
//!
//! # Real-time rules
//!
//! * The sound card's callback ([`ring::RingWriter::push`]) only converts
//!   samples to `f32` and copies them into a single-producer ring buffer
//!   allocated before the stream starts. No allocation, no lock, no logging,
//!   no I/O; what does not fit is dropped and counted (an *overrun*), with
//!   an atomic add. Device errors are reported through atomics too.
//! * Everything else runs on ordinary threads that may block: the pipeline
//!   stages, the taps, the event writer, the recorder (`--record` writes its
//!   WAV from the recorder tap's thread, never from the callback), the UI.
//!   The ring holds two seconds, so a hiccup of the analysis costs nothing;
//!   a longer stall costs overruns, which are counted, shown on the meter and
//!   replaced by silence of the same length so the timeline stays true.
//! * A device that disappears is reported on the meter and in the events,
//!   and reopened every second; meanwhile its channel is filled with
//!   silence at the pace of the clock, so what was captured is kept and
//!   times stay aligned with the wall clock.
//!
//! # Latency
//!
//! *Latency* is the time from a speech onset or offset in the audio to the
//! moment the meter emits the matching `speech_start` / `speech_end` event:
//! `emitted − reference`, where `reference` is the onset or offset of a
//! reference annotation (RTTM) and `emitted` is the *stream time* at which
//! the event leaves the meter: the wall time elapsed since the stream
//! started, times the replay speed (at `--speed 1`, and for a sound card,
//! it is plain wall time). Events carry both their own estimate of the
//! boundary (`t`) and `emitted`; each reference boundary is matched to the
//! event of the same speaker and kind whose `t` is nearest, within 0.5 s,
//! one to one. Unmatched reference boundaries are misses, unmatched events
//! false alarms. `examples/live_latency.rs` replays calls with known
//! references and reports the median, 95th percentile, misses and false
//! alarms (docs/live.md has the figures).
//!
//! What the latency is made of: the source's block (10 ms), the resampler's
//! FFT block and half-block delay (none at 16 kHz, at most 8 ms at 48 kHz,
//! 48 ms at 8 kHz), the feature window's look-ahead (11 ms), the detector's decision
//! (the score must cross the hysteresis threshold), and thread hand-offs.
//! Onsets and offsets come from the detector's running decision
//! ([`crate::pipeline::Tap::activity`]), not from finished segments, which
//! are held back until a pause is long enough to end them.

pub mod clock;
pub mod events;
pub mod meter;
pub mod record;
pub mod replay;
pub mod ring;
pub mod session;
pub mod status;
pub mod tap;

#[cfg(feature = "live")]
pub mod capture;
#[cfg(feature = "live")]
pub mod ui;

use serde::{Deserialize, Serialize};

/// Thresholds of the live meter's alerts and its rhythm: the `[live]`
/// table of the config file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveConfig {
    /// The recent window the meter shows beside the whole call, s.
    pub recent_window_s: f64,
    /// Alert when the agent's share of speech over the recent window
    /// exceeds this (0..1): active-listening guidance wants the customer to
    /// have the larger part.
    pub agent_share_max: f64,
    /// ... once the recent window holds at least this much speech, s (the
    /// first sentences of a call say nothing about the balance).
    pub share_min_speech_s: f64,
    /// Alert when one turn of the agent lasts longer than this, s.
    pub monologue_max_s: f64,
    /// Alert when nobody has spoken for this long, s (dead air; the
    /// `long_silence_s` of the conversation metrics).
    pub dead_air_s: f64,
    /// How long the "agent interrupted" alert stays on, s.
    pub interruption_alert_s: f64,
    /// A pause must last this long before `speech_end` is emitted, s (its
    /// `t` is still the start of the pause): shorter pauses, between
    /// syllables and words, would make the events chatter. This adds to the
    /// latency of offsets.
    pub speech_end_hold_s: f64,
    /// A `snapshot` event every this many seconds (0: none).
    pub snapshot_interval_s: f64,
    /// The figures of the whole call and the window are recomputed this
    /// often, s (the speaking-now state and the silence timer follow every
    /// 10 ms frame).
    pub update_interval_s: f64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            recent_window_s: 120.0,
            agent_share_max: 0.6,
            share_min_speech_s: 20.0,
            monologue_max_s: 60.0,
            dead_air_s: 5.0,
            interruption_alert_s: 3.0,
            speech_end_hold_s: 0.05,
            snapshot_interval_s: 5.0,
            update_interval_s: 0.25,
        }
    }
}

impl LiveConfig {
    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), LiveError> {
        let positive = [
            ("recent_window_s", self.recent_window_s),
            ("monologue_max_s", self.monologue_max_s),
            ("dead_air_s", self.dead_air_s),
            ("update_interval_s", self.update_interval_s),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(LiveError::Config(format!(
                    "live.{name} = {v}: must be a positive number of seconds"
                )));
            }
        }
        let non_negative = [
            ("share_min_speech_s", self.share_min_speech_s),
            ("interruption_alert_s", self.interruption_alert_s),
            ("speech_end_hold_s", self.speech_end_hold_s),
            ("snapshot_interval_s", self.snapshot_interval_s),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(LiveError::Config(format!(
                    "live.{name} = {v}: must be zero or more seconds"
                )));
            }
        }
        if !(0.0..=1.0).contains(&self.agent_share_max) {
            return Err(LiveError::Config(format!(
                "live.agent_share_max = {}: must be between 0 and 1",
                self.agent_share_max
            )));
        }
        Ok(())
    }
}

/// Why a live session could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// A `[live]` setting is out of range.
    #[error("invalid config: {0}")]
    Config(String),
    /// The sound card could not be opened or listed.
    #[error("{0}")]
    Device(String),
    /// The recording to replay cannot be read.
    #[error("{path}: {source}")]
    Input {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: crate::audio::AudioError,
    },
    /// An output (events, recording, report) cannot be written.
    #[error("{0}")]
    Output(String),
    /// The analysis failed.
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_the_key() {
        LiveConfig::default().validate().unwrap();
        let bad = LiveConfig {
            agent_share_max: 1.5,
            ..LiveConfig::default()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("agent_share_max"), "{e}");
        let bad = LiveConfig {
            dead_air_s: 0.0,
            ..LiveConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("dead_air_s")
        );
    }
}
