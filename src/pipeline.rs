//! The threaded wiring of one call's analysis.
//!
//! ```text
//!  decode ──blocks──▶ resample ──16 kHz──▶ features(ch 0) ──frames──▶ ┐
//!                                 └──────▶ features(ch 1) ──frames──▶ detect ──▶ segments
//!                                 └──────▶ (taps: transcription, annotation, live meter)
//! ```
//!
//! Each stage runs on its own thread inside a `std::thread::scope`, connected
//! by bounded crossbeam channels: a slow stage back-pressures the ones before
//! it, so memory stays constant whatever the length of the call (the decode
//! stage can never run more than a few blocks ahead). Buffers travel down the
//! pipe and come back through return channels ([`Pool`]), so steady state
//! allocates nothing per block. The end of the stream is the senders being
//! dropped; an error or a cancellation in any stage drops its senders too, so
//! the others drain and stop, and the first error is reported.
//!
//! Later stages plug in as *taps*: a [`Tap`] receives the 16 kHz audio of
//! every speaker and every finished speech segment, in order, on its own
//! thread. Transcription and annotation are taps; so is the live meter. A
//! tap that does little per frame and keeps pace with the detector can ask
//! to run *inline* ([`Tap::inline`]), on the detector's thread: the feature
//! stages then pass the audio blocks on with their frames, and the tap is
//! called directly, with no thread and no messages of its own. (The
//! annotation tap does; as a thread of its own, on two cores running two
//! calls, its scheduling cost as much again as its work.)

use crate::audio::resample::ResampleError;
use crate::audio::{self, AudioError, AudioSource, ChannelResampler, SourceInfo, Speaker};
use crate::dsp::features::{FeatureExtractor, FrameFeatures};
use crate::time::Time;
use crate::timeline::Annotation;
use crate::vad::{Detector, Segment, VadConfig};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Source frames read per block (a live source sets its own, see
/// [`AudioSource::live_block_frames`]).
pub const BLOCK_FRAMES: usize = 4096;
/// Depth of every channel between stages.
const DEPTH: usize = 4;

/// Why a call could not be analysed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The recording could not be read.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// Resampling failed.
    #[error(transparent)]
    Resample(#[from] ResampleError),
    /// Ctrl-C or another stop request.
    #[error("cancelled")]
    Cancelled,
    /// A tap failed.
    #[error("{0}")]
    Tap(String),
    /// A stage thread panicked (a bug).
    #[error("internal error: a pipeline stage stopped unexpectedly ({0})")]
    Internal(&'static str),
}

/// Recycled buffers: a bounded channel of spare values.
#[derive(Clone)]
pub struct Pool<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
}

impl<T> Pool<T> {
    /// A pool keeping at most `capacity` spares.
    pub fn new(capacity: usize) -> Pool<T> {
        let (tx, rx) = bounded(capacity);
        Pool { tx, rx }
    }

    /// A spare value, or a fresh one from `make`.
    pub fn take(&self, make: impl FnOnce() -> T) -> T {
        self.rx.try_recv().unwrap_or_else(|_| make())
    }

    /// Returns a value for reuse (dropped if the pool is full).
    pub fn give(&self, v: T) {
        let _ = self.tx.try_send(v);
    }
}

/// A block of 16 kHz samples shared by the stages that read it (the
/// feature stage and the taps). Whichever lets go of it last, its buffer
/// goes back to the resampler's pool: a tap may keep blocks for a while
/// (the annotation tap holds each until the detector has scored its
/// frames), and without the pool every block would be fresh memory, a
/// page fault every 4 kB.
pub struct SharedSamples {
    samples: Vec<f32>,
    pool: Option<Pool<Vec<f32>>>,
}

impl SharedSamples {
    /// Samples that go back to `pool` when dropped.
    pub fn pooled(samples: Vec<f32>, pool: Pool<Vec<f32>>) -> SharedSamples {
        SharedSamples {
            samples,
            pool: Some(pool),
        }
    }

    /// Samples that are simply freed when dropped.
    pub fn new(samples: Vec<f32>) -> SharedSamples {
        SharedSamples {
            samples,
            pool: None,
        }
    }
}

impl std::ops::Deref for SharedSamples {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.samples
    }
}

