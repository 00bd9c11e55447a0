//! hearken turns call audio into evidence about how people listen to each
//! other: who spoke when, talk share, interruptions, silences, and (with the
//! `transcribe` feature) what was said.
//!
//! A tour, in the order data flows:
//!
//! * [`audio`] opens recordings (WAV, G.711, MP3, FLAC), picks the speaker
//!   channels and resamples them to 16 kHz;
//! * [`dsp`] turns each channel into 10 ms [`dsp::features::FrameFeatures`];
//! * [`vad`] decides, per channel and frame, whether its speaker speaks —
//!   discounting echo of the other channel;
//! * [`diarize`] splits the speech of a mono call between its speakers
//!   (voice clustering, resegmentation, overlapped speech);
//! * [`timeline`] holds speech as sets of intervals, and [`conversation`]
//!   derives the metrics (talk share, interruptions, silences, turns);
//! * [`annotate`] measures each utterance: pitch (YIN), loudness, pace and
//!   pauses, and the language markers of active listening (questions,
//!   empathy, paraphrase, fillers…) from a replaceable lexicon;
//! * [`report`] is the per-call JSON contract; [`formats`] reads and writes
//!   RTTM, UEM and STM; [`eval`] scores against references;
//! * [`pipeline`] wires the stages on threads; [`batch`] runs many calls;
//!   [`live`] runs one call as it happens, with a talk-ratio meter.
//!
//! Time is an integer count of 16 kHz samples everywhere inside
//! ([`time::Time`]); seconds appear only at the edges.
//!
//! ```
//! use hearken::timeline::{Annotation, Span, Timeline};
//! use hearken::conversation::{analyze, ConversationConfig};
//! use hearken::time::Time;
//!
//! let mut speech = Annotation::new();
//! speech.insert("agent", Timeline::from_spans([Span::from_secs(0.0, 4.0)]));
//! speech.insert("customer", Timeline::from_spans([Span::from_secs(3.5, 9.0)]));
//! let conv = analyze(&speech, Time::from_secs(12.0), &ConversationConfig::default());
//! assert_eq!(conv.interruptions().count(), 1);
//! assert_eq!(conv.silences.total(), Time::from_secs(3.0));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod annotate;
pub mod audio;
pub mod batch;
pub mod config;
pub mod conversation;
pub mod diarize;
pub mod dsp;
pub mod eval;
pub mod formats;
pub mod live;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod time;
pub mod timeline;
pub mod transcribe;
pub mod vad;