impl Drop for SharedSamples {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.give(std::mem::take(&mut self.samples));
        }
    }
}

/// A consumer of the pipeline's audio and segments, run on its own thread
/// (or on the detector's, see [`Tap::inline`]).
///
/// Calls arrive in stream order: `audio` blocks for each speaker in time
/// order, `segment` as soon as the detector has finished a segment (a few
/// hundred ms after its end), then `finish` once. A tap that falls behind
/// slows the pipeline down; it never makes memory grow.
pub trait Tap: Send {
    /// 16 kHz samples of speaker `channel` starting at `start`.
    fn audio(&mut self, channel: usize, start: Time, samples: &[f32]) -> Result<(), String>;
    /// The same block as the pipeline shares it: a tap that keeps audio for
    /// a while holds on to the block instead of copying it. By default,
    /// [`Tap::audio`].
    fn shared_audio(
        &mut self,
        channel: usize,
        start: Time,
        samples: &Arc<SharedSamples>,
    ) -> Result<(), String> {
        self.audio(channel, start, samples)
    }
    /// A finished speech segment.
    fn segment(&mut self, segment: &Segment) -> Result<(), String>;
    /// Frame features of every speaker, row-major: `rows.len()` is a
    /// multiple of the number of speakers, and `rows[i * n + c]` is frame
    /// `rows[i * n].index` of speaker `c`; `scores[i * n + c]` is the voice
    /// detector's raw speech score (0..1) for it. Segments may arrive before
    /// the audio they cover (the stages run concurrently): a tap that needs
    /// both must wait for the audio.
    fn frames(&mut self, _rows: &[FrameFeatures], _scores: &[f32]) -> Result<(), String> {
        Ok(())
    }
    /// The detector's running decision for the frames just given to
    /// [`Tap::frames`], same layout: whether each speaker is speaking now
    /// (the hysteresis state after the frame, lagging it by the detector's
    /// lookahead; no padding, minimum durations or voicing check yet). This
    /// is what a live display shows within a frame or two; the final word
    /// is the segments.
    fn activity(&mut self, _active: &[bool]) -> Result<(), String> {
        Ok(())
    }
    /// No segment of `channel` not yet delivered will start before `t`:
    /// audio older than that can be dropped.
    fn watermark(&mut self, _channel: usize, _t: Time) -> Result<(), String> {
        Ok(())
    }
    /// The end of the call (its duration).
    fn finish(&mut self, duration: Time) -> Result<(), String>;
    /// Whether to run on the detector's thread rather than a thread of its
    /// own (default: no). Only for taps whose work per frame is small
    /// against the detector's: an inline tap that is slow slows the
    /// detector, and with it every other tap. The calls are the same, in
    /// the same order for each speaker; the audio of a block arrives with
    /// the frames of that block, just before them.
    fn inline(&self) -> bool {
        false
    }
}

/// What flows to a tap.
enum TapMsg {
    /// Shared with the feature stage: one copy of the audio, not one per tap.
    Audio(usize, Time, Arc<SharedSamples>),
    Segment(Segment),
    Frames(Vec<FrameFeatures>, Vec<f32>, Vec<bool>),
    Watermark(usize, Time),
}

/// One channel's frames of one block, from the feature stage to the
/// detector, and the block itself when inline taps need it.
struct FrameBatch {
    frames: Vec<FrameFeatures>,
    audio: Option<(Time, Arc<SharedSamples>)>,
}

/// The result of running the pipeline over one call.
#[derive(Debug)]
pub struct Detection {
    /// Format, rate, channels of the recording.
    pub info: SourceInfo,
    /// The analysed speakers.
    pub speakers: Vec<Speaker>,
    /// Speech per speaker id.
    pub speech: Annotation,
    /// Duration at the analysis rate.
    pub duration: Time,
    /// Problems that did not stop the analysis.
    pub warnings: Vec<String>,
}

/// Shared flags of a run.
pub struct Control<'a> {
    /// Set to stop every stage as soon as possible.
    pub cancel: &'a AtomicBool,
    /// Source frames decoded so far (for progress bars).
    pub progress: &'a AtomicU64,
}

/// Opens `path` and runs the detection pipeline on it; `make_taps` builds
/// the taps once the speakers are known.
pub fn run_file<'t>(
    path: &Path,
    speakers_of: impl FnOnce(&SourceInfo) -> Vec<Speaker>,
    vad: &VadConfig,
    make_taps: impl FnOnce(&[Speaker]) -> Vec<Box<dyn Tap + 't>>,
    ctl: &Control<'_>,
) -> Result<Detection, PipelineError> {
    let source = audio::open(path)?;
    let speakers = speakers_of(source.info());
    let taps = make_taps(&speakers);
    run(source, speakers, vad, taps, ctl)
}

/// Runs the detection pipeline on an open source.
pub fn run(
    mut source: Box<dyn AudioSource>,
    speakers: Vec<Speaker>,
    vad: &VadConfig,
    taps: Vec<Box<dyn Tap + '_>>,
    ctl: &Control<'_>,
) -> Result<Detection, PipelineError> {
    let info = source.info().clone();
    let live = source.live_block_frames();
    let block_frames = live.unwrap_or(BLOCK_FRAMES).max(1);
    let nsp = speakers.len();
    let selected: Vec<usize> = speakers.iter().map(|s| s.channel).collect();

    let block_pool: Pool<Vec<Vec<f32>>> = Pool::new(DEPTH * 2);
    let sample_pools: Vec<Pool<Vec<f32>>> = (0..nsp).map(|_| Pool::new(DEPTH * 2)).collect();
    let frame_pool: Pool<Vec<FrameFeatures>> = Pool::new(DEPTH * 2 * nsp.max(1));

    let (block_tx, block_rx) = bounded::<Vec<Vec<f32>>>(DEPTH);
    let mut sample_txs = Vec::new();
    let mut sample_rxs = Vec::new();
    let mut frame_txs = Vec::new();
    let mut frame_rxs = Vec::new();
    for _ in 0..nsp {
        let (t, r) = bounded::<(Time, Arc<SharedSamples>)>(DEPTH);
        sample_txs.push(t);
        sample_rxs.push(r);
        let (t, r) = bounded::<FrameBatch>(DEPTH);
        frame_txs.push(t);
        frame_rxs.push(r);
    }
    let (mut inline_taps, taps): (Vec<_>, Vec<_>) = taps.into_iter().partition(|t| t.inline());
    let tap_channels: Vec<(Sender<TapMsg>, Receiver<TapMsg>)> =
        taps.iter().map(|_| bounded::<TapMsg>(DEPTH * 4)).collect();
    let forward_audio = !inline_taps.is_empty();
    let tap_txs: Vec<Sender<TapMsg>> = tap_channels.iter().map(|(t, _)| t.clone()).collect();

    std::thread::scope(|scope| {
        // Decode: the source, in blocks of the selected channels.
        let decode = scope.spawn({
            let block_pool = block_pool.clone();
            let selected = selected.clone();
            move || -> Result<(u64, Vec<String>), PipelineError> {
                let mut all: Vec<Vec<f32>> = (0..info.channels)
                    .map(|_| Vec::with_capacity(block_frames))
                    .collect();
                let mut total = 0u64;
                loop {
                    if ctl.cancel.load(Ordering::Relaxed) {
                        return Err(PipelineError::Cancelled);
                    }
                    all.iter_mut().for_each(Vec::clear);
                    let n = source.read(&mut all, block_frames)?;
                    if n == 0 {
                        break;
                    }
                    total += n as u64;
                    ctl.progress.fetch_add(n as u64, Ordering::Relaxed);
                    let mut block = block_pool.take(|| {
                        (0..selected.len())
                            .map(|_| Vec::with_capacity(block_frames))
                            .collect()
                    });
                    for (dst, &c) in block.iter_mut().zip(&selected) {
                        dst.clear();
                        dst.extend_from_slice(&all[c]);
                    }
                    if block_tx.send(block).is_err() {
                        break; // downstream stopped; its error is reported
                    }
                }
                Ok((total, source.warnings()))
            }
        });

        // Resample: every speaker channel to 16 kHz.
        let resample = scope.spawn({
            let block_pool = block_pool.clone();
            let sample_pools = sample_pools.clone();
            let tap_txs = tap_txs.clone();
            move || -> Result<u64, PipelineError> {
                // A live source gets the same filter, one FFT block at a
                // time: the same samples, sooner.
                let mut rs: Vec<ChannelResampler> = (0..nsp)
                    .map(|_| match live {
                        Some(_) => ChannelResampler::low_latency(info.sample_rate),
                        None => ChannelResampler::new(info.sample_rate),
                    })
                    .collect::<Result<_, _>>()?;
                let mut pos = vec![0i64; nsp];
                let send = |c: usize, out: Vec<f32>, pos: &mut [i64]| -> bool {
                    let start = Time(pos[c]);
                    pos[c] += out.len() as i64;
                    let out = Arc::new(SharedSamples::pooled(out, sample_pools[c].clone()));
                    for t in &tap_txs {
                        let _ = t.send(TapMsg::Audio(c, start, Arc::clone(&out)));
                    }
                    sample_txs[c].send((start, out)).is_ok()
                };
                for block in block_rx.iter() {
                    for c in 0..nsp {
                        let mut out = sample_pools[c].take(|| Vec::with_capacity(block_frames * 2));
                        out.clear();
                        rs[c].process(&block[c], &mut out)?;
                        if !send(c, out, &mut pos) {
                            return Ok(0);
                        }
                    }
                    block_pool.give(block);
                }
                for (c, r) in rs.iter_mut().enumerate() {
                    let mut out = Vec::new();
                    r.finish(&mut out)?;
                    if !out.is_empty() && !send(c, out, &mut pos) {
                        return Ok(0);
                    }
                }
                Ok(pos.first().copied().unwrap_or(0) as u64)
            }
        });

        // Features: one thread per speaker channel.
        let mut feature_threads = Vec::new();
        for (rx, tx) in sample_rxs.into_iter().zip(frame_txs) {
            let frame_pool = frame_pool.clone();
            feature_threads.push(scope.spawn(move || {
                let mut fx = FeatureExtractor::new();
                for (start, samples) in rx.iter() {
                    let mut frames = frame_pool.take(Vec::new);
                    frames.clear();
                    fx.push(&samples, &mut frames);
                    // Dropped here, the block goes back to the pool unless
                    // a tap holds it.
                    let audio = forward_audio.then_some((start, samples));
                    if (!frames.is_empty() || audio.is_some())
                        && tx.send(FrameBatch { frames, audio }).is_err()
                    {
                        return;
                    }
                }
                let mut frames = Vec::new();
                fx.finish(&mut frames);
                let _ = tx.send(FrameBatch {
                    frames,
                    audio: None,
                });
            }));
        }

        // Taps: each on its own thread.
        let mut tap_threads = Vec::new();
        for (mut tap, (_, rx)) in taps.into_iter().zip(tap_channels) {
            tap_threads.push(scope.spawn(move || -> Result<Box<dyn Tap + '_>, String> {
                for msg in rx.iter() {
                    match msg {
                        TapMsg::Audio(c, start, s) => {
                            tap.shared_audio(c, start, &s)?;
                        }
                        TapMsg::Segment(seg) => tap.segment(&seg)?,
                        TapMsg::Frames(f, scores, active) => {
                            tap.frames(&f, &scores)?;
                            tap.activity(&active)?;
                        }
                        TapMsg::Watermark(c, t) => tap.watermark(c, t)?,
                    }
                }
                Ok(tap)
            }));
        }

        // Detect: frames of all channels in lockstep.
        let detect = scope.spawn({
            let frame_pool = frame_pool.clone();
            let tap_txs = tap_txs.clone();
            move || {
                let mut det = Detector::new(nsp, vad);
                // The first error of an inline tap stops all of them (as a
                // threaded tap's error stops that tap).
                let mut inline_error: Option<String> = None;
                let mut inline = |f: &mut dyn FnMut(&mut dyn Tap) -> Result<(), String>| {
                    if inline_error.is_none() {
                        for t in inline_taps.iter_mut() {
                            if let Err(e) = f(t.as_mut()) {
                                inline_error = Some(e);
                                break;
                            }
                        }
                    }
                };
                let mut queues: Vec<std::collections::VecDeque<FrameFeatures>> =
                    vec![Default::default(); nsp];
                let mut open = vec![true; nsp];
                let mut segments = Vec::new();
                let mut fresh = Vec::new();
                let mut row = Vec::with_capacity(nsp);
                let mut tap_rows: Vec<FrameFeatures> = Vec::new();
                let mut tap_scores: Vec<f32> = Vec::new();
                let mut tap_active: Vec<bool> = Vec::new();
                let mut frames = 0i64;
                loop {
                    for c in 0..nsp {
                        while open[c] && queues[c].is_empty() {
                            match frame_rxs[c].recv() {
                                Ok(FrameBatch { frames, audio }) => {
                                    if let Some((start, a)) = audio {
                                        inline(&mut |t| t.shared_audio(c, start, &a));
                                    }
                                    queues[c].extend(frames.iter().copied());
                                    frame_pool.give(frames);
                                }
                                Err(_) => open[c] = false,
                            }
                        }
                    }
                    if queues.iter().any(|q| q.is_empty()) {
                        break;
                    }
                    fresh.clear();
                    while queues.iter().all(|q| !q.is_empty()) {
                        row.clear();
                        row.extend(queues.iter_mut().filter_map(|q| q.pop_front()));
                        det.push(&row, &mut fresh);
                        frames += 1;
                        if !tap_txs.is_empty() || forward_audio {
                            tap_rows.extend_from_slice(&row);
                            tap_scores.extend((0..nsp).map(|c| det.view(c).raw));
                            tap_active.extend((0..nsp).map(|c| det.speaking(c)));
                        }
                    }
                    if forward_audio {
                        inline(&mut |t| {
                            t.frames(&tap_rows, &tap_scores)?;
                            t.activity(&tap_active)?;
                            for s in &fresh {
                                t.segment(s)?;
                            }
                            for c in 0..nsp {
                                t.watermark(c, det.earliest_open(c))?;
                            }
                            Ok(())
                        });
                    }
                    for (k, t) in tap_txs.iter().enumerate() {
                        // The last tap takes the batch, the others a copy.
                        let msg = if k + 1 == tap_txs.len() {
                            TapMsg::Frames(
                                std::mem::take(&mut tap_rows),
                                std::mem::take(&mut tap_scores),
                                std::mem::take(&mut tap_active),
                            )
                        } else {
                            TapMsg::Frames(tap_rows.clone(), tap_scores.clone(), tap_active.clone())
                        };
                        let _ = t.send(msg);
                        for s in &fresh {
                            let _ = t.send(TapMsg::Segment(*s));
                        }
                        for c in 0..nsp {
                            let _ = t.send(TapMsg::Watermark(c, det.earliest_open(c)));
                        }
                    }
                    tap_rows.clear();
                    tap_scores.clear();
                    tap_active.clear();
                    segments.extend_from_slice(&fresh);
                }
                fresh.clear();
                det.finish(frames, &mut fresh);
                for t in &tap_txs {
                    for s in &fresh {
                        let _ = t.send(TapMsg::Segment(*s));
                    }
                }
                inline(&mut |t| fresh.iter().try_for_each(|s| t.segment(s)));
                segments.extend_from_slice(&fresh);
                (segments, frames, inline_taps, inline_error)
            }
        });
        drop(tap_txs);

        let decoded = decode
            .join()
            .map_err(|_| PipelineError::Internal("decode"))?;
        let resampled = resample
            .join()
            .map_err(|_| PipelineError::Internal("resample"))?;
        for t in feature_threads {
            t.join().map_err(|_| PipelineError::Internal("features"))?;
        }
        let (segments, frames, inline_taps, inline_error) = detect
            .join()
            .map_err(|_| PipelineError::Internal("detect"))?;
        let (_total_in, warnings) = decoded?;
        let samples = resampled?;
        let duration = Time(samples as i64);
        debug_assert!(frames == duration.frames_ceil() || nsp == 0);

        let mut tap_results = Vec::new();
        for t in tap_threads {
            tap_results.push(t.join().map_err(|_| PipelineError::Internal("tap"))?);
        }
        if let Some(e) = inline_error {
            return Err(PipelineError::Tap(e));
        }
        tap_results.extend(inline_taps.into_iter().map(Ok));
        for r in tap_results {
            let mut tap = r.map_err(PipelineError::Tap)?;
            tap.finish(duration).map_err(PipelineError::Tap)?;
        }

        let mut speech = Annotation::new();
        for s in &speakers {
            speech.insert(&s.id, Default::default());
        }
        for seg in segments {
            let span = crate::timeline::Span::new(seg.span.start, seg.span.end.min(duration));
            speech.add(&speakers[seg.channel].id, span);
        }
        Ok(Detection {
            info,
            speakers,
            speech,
            duration,
            warnings,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Everything a tap is told, per kind.
    #[derive(Debug, Default, PartialEq)]
    struct Log {
        /// Per channel: (start, length) of each audio block.
        audio: Vec<Vec<(i64, usize)>>,
        frames: Vec<i64>,
        segments: Vec<(usize, i64, i64)>,
        finished: Option<i64>,
    }

    struct Recorder<'a> {
        inline: bool,
        log: Log,
        out: &'a Mutex<Option<Log>>,
    }

    impl Tap for Recorder<'_> {
        fn audio(&mut self, c: usize, start: Time, samples: &[f32]) -> Result<(), String> {
            self.log.audio[c].push((start.0, samples.len()));
            Ok(())
        }
        fn segment(&mut self, s: &Segment) -> Result<(), String> {
            self.log
                .segments
                .push((s.channel, s.span.start.0, s.span.end.0));
            Ok(())
        }
        fn frames(&mut self, rows: &[FrameFeatures], _scores: &[f32]) -> Result<(), String> {
            self.log
                .frames
                .extend(rows.iter().step_by(2).map(|f| f.index));
            Ok(())
        }
        fn finish(&mut self, duration: Time) -> Result<(), String> {
            self.log.finished = Some(duration.0);
            if let Ok(mut slot) = self.out.lock() {
                *slot = Some(std::mem::take(&mut self.log));
            }
            Ok(())
        }
        fn inline(&self) -> bool {
            self.inline
        }
    }

    #[test]
    fn an_inline_tap_is_told_what_a_threaded_one_is() {
        let (a, b) = (Mutex::new(None), Mutex::new(None));
        let taps: Vec<Box<dyn Tap + '_>> = [(&a, true), (&b, false)]
            .into_iter()
            .map(|(out, inline)| {
                Box::new(Recorder {
                    inline,
                    log: Log {
                        audio: vec![Vec::new(); 2],
                        ..Log::default()
                    },
                    out,
                }) as Box<dyn Tap>
            })
            .collect();
        let speakers = (0..2)
            .map(|c| Speaker {
                id: format!("s{c}"),
                channel: c,
            })
            .collect();
        let (cancel, progress) = (AtomicBool::new(false), AtomicU64::new(0));
        let ctl = Control {
            cancel: &cancel,
            progress: &progress,
        };
        // The bundled demo call: real speech, both parties.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/demo-call.wav");
        let source = crate::audio::open(Path::new(path)).expect("demo call");
        let det = run(source, speakers, &VadConfig::default(), taps, &ctl).expect("runs");
        let inline = a.into_inner().ok().flatten().expect("inline tap finished");
        let threaded = b
            .into_inner()
            .ok()
            .flatten()
            .expect("threaded tap finished");
        assert_eq!(inline, threaded);
        assert_eq!(inline.finished, Some(det.duration.0));
        assert_eq!(inline.frames.len() as i64, det.duration.frames_ceil());
        assert!(inline.segments.len() >= 4, "{:?}", inline.segments);
        for blocks in &inline.audio {
            let total: usize = blocks.iter().map(|b| b.1).sum();
            assert_eq!(total as i64, det.duration.0);
        }
    }
}
