//! Pitch (fundamental frequency) per 10 ms frame: YIN on 16 kHz mono.
//!
//! The tracker follows de Cheveigné & Kawahara (2002), "YIN, a fundamental
//! frequency estimator for speech and music":
//!
//! 1. the difference function `d(τ) = Σ_{j<W} (x_j − x_{j+τ})²` over an
//!    integration window of `W` samples, for every lag up to the longest
//!    period searched;
//! 2. its cumulative-mean normalisation `d'(τ) = d(τ) / ((1/τ) Σ_{k=1..τ} d(k))`,
//!    `d'(0) = 1`, which removes the dip at lag zero and makes the depth of a
//!    dip a measure of aperiodicity (0 for a perfectly periodic signal, about
//!    1 for noise);
//! 3. the absolute threshold: the first lag whose `d'` falls below
//!    [`PitchConfig::threshold`] (then followed down to its local minimum) —
//!    the first dip, not the deepest, so that multiples of the period do not
//!    win; without such a dip, the deepest dip;
//! 4. parabolic interpolation of `d` around that lag for a sub-sample period.
//!
//! **Cost.** The lag search runs on the span low-passed at 1 kHz and taken
//! at every fourth sample (4 kHz: about 70 lags over a 100-sample window),
//! and only the chosen lag is refined at the full rate. At that size `d` is
//! cheapest summed as written, lag by lag, and only as far as step 3 looks:
//! for a voice at 200 Hz that is a third of the lags. When the search runs
//! at the full rate (no low-pass) or over very long periods, the tracker
//! instead expands the square, `d(τ) = e(0) + e(τ) − 2 r(τ)` with `e(τ)` the
//! energy of `x[τ..τ+W]` (a running sum) and `r(τ) = Σ_{j<W} x_j x_{j+τ}`
//! a cross-correlation that one pair of real FFTs and one inverse compute
//! for all lags at once (realfft). Either way every buffer and transform is
//! allocated when the tracker is built, and nothing per frame.
//!
//! **Voicing.** A frame has a pitch only when its best dip is at most
//! [`PitchConfig::voicing_threshold`] deep (YIN's aperiodicity) *and* its
//! level reaches [`PitchConfig::min_level_db`] and lies within
//! [`PitchConfig::max_below_peak_db`] of the loudest voiced frames so far
//! (a peak that decays by 2 dB/s). White noise has no dip below about 0.6;
//! digital silence and near-silence fail the level test; mains hum and
//! other faint periodic background between words fails the relative test
//! once the speaker has been heard. All give `None`, never a made-up
//! value. (Before the first speech there is no peak to be relative to:
//! summarise pitch over the voice detector's speech frames.)
//!
//! **Frame grid.** Frame `i` is hearken's 10 ms cell `[i·160, (i+1)·160)`: its
//! analysis span (integration window plus the longest lag, [`PitchTracker::span`]
//! samples, 42 ms for the default 60 Hz floor, i.e. at least 2.5 periods of
//! the lowest pitch) is centred on the middle of that cell. The stream is
//! preceded by zeros so that frame 0 exists, and [`PitchTracker::finish`]
//! completes the last cell with zeros, exactly as [`crate::dsp::stft`] does
//! for the spectra: the pitch of frame `i` sits next to the
//! [`crate::dsp::features::FrameFeatures`] of frame `i`.
//!
//! **Smoothing.** [`smooth`] is an optional offline pass in the spirit of
//! pYIN's tracking, much cheaper: it folds isolated octave jumps back onto
//! their neighbours and takes a 3-frame median inside voiced runs. On the
//! espeak-ng fixtures it removes the few octave errors at voicing onsets (see
//! the tests).

use super::{AnnotateError, median_in_place};
use crate::dsp::features::{FLOOR_DB, db};
use crate::dsp::sums::{sum, sum_sq_about};
use crate::time::{HOP, RATE};
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Settings of the pitch tracker.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PitchConfig {
    /// Lowest pitch searched, Hz (default 60: below the lowest male speaking
    /// voices; creak goes lower and is left unvoiced).
    pub min_hz: f32,
    /// Highest pitch searched, Hz (default 400: above most speaking voices,
    /// including raised female and child voices in conversation).
    pub max_hz: f32,
    /// YIN's absolute threshold on `d'` for picking the first dip (default
    /// 0.15; the paper uses 0.1–0.15).
    pub threshold: f32,
    /// A frame is voiced only if its chosen dip is at most this deep
    /// (default 0.3). Clean vowels reach 0.01–0.1, voiced consonants and
    /// vowels in 10 dB of noise 0.2–0.3, white noise never below about 0.6.
    pub voicing_threshold: f32,
    /// Frames whose analysis span is quieter than this (RMS, DC removed,
    /// dBFS) are silent (default −60 dBFS).
    pub min_level_db: f32,
    /// Voiced frames more than this far below the decaying peak of the
    /// voiced frames so far are background (default 30 dB; `None`: off).
    pub max_below_peak_db: Option<f32>,
    /// Cut-off of the low-pass filter applied before the analysis, Hz
    /// (default 1000; `None`: no filter). See the module notes.
    pub lowpass_hz: Option<f32>,
}

impl Default for PitchConfig {
    fn default() -> Self {
        PitchConfig {
            min_hz: 60.0,
            max_hz: 400.0,
            threshold: 0.15,
            voicing_threshold: 0.3,
            min_level_db: -60.0,
            max_below_peak_db: Some(30.0),
            lowpass_hz: Some(1000.0),
        }
    }
}

impl PitchConfig {
    /// Checks that the settings describe a usable tracker.
    pub fn validate(&self) -> Result<(), AnnotateError> {
        let bad = |name, value: f32, reason| {
            Err(AnnotateError::InvalidConfig {
                name,
                value: value.to_string(),
                reason,
            })
        };
        if !(self.min_hz >= 20.0 && self.min_hz <= 1000.0) {
            return bad("pitch.min_hz", self.min_hz, "must be within 20..=1000 Hz");
        }
        if !(self.max_hz > self.min_hz && self.max_hz <= RATE as f32 / 8.0) {
            return bad(
                "pitch.max_hz",
                self.max_hz,
                "must be above min_hz and at most 2000 Hz",
            );
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return bad("pitch.threshold", self.threshold, "must be within (0, 1]");
        }
        if !(self.voicing_threshold >= self.threshold && self.voicing_threshold <= 1.0) {
            return bad(
                "pitch.voicing_threshold",
                self.voicing_threshold,
                "must be within [threshold, 1]",
            );
        }
        if let Some(fc) = self.lowpass_hz
            && !(fc >= 2.0 * self.max_hz && fc < RATE as f32 / 2.0)
        {
            return bad(
                "pitch.lowpass_hz",
                fc,
                "must be at least 2 × max_hz and below 8000 Hz",
            );
        }
        if let Some(b) = self.max_below_peak_db
            && (b.is_nan() || b <= 0.0)
        {
            return bad("pitch.max_below_peak_db", b, "must be positive");
        }
        if !self.min_level_db.is_finite() {
            return bad("pitch.min_level_db", self.min_level_db, "must be finite");
        }
        Ok(())
    }
}

/// The pitch of one 10 ms frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PitchFrame {
    /// Frame index (frame `i` is the cell `[i·HOP, (i+1)·HOP)`).
    pub index: i64,
    /// The pitch in Hz; `None` for unvoiced and silent frames.
    pub hz: Option<f32>,
    /// YIN's aperiodicity: `d'` at the chosen lag, 0 (periodic) to about 1
    /// (noise); 1 for silent frames.
    pub aperiodicity: f32,
    /// RMS level of the analysis span after the tracker's low-pass filter
    /// (the band that carries voicing), DC removed, dBFS.
    pub level_db: f32,
}

/// How fast the reference peak of the relative level gate decays, dB per
/// frame (2 dB/s).
const PEAK_DECAY_DB: f32 = 0.02;

/// A streaming YIN tracker: push samples, get one [`PitchFrame`] per 10 ms.
pub struct PitchTracker {
    cfg: PitchConfig,
    /// Integration window `W`.
    win: usize,
    /// Shortest and longest lag searched.
    min_lag: usize,
    max_lag: usize,
    /// Decimation of the coarse search (4 behind the 1 kHz low-pass, else 1).
    dec: usize,
    /// Samples per analysis: `W + max_lag + 2` (one lag beyond the longest
    /// for interpolation, and the lag itself).
    span: usize,
    /// Zeros before the first sample, so that frame 0 is centred on cell 0.
    lead: usize,
    /// The current analysis span, filled up to `filled`.
    buf: Vec<f32>,
    filled: usize,
    next: i64,
    pushed: u64,
    /// Decaying peak level of the voiced frames, dB.
    peak_db: f32,
    /// Taps of the low-pass FIR applied before the coarse search (empty:
    /// no filtering).
    fir: Vec<f32>,
    /// Start of the current span in `buf` (the buffer is shifted only
    /// every few frames, not every frame).
    start: usize,
    /// The decimated, low-passed span of the current frame.
    coarse: Vec<f32>,
    /// The span's samples split into their phases, for [`decimate`].
    phase: Vec<f32>,
    /// The frame whose span `coarse` holds.
    coarse_frame: Option<i64>,
    /// Whether `d(τ)` is summed lag by lag (short windows) or computed
    /// through FFTs (long ones); see [`PitchTracker::fft_difference`].
    direct: bool,
    fft: Arc<dyn RealToComplex<f64>>,
    ifft: Arc<dyn ComplexToReal<f64>>,
    time_a: Vec<f64>,
    time_b: Vec<f64>,
    spec_a: Vec<Complex<f64>>,
    spec_b: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// Running energy `Σ x²` (prefix sums over the span).
    energy: Vec<f64>,
    /// `d'(τ)` for `τ ∈ 0..=max_lag + 1`.
    cmnd: Vec<f32>,
    /// `d(τ)` for the same lags.
    diff: Vec<f64>,
}

impl PitchTracker {
    /// Builds a tracker: plans the transforms and allocates every buffer.
    pub fn new(cfg: PitchConfig) -> Result<PitchTracker, AnnotateError> {
        cfg.validate()?;
        let rate = RATE as f32;
        let min_lag = (rate / cfg.max_hz).floor().max(2.0) as usize;
        let max_lag = (rate / cfg.min_hz).ceil() as usize;
        // The integration window holds 1.5 periods of the lowest pitch; with
        // the lags the span holds at least 2.5.
        let win = (1.5 * rate / cfg.min_hz).ceil() as usize;
        // Behind the 1 kHz low-pass the signal holds nothing above 1 kHz, so
        // the lag search can run at 4 kHz (a quarter of the samples, a
        // transform a quarter the size); the chosen lag is then refined on
        // the full-rate signal. Without the low-pass, search at full rate.
        let dec = match cfg.lowpass_hz {
            Some(fc) if fc <= rate / 16.0 => 4,
            _ => 1,
        };
        // Two coarse lags of margin so the longest lag (and the one after
        // it, for the dip test) is searched at the coarse rate too.
        let span = win + max_lag + 2 + 2 * dec;
        let hop = HOP as usize;
        let lead = (span - hop) / 2;
        let n = (span / dec + 2).next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(n);
        let ifft = planner.plan_fft_inverse(n);
        let scratch_len = fft.get_scratch_len().max(ifft.get_scratch_len());
        let fir = cfg.lowpass_hz.map_or_else(Vec::new, lowpass_fir);
        // Room for the FIR's reach after the span, and for many hops before
        // the buffer needs shifting.
        let buf = vec![0.0; span + fir.len() + SHIFT_EVERY * hop];
        Ok(PitchTracker {
            cfg,
            win,
            min_lag,
            max_lag,
            dec,
            span,
            lead,
            buf,
            filled: lead,
            next: 0,
            pushed: 0,
            peak_db: FLOOR_DB,
            coarse: vec![0.0; span / dec + 1],
            coarse_frame: None,
            // What `decimate` needs at most: `dec` phases of the outputs
            // (rounded up to its eight lanes) and the taps' reach.
            phase: Vec::with_capacity(
                dec * ((span / dec).next_multiple_of(8) + fir.len().div_ceil(dec)),
            ),
            start: 0,
            fir,
            time_a: fft.make_input_vec(),
            time_b: fft.make_input_vec(),
            spec_a: fft.make_output_vec(),
            spec_b: fft.make_output_vec(),
            scratch: vec![Complex::new(0.0, 0.0); scratch_len],
            energy: vec![0.0; span / dec + 2],
            cmnd: vec![0.0; max_lag / dec + 3],
            diff: vec![0.0; max_lag / dec + 3],
            // Products of the direct sum against a rough cost of the
            // three transforms (5 n log2 n each, n ≥ 2·span).
            direct: (max_lag / dec + 2) * (win / dec) <= 15 * n * n.trailing_zeros() as usize,
            fft,
            ifft,
        })
    }

    /// The settings.
    pub fn config(&self) -> &PitchConfig {
        &self.cfg
    }

    /// Samples per analysis span (integration window plus the lags).
    pub fn span(&self) -> usize {
        self.span
    }

    /// The integration window `W`, samples.
    pub fn window(&self) -> usize {
        self.win
    }

    /// Samples of delay: frame `i` comes out once sample
    /// `(i + 1)·HOP + latency() − 1` has been pushed.
    pub fn latency(&self) -> usize {
        self.span + self.fir.len() - self.lead - HOP as usize
    }

    /// Index of the next frame to come out.
    pub fn next_index(&self) -> i64 {
        self.next
    }

    /// Forgets the stream: the next sample pushed is sample 0 again.
    pub fn reset(&mut self) {
        self.buf.fill(0.0);
        self.filled = self.lead;
        self.start = 0;
        self.next = 0;
        self.pushed = 0;
        self.peak_db = FLOOR_DB;
        self.coarse_frame = None;
    }

    /// Feeds samples (16 kHz mono, any chunk size); appends one frame per
    /// completed analysis span to `out`. Nothing is allocated here beyond
    /// what `out` needs to grow.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<PitchFrame>) {
        self.push_selected(samples, out, |_| true);
    }

    /// Like [`PitchTracker::push`], but analyses only the frames for which
    /// `wanted(index)` is true; the others come out unvoiced without being
    /// analysed. The pipeline asks only for frames the voice detector's
    /// features call periodic: YIN costs several microseconds per frame,
    /// and most frames of a call are silence, noise or the other speaker.
    pub fn push_selected(
        &mut self,
        samples: &[f32],
        out: &mut Vec<PitchFrame>,
        mut wanted: impl FnMut(i64) -> bool,
    ) {
        let mut rest = samples;
        self.pushed += samples.len() as u64;
        // A frame is analysed once its span and the FIR's reach past it are
        // in (`filled` counts from `start`).
        let need = self.span + self.fir.len();
        while !rest.is_empty() {
            let room = self.buf.len() - (self.start + self.filled);
            if room == 0 {
                self.compact();
                continue;
            }
            let take = (need - self.filled).min(rest.len()).min(room);
            let at = self.start + self.filled;
            self.buf[at..at + take].copy_from_slice(&rest[..take]);
            self.filled += take;
            rest = &rest[take..];
            if self.filled == need {
                if wanted(self.next) {
                    out.push(self.analyse());
                } else {
                    out.push(PitchFrame {
                        index: self.next,
                        hz: None,
                        aperiodicity: 1.0,
                        level_db: FLOOR_DB,
                    });
                }
                self.advance();
            }
        }
    }

    /// Completes the last partial cell with zeros and emits the remaining
    /// frames: after `finish`, `ceil(samples / HOP)` frames have come out in
    /// all. The tracker is then reset for a new stream.
    pub fn finish(&mut self, out: &mut Vec<PitchFrame>) {
        let total = self.pushed.div_ceil(HOP as u64) as i64;
        let need = self.span + self.fir.len();
        while self.next < total {
            if self.start + need > self.buf.len() {
                self.compact();
            }
            let from = self.start + self.filled;
            self.buf[from..self.start + need].fill(0.0);
            self.filled = need;
            out.push(self.analyse());
            self.advance();
        }
        self.reset();
    }

    fn advance(&mut self) {
        let hop = HOP as usize;
        self.start += hop;
        self.filled -= hop;
        self.next += 1;
    }

    /// Moves the live part of the buffer to its front (every
    /// [`SHIFT_EVERY`] frames, not every frame).
    fn compact(&mut self) {
        let live = self.start..self.start + self.filled;
        self.buf.copy_within(live, 0);
        self.start = 0;
    }

    /// YIN on the current span.
    fn analyse(&mut self) -> PitchFrame {
        // The input is borrowed from `buf` while the analysis updates the
        // other fields: move it out for the call (no copy).
        let buf = std::mem::take(&mut self.buf);
        let need = self.span + self.fir.len();
        let frame = self.analyse_input(self.next, &buf[self.start..self.start + need]);
        self.buf = buf;
        frame
    }

    /// Samples of input one frame's analysis reads: its span plus the
    /// low-pass filter's reach past it.
    pub fn input_len(&self) -> usize {
        self.span + self.fir.len()
    }

    /// The stream sample at which frame `index`'s input starts (negative
    /// for the first frames: the stream is preceded by zeros).
    pub fn input_start(&self, index: i64) -> i64 {
        index * HOP - self.lead as i64
    }

    /// Analyses frame `index` from its input alone: `input` holds the
    /// [`PitchTracker::input_len`] stream samples from
    /// [`PitchTracker::input_start`], zeros where they fall before the
    /// stream's start or after its end. Frames may be analysed in any order
    /// and any may be skipped; analysed in the streaming order, they give
    /// exactly what [`PitchTracker::push_selected`] gives (the level gate's
    /// peak moves only with analysed voiced frames either way). For a
    /// caller that keeps the audio anyway and wants a few frames of it: it
    /// copies nothing.
    pub fn analyse_at(&mut self, index: i64, input: &[f32]) -> PitchFrame {
        if input.len() < self.input_len() {
            return PitchFrame {
                index,
                hz: None,
                aperiodicity: 1.0,
                level_db: FLOOR_DB,
            };
        }
        self.analyse_input(index, input)
    }

    fn analyse_input(&mut self, index: i64, input: &[f32]) -> PitchFrame {
        let mut frame = PitchFrame {
            index,
            hz: None,
            aperiodicity: 1.0,
            level_db: FLOOR_DB,
        };
        let span = self.span;
        let dec = self.dec;
        let x = &input[..span];
        // The coarse search on every `dec`-th sample of the low-passed span
        // (the FIR is evaluated only there: the filter costs nothing on the
        // frames that are not analysed). Its level is the frame's level:
        // the band that carries voicing.
        let n_dec = span / dec;
        let w = self.win / dec;
        // Nearby frames share most of their span: the low-passed samples of
        // the last analysed frame, moved back by the hops between the two,
        // are this frame's first ones, and only the rest are filtered.
        let step = HOP as usize / dec;
        let shift = self
            .coarse_frame
            .and_then(|f| usize::try_from(index - f).ok())
            .map_or(n_dec, |frames| frames.saturating_mul(step));
        let first = if shift > 0 && shift < n_dec {
            self.coarse.copy_within(shift..n_dec, 0);
            n_dec - shift
        } else {
            0
        };
        self.coarse_frame = Some(index);
        if self.fir.is_empty() {
            for (k, c) in self.coarse.iter_mut().enumerate().take(n_dec).skip(first) {
                *c = x[k * dec];
            }
        } else {
            decimate(
                &input[first * dec..span + self.fir.len()],
                &self.fir,
                dec,
                &mut self.coarse[first..n_dec],
                &mut self.phase,
            );
        }
        let coarse = &self.coarse[..n_dec];
        // Two passes (mean, then squares about it): a DC offset survives
        // the low-pass, and a one-pass `Σx² − n·mean²` would cancel.
        let mean = f64::from(sum(coarse)) / n_dec as f64;
        let acc = f64::from(sum_sq_about(coarse, mean as f32));
        frame.level_db = db((acc / n_dec as f64) as f32);
        if frame.level_db < self.cfg.min_level_db || acc <= 0.0 {
            return frame;
        }

        // d(τ) and d'(τ) at the coarse rate. Summed lag by lag, they are
        // computed only as far as the search below looks: it stops at the
        // first dip under the threshold, which for a voice at 200 Hz is a
        // third of the way through the lags.
        let lags = self.diff.len().min(n_dec - w);
        let mut lag = Lags {
            computed: 1,
            running: 0.0,
        };
        self.diff[0] = 0.0;
        self.cmnd[0] = 1.0;
        if !self.direct {
            self.fft_difference(n_dec, w, lags, mean);
            for tau in 1..lags {
                self.normalise(&mut lag, tau);
            }
        }
        let mut upto = |this: &mut PitchTracker, tau: usize| {
            while lag.computed <= tau {
                let t = lag.computed;
                let x = &this.coarse[..n_dec];
                this.diff[t] = f64::from(sq_diff(&x[..w], &x[t..t + w]));
                this.normalise(&mut lag, t);
            }
        };

        // The first dip below the threshold, followed to its minimum; else
        // the deepest dip in range.
        let lo = (self.min_lag / dec).max(1);
        let hi = (self.max_lag.div_ceil(dec)).min(lags - 2);
        let threshold = self.cfg.threshold;
        let mut best = None;
        let mut tau = lo;
        while tau <= hi {
            upto(self, tau + 1);
            if self.cmnd[tau] < threshold {
                while tau < hi && self.cmnd[tau + 1] < self.cmnd[tau] {
                    tau += 1;
                    upto(self, tau + 1);
                }
                best = Some(tau);
                break;
            }
            tau += 1;
        }
        let cmnd = &self.cmnd;
        let tau = match best {
            Some(t) => t,
            None => {
                let mut t = lo;
                for k in lo..=hi {
                    if cmnd[k] < cmnd[t] {
                        t = k;
                    }
                }
                t
            }
        };
        frame.aperiodicity = cmnd[tau];
        // A minimum at the edge of the range is the range, not a period.
        let is_dip = cmnd[tau] <= cmnd[tau - 1] && cmnd[tau] <= cmnd[tau + 1];
        if !is_dip || frame.aperiodicity > self.cfg.voicing_threshold {
            return frame;
        }

        // Refinement at the full rate: the exact difference function on a
        // few lags around the coarse estimate (its parabola scaled up), its
        // minimum, and a parabola through that. The squared differences of
        // nearby samples do not cancel, so f32 is exact enough here.
        let (ca, cb, cc) = (self.diff[tau - 1], self.diff[tau], self.diff[tau + 1]);
        let cden = ca - 2.0 * cb + cc;
        let cshift = if cden > 1e-12 * (ca + cc).max(1e-30) {
            (0.5 * (ca - cc) / cden).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let win = self.win;
        let d_full = |t: usize| -> f64 { f64::from(sq_diff(&x[..win], &x[t..t + win])) };
        let max_t = span - win - 1;
        let estimate = ((tau as f64 + cshift) * dec as f64).round() as usize;
        // From the estimate, downhill to the nearest minimum of `d`: the
        // coarse parabola lands within a sample or two of it, so this takes
        // three or four evaluations where scanning a window around the
        // estimate took eight (each is a 400-sample sum of squares). The
        // walk is bounded by the coarse grid's reach.
        let reach = if dec > 1 { dec } else { 1 };
        let lo_t = self.min_lag.saturating_sub(1).max(1);
        let hi_t = (self.max_lag + 1).min(max_t);
        if lo_t + 2 > hi_t {
            return frame;
        }
        let mut t = estimate.clamp(lo_t + 1, hi_t - 1);
        let (mut a, mut b, mut c) = (d_full(t - 1), d_full(t), d_full(t + 1));
        for _ in 0..reach {
            if a < b && a <= c && t - 1 > lo_t {
                t -= 1;
                (b, c) = (a, b);
                a = d_full(t - 1);
            } else if c < b && t + 1 < hi_t {
                t += 1;
                (a, b) = (b, c);
                c = d_full(t + 1);
            } else {
                break;
            }
        }
        let denom = a - 2.0 * b + c;
        let shift = if denom > 1e-12 * (a + c).max(1e-30) {
            (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let hz = (f64::from(RATE) / (t as f64 + shift)) as f32;
        if !(hz >= self.cfg.min_hz * 0.97 && hz <= self.cfg.max_hz * 1.03) {
            return frame;
        }
        self.peak_db = (self.peak_db - PEAK_DECAY_DB).max(frame.level_db);
        if let Some(below) = self.cfg.max_below_peak_db
            && frame.level_db < self.peak_db - below
        {
            return frame;
        }
        frame.hz = Some(hz);
        frame
    }
    /// `d'(τ)` from `d(τ)` and the running sum of `d(1..τ)`; `τ` must be
    /// the next lag after the last one normalised.
    fn normalise(&mut self, lag: &mut Lags, tau: usize) {
        let d = self.diff[tau];
        lag.running += d;
        self.cmnd[tau] = if lag.running > 0.0 {
            (d * tau as f64 / lag.running) as f32
        } else {
            1.0
        };
        lag.computed = tau + 1;
    }

    /// `d(τ)` from its expansion `e(0) + e(τ) − 2 r(τ)`: `e(τ)` the energy of
    /// `x[τ..τ+W]` (prefix sums) and the cross-correlation
    /// `r(τ) = Σ_{j<W} x_j x_{j+τ}` for all lags at once from one pair of
    /// real FFTs and one inverse. For long windows and many lags (the full
    /// rate, without the low-pass) this is the cheaper way.
    fn fft_difference(&mut self, n_dec: usize, w: usize, lags: usize, mean: f64) {
        // With both zero-padded to n ≥ span the circular correlation equals
        // the linear one for the lags searched. In f64: where a quiet
        // integration window meets loud speech later in the span, f32
        // rounding of the loud part would swamp `d` and fake a perfect dip.
        self.time_a.fill(0.0);
        self.time_b.fill(0.0);
        let mut acc = 0.0f64;
        self.energy[0] = 0.0;
        for (j, &v) in self.coarse[..n_dec].iter().enumerate() {
            let c = f64::from(v) - mean;
            self.time_b[j] = c;
            if j < w {
                self.time_a[j] = c;
            }
            acc += c * c;
            self.energy[j + 1] = acc;
        }
        // Lengths are fixed at construction, so the transforms cannot fail.
        let _ =
            self.fft
                .process_with_scratch(&mut self.time_a, &mut self.spec_a, &mut self.scratch);
        let _ =
            self.fft
                .process_with_scratch(&mut self.time_b, &mut self.spec_b, &mut self.scratch);
        for (a, b) in self.spec_a.iter_mut().zip(&self.spec_b) {
            *a = a.conj() * b;
        }
        // The DC and Nyquist bins of a product of real spectra are real in
        // theory; clear rounding residue so the inverse accepts them.
        if let Some(first) = self.spec_a.first_mut() {
            first.im = 0.0;
        }
        if let Some(last) = self.spec_a.last_mut() {
            last.im = 0.0;
        }
        let _ =
            self.ifft
                .process_with_scratch(&mut self.spec_a, &mut self.time_a, &mut self.scratch);
        let scale = 1.0 / self.time_a.len() as f64;
        let e0 = self.energy[w];
        for tau in 1..lags {
            let e_tau = self.energy[tau + w] - self.energy[tau];
            self.diff[tau] = (e0 + e_tau - 2.0 * self.time_a[tau] * scale).max(0.0);
        }
    }
}

/// How far the difference function of a frame has been computed.
struct Lags {
    /// Lags `0..computed` are in `diff` and `cmnd`.
    computed: usize,
    /// `Σ d(1..computed)`.
    running: f64,
}

/// Frames between two shifts of the sample buffer.
const SHIFT_EVERY: usize = 32;

/// `out[k] = Σ_t h[t] · src[k·dec + t]`: the FIR `h` evaluated at every
/// `dec`-th sample. The samples are first split into their `dec` phases
/// (`src[p], src[p+dec], …`), so that eight consecutive outputs read eight
/// consecutive samples of one phase for each tap: they are computed
/// together in one vector register, over all taps, and stored once. (A
/// dot product per output spends most of its time summing its lanes.)
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn decimate(src: &[f32], h: &[f32], dec: usize, out: &mut [f32], phase: &mut Vec<f32>) {
    const L: usize = 8;
    let m = out.len();
    let dec = dec.max(1);
    // Phase `p` at `phase[p·len..]`, zeros past the end of `src` and for
    // the last block's lanes beyond `m`.
    let len = m.next_multiple_of(L) + h.len().div_ceil(dec);
    phase.clear();
    phase.resize(dec * len, 0.0);
    if dec == 4 {
        // The usual case, without an index per sample.
        let (r0, rest) = phase.split_at_mut(len);
        let (r1, rest) = rest.split_at_mut(len);
        let (r2, r3) = rest.split_at_mut(len);
        let (chunks, _) = src.as_chunks::<4>();
        for ((((c, a), b), d), e) in chunks.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
            (*a, *b, *d, *e) = (c[0], c[1], c[2], c[3]);
        }
        let whole = chunks.len().min(len);
        for (p, &v) in src[chunks.len() * 4..].iter().enumerate() {
            if whole < len {
                phase[p * len + whole] = v;
            }
        }
    } else {
        for (p, row) in phase.chunks_exact_mut(len).enumerate() {
            let from = src.get(p..).unwrap_or(&[]);
            for (dst, &v) in row.iter_mut().zip(from.iter().step_by(dec)) {
                *dst = v;
            }
        }
    }
    // Each tap with the position in `phase` of its first sample.
    let mut taps = [(0.0f32, 0usize); 64];
    let n = h.len().min(taps.len());
    for (t, slot) in taps.iter_mut().enumerate().take(n) {
        *slot = (h[t], (t % dec) * len + t / dec);
    }
    let taps = &taps[..n];
    for (k0, block) in (0..m).step_by(L).zip(out.chunks_mut(L)) {
        let mut acc = [0.0f32; L];
        for &(g, at) in taps {
            let v = <&[f32; L]>::try_from(&phase[at + k0..at + k0 + L]).unwrap_or(&[0.0; L]);
            for l in 0..L {
                acc[l] += g * v[l];
            }
        }
        block.copy_from_slice(&acc[..block.len()]);
    }
}

/// `Σ (a_i − b_i)²`, vectorised like [`sum`](crate::dsp::sums::sum).
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn sq_diff(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    for (x, y) in ca.iter().zip(cb) {
        for l in 0..8 {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y) * (x - y)).sum();
    acc.iter().sum::<f32>() + tail
}

/// The low-pass in front of the coarse search: a 33-tap windowed-sinc FIR
/// (Blackman window) with its cut-off at `fc`, unit gain at DC. The search
/// reads every fourth sample of its output, so the filter also keeps the
/// decimation free of aliases (its stop band starts well below 2 kHz).
fn lowpass_fir(fc: f32) -> Vec<f32> {
    const TAPS: usize = 33;
    let mid = (TAPS - 1) as f32 / 2.0;
    let wc = 2.0 * fc / RATE as f32;
    let mut h: Vec<f32> = (0..TAPS)
        .map(|n| {
            let t = n as f32 - mid;
            let sinc = if t == 0.0 {
                wc
            } else {
                (std::f32::consts::PI * wc * t).sin() / (std::f32::consts::PI * t)
            };
            let a = 2.0 * std::f32::consts::PI * n as f32 / (TAPS - 1) as f32;
            sinc * (0.42 - 0.5 * a.cos() + 0.08 * (2.0 * a).cos())
        })
        .collect();
    let sum: f32 = h.iter().sum();
    h.iter_mut().for_each(|v| *v /= sum);
    h
}

/// Offline convenience: the pitch of every frame of `samples` (16 kHz mono),
/// `ceil(len / HOP)` frames.
pub fn track(samples: &[f32], cfg: &PitchConfig) -> Result<Vec<PitchFrame>, AnnotateError> {
    let mut tracker = PitchTracker::new(cfg.clone())?;
    let mut out = Vec::with_capacity(samples.len().div_ceil(HOP as usize));
    tracker.push(samples, &mut out);
    tracker.finish(&mut out);
    Ok(out)
}

/// An optional offline clean-up of a tracked contour, cheap and local:
///
/// 1. **Octave jumps.** A voiced frame within 4% of twice (or half) the
///    median of the voiced frames around it (±5 frames) while its own value
///    is more than 30% away from that median is moved by the octave.
///    Speech does not jump an octave within 50 ms; YIN's errors do.
/// 2. **Median of three** inside voiced runs: a voiced frame takes the
///    median of itself and its voiced neighbours (only when both neighbours
///    are voiced, so that run edges are kept).
///
/// Unvoiced frames stay unvoiced and voiced frames stay voiced.
pub fn smooth(frames: &mut [PitchFrame]) {
    const REACH: usize = 5;
    let n = frames.len();
    let orig: Vec<Option<f32>> = frames.iter().map(|f| f.hz).collect();
    let mut around = Vec::with_capacity(2 * REACH + 1);
    for i in 0..n {
        let Some(hz) = orig[i] else { continue };
        around.clear();
        let lo = i.saturating_sub(REACH);
        let hi = (i + REACH + 1).min(n);
        around.extend(
            (lo..hi)
                .filter(|&k| k != i)
                .filter_map(|k| orig[k].map(f64::from)),
        );
        if around.len() < 3 {
            continue;
        }
        let Some(med) = median_in_place(&mut around) else {
            continue;
        };
        let med = med as f32;
        let r = hz / med;
        if (r - 1.0).abs() > 0.3 {
            if (r - 2.0).abs() < 0.08 {
                frames[i].hz = Some(hz / 2.0);
            } else if (r - 0.5).abs() < 0.02 {
                frames[i].hz = Some(hz * 2.0);
            }
        }
    }
    let folded: Vec<Option<f32>> = frames.iter().map(|f| f.hz).collect();
    for i in 1..n.saturating_sub(1) {
        if let (Some(a), Some(b), Some(c)) = (folded[i - 1], folded[i], folded[i + 1]) {
            let m = a.max(b).min(a.min(b).max(c));
            frames[i].hz = Some(m);
        }
    }
}

/// Pitch statistics of a set of voiced frames.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PitchSummary {
    /// Number of voiced frames summarised.
    pub voiced_frames: usize,
    /// Median pitch, Hz.
    pub median_hz: f64,
    /// Variability: the standard deviation of `12·log2(f / median)` over the
    /// voiced frames, semitones (0 for a flat contour; conversational
    /// speech is typically 2–4).
    pub sd_semitones: f64,
}

impl PitchSummary {
    /// Summarises pitch values in Hz (non-positive and non-finite values are
    /// ignored); `None` without any.
    pub fn from_hz<I: IntoIterator<Item = f32>>(hz: I) -> Option<PitchSummary> {
        let mut v: Vec<f64> = hz
            .into_iter()
            .filter(|h| h.is_finite() && *h > 0.0)
            .map(f64::from)
            .collect();
        let median = median_in_place(&mut v)?;
        let st: Vec<f64> = v.iter().map(|&f| 12.0 * (f / median).log2()).collect();
        let mean = st.iter().sum::<f64>() / st.len() as f64;
        let var = st.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / st.len() as f64;
        Some(PitchSummary {
            voiced_frames: v.len(),
            median_hz: median,
            sd_semitones: var.sqrt(),
        })
    }

    /// Summarises the voiced frames among `frames`.
    pub fn from_frames(frames: &[PitchFrame]) -> Option<PitchSummary> {
        PitchSummary::from_hz(frames.iter().filter_map(|f| f.hz))
    }
}

/// The median pitch of the voiced frames, Hz; `None` if none is voiced.
pub fn median_hz(frames: &[PitchFrame]) -> Option<f64> {
    PitchSummary::from_frames(frames).map(|s| s.median_hz)
}

/// Pitch variability of the voiced frames in semitones (see
/// [`PitchSummary::sd_semitones`]); `None` if none is voiced.
pub fn variability_semitones(frames: &[PitchFrame]) -> Option<f64> {
    PitchSummary::from_frames(frames).map(|s| s.sd_semitones)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const FS: f64 = RATE as f64;

    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Gaussian white noise of unit variance (Box–Muller).
    fn gauss(n: usize, seed: u64) -> Vec<f64> {
        let mut u = lcg(seed);
        (0..n)
            .map(|_| {
                let (a, b) = (u().max(1e-12), u());
                (-2.0 * a.ln()).sqrt() * (2.0 * PI * b).cos()
            })
            .collect()
    }

    fn sine(f0: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| (2.0 * PI * f0 * i as f64 / FS + 0.3).sin())
            .collect()
    }

    /// A band-limited pulse train: every harmonic below 7 kHz at equal
    /// amplitude (the periodic impulse train, without aliasing).
    fn pulses(f0: f64, n: usize) -> Vec<f64> {
        let h = (7000.0 / f0).floor() as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / FS;
                (1..=h).map(|k| (2.0 * PI * k as f64 * f0 * t).cos()).sum()
            })
            .collect()
    }

    fn rms(x: &[f64]) -> f64 {
        (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
    }

    /// Scales `x` to `level` RMS and adds white noise `snr_db` below it.
    fn mix(x: &[f64], level: f64, snr_db: Option<f64>, seed: u64) -> Vec<f32> {
        let g = level / rms(x);
        let noise = gauss(x.len(), seed);
        let ng = snr_db.map_or(0.0, |s| level / 10f64.powf(s / 20.0));
        x.iter()
            .zip(&noise)
            .map(|(&s, &w)| (s * g + w * ng) as f32)
            .collect()
    }

    /// Worst relative error over the frames fully inside the signal, and the
    /// share of them that are voiced.
    fn check(x: &[f32], f0: f64) -> (f64, f64) {
        let frames = track(x, &PitchConfig::default()).unwrap();
        let inner = &frames[5..frames.len() - 5];
        let mut worst = 0.0f64;
        let mut voiced = 0;
        for f in inner {
            if let Some(hz) = f.hz {
                voiced += 1;
                worst = worst.max((f64::from(hz) / f0 - 1.0).abs());
            }
        }
        (worst, voiced as f64 / inner.len() as f64)
    }

    #[test]
    fn sines_and_pulse_trains_within_one_percent() {
        let n = 8000;
        let mut report = Vec::new();
        for (k, &f0) in [80.0, 97.3, 110.0, 150.0, 201.7, 250.0, 300.0, 350.0]
            .iter()
            .enumerate()
        {
            for (name, sig) in [("sine", sine(f0, n)), ("pulses", pulses(f0, n))] {
                for snr in [None, Some(20.0)] {
                    let x = mix(&sig, 0.1, snr, 11 + k as u64);
                    let (worst, share) = check(&x, f0);
                    report.push(format!(
                        "{name} {f0} Hz snr {snr:?}: worst {:.3}% voiced {:.0}%",
                        worst * 100.0,
                        share * 100.0
                    ));
                    assert!(worst < 0.01, "{}", report.join("\n"));
                    assert!(share > 0.99, "{}", report.join("\n"));
                }
            }
        }
        println!("{}", report.join("\n"));
    }

    #[test]
    fn noise_and_silence_have_no_pitch() {
        let n = 16_000;
        let white = mix(&gauss(n, 3), 0.1, None, 0);
        let frames = track(&white, &PitchConfig::default()).unwrap();
        let voiced = frames.iter().filter(|f| f.hz.is_some()).count();
        assert_eq!(voiced, 0, "white noise voiced in {voiced} frames");
        let min_ap = frames
            .iter()
            .map(|f| f.aperiodicity)
            .fold(f32::INFINITY, f32::min);
        assert!(min_ap > 0.5, "white noise aperiodicity down to {min_ap}");

        let silence = vec![0.0f32; n];
        let frames = track(&silence, &PitchConfig::default()).unwrap();
        assert_eq!(frames.len(), 100);
        assert!(frames.iter().all(|f| f.hz.is_none()));

        // A near-silent periodic hum (−80 dBFS) is below the level gate.
        let hum = mix(&sine(120.0, n), 1e-4, None, 0);
        let frames = track(&hum, &PitchConfig::default()).unwrap();
        assert!(frames.iter().all(|f| f.hz.is_none()));
    }

    #[test]
    fn voicing_switches_with_the_signal() {
        // 0.5 s noise, 0.5 s of a 150 Hz pulse train, 0.5 s silence.
        let mut x = mix(&gauss(8000, 5), 0.05, None, 0);
        x.extend(mix(&pulses(150.0, 8000), 0.1, None, 0));
        x.extend(std::iter::repeat_n(0.0, 8000));
        let frames = track(&x, &PitchConfig::default()).unwrap();
        assert_eq!(frames.len(), 150);
        let v = |r: std::ops::Range<usize>| frames[r].iter().filter(|f| f.hz.is_some()).count();
        assert_eq!(v(0..48), 0);
        assert_eq!(v(53..98), 45);
        assert_eq!(v(103..150), 0);
    }

    #[test]
    fn faint_hum_between_words_is_background() {
        // A 150 Hz tone at −20 dBFS, then 60 Hz hum at −55 dBFS (35 dB
        // under), then the tone again.
        let mut x = mix(&sine(150.0, 8000), 0.1, None, 0);
        x.extend(mix(
            &sine(60.0, 8000),
            0.1 * 10f64.powf(-35.0 / 20.0),
            None,
            0,
        ));
        x.extend(mix(&sine(150.0, 8000), 0.1, None, 0));
        let frames = track(&x, &PitchConfig::default()).unwrap();
        let v = |r: std::ops::Range<usize>| frames[r].iter().filter(|f| f.hz.is_some()).count();
        assert_eq!(v(5..45), 40);
        assert_eq!(v(55..95), 0, "hum voiced");
        assert_eq!(v(105..145), 40);
        // Without the relative gate the hum is (correctly) periodic.
        let cfg = PitchConfig {
            max_below_peak_db: None,
            ..PitchConfig::default()
        };
        let frames = track(&x, &cfg).unwrap();
        let hum = frames[55..95].iter().filter(|f| f.hz.is_some()).count();
        assert!(hum > 30, "{hum}");
    }

    #[test]
    fn selected_frames_equal_the_full_track() {
        // Regression: the low-passed samples are reused across analysed
        // frames; skipping frames (stride, gaps) must not change a value.
        let x = mix(&pulses(171.0, 16_000), 0.1, Some(20.0), 4);
        let whole = track(&x, &PitchConfig::default()).unwrap();
        for pick in [2i64, 3, 7] {
            let mut t = PitchTracker::new(PitchConfig::default()).unwrap();
            let mut out = Vec::new();
            let wanted = |i: i64| i % pick == 0 || (40..44).contains(&i);
            for c in x.chunks(1000) {
                t.push_selected(c, &mut out, wanted);
            }
            // (`finish` analyses the last few frames whatever is wanted.)
            assert!(out.len() > 90);
            for (a, b) in out.iter().zip(&whole) {
                if wanted(a.index) {
                    assert_eq!(a, b, "stride {pick}");
                } else {
                    assert_eq!(a.hz, None);
                }
            }
        }
    }

    #[test]
    fn streaming_in_any_chunks_equals_offline() {
        let x = mix(&pulses(133.0, 12_345), 0.1, Some(20.0), 9);
        let whole = track(&x, &PitchConfig::default()).unwrap();
        assert_eq!(whole.len(), 12_345usize.div_ceil(160));
        for chunk in [1usize, 7, 160, 333, 5000] {
            let mut t = PitchTracker::new(PitchConfig::default()).unwrap();
            let mut out = Vec::new();
            for c in x.chunks(chunk) {
                t.push(c, &mut out);
            }
            t.finish(&mut out);
            assert_eq!(out, whole, "chunk {chunk}");
            for (i, f) in out.iter().enumerate() {
                assert_eq!(f.index, i as i64);
            }
        }
    }

    #[test]
    fn frames_are_centred_on_their_cell() {
        // Voicing starts at sample 8000 = the start of cell 50: frame 49
        // (centred 40 samples earlier... its span reaches only 254 samples
        // in) must not be voiced from a few samples, frame 52 must be.
        let mut x = vec![0.0f32; 8000];
        x.extend(mix(&sine(200.0, 8000), 0.1, None, 0));
        let frames = track(&x, &PitchConfig::default()).unwrap();
        let first = frames.iter().position(|f| f.hz.is_some()).unwrap();
        assert!((47..=50).contains(&first), "first voiced frame {first}");
        let t = PitchTracker::new(PitchConfig::default()).unwrap();
        assert!(t.span() as f64 >= 2.5 * FS / 60.0, "span {}", t.span());
    }

    #[test]
    fn smoothing_folds_octave_jumps() {
        let mk = |hz: Option<f32>, i| PitchFrame {
            index: i,
            hz,
            aperiodicity: 0.05,
            level_db: -20.0,
        };
        let mut f: Vec<PitchFrame> = (0..20).map(|i| mk(Some(100.0 + i as f32), i)).collect();
        f[7].hz = Some(2.0 * 107.5);
        f[12].hz = Some(0.5 * 112.0);
        f[15].hz = None;
        smooth(&mut f);
        assert!((f[7].hz.unwrap() - 107.0).abs() < 1.5, "{:?}", f[7].hz);
        assert!((f[12].hz.unwrap() - 112.0).abs() < 1.5, "{:?}", f[12].hz);
        assert!(f[15].hz.is_none());
    }

    #[test]
    fn summary_in_hz_and_semitones() {
        let s = PitchSummary::from_hz([100.0, 200.0, 50.0, f32::NAN, 0.0]).unwrap();
        assert_eq!(s.voiced_frames, 3);
        assert_eq!(s.median_hz, 100.0);
        // ±12 semitones and 0: population sd = sqrt(2·144/3).
        assert!((s.sd_semitones - (96.0f64).sqrt()).abs() < 1e-9);
        assert!(PitchSummary::from_hz([]).is_none());
        let flat = PitchSummary::from_hz([150.0; 10]).unwrap();
        assert_eq!(flat.sd_semitones, 0.0);
    }

    #[test]
    fn bad_settings_are_rejected() {
        let cfg = PitchConfig {
            min_hz: 500.0,
            max_hz: 400.0,
            ..PitchConfig::default()
        };
        assert!(matches!(
            PitchTracker::new(cfg),
            Err(AnnotateError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn decimation_is_the_filter_at_every_dec_th_sample() {
        let h = lowpass_fir(1000.0);
        let x: Vec<f32> = gauss(700, 5).iter().map(|&v| v as f32).collect();
        let mut phase = Vec::new();
        for (dec, m) in [(4, 160), (4, 1), (3, 50), (1, 20)] {
            let mut out = vec![1.0; m];
            decimate(&x, &h, dec, &mut out, &mut phase);
            for (k, &o) in out.iter().enumerate() {
                let want: f32 = (0..h.len()).map(|t| h[t] * x[k * dec + t]).sum();
                assert!((o - want).abs() < 1e-5, "dec {dec} k {k}: {o} vs {want}");
            }
        }
    }

    /// A voice whose pitch glides, in low noise, with a silent gap: every
    /// path through the tracker must see it the same way.
    fn glide() -> Vec<f32> {
        let n = 16_000;
        let noise = gauss(n, 9);
        let mut phase = 0.0f64;
        (0..n)
            .map(|i| {
                phase += 2.0 * PI * (110.0 + 120.0 * i as f64 / n as f64) / FS;
                let voice = if (6_000..7_000).contains(&i) {
                    0.0
                } else {
                    0.3 * phase.sin() + 0.15 * (2.0 * phase).sin()
                };
                (voice + 0.003 * noise[i]) as f32
            })
            .collect()
    }

    /// The input of frame `i` cut from a whole signal, zeros outside it.
    fn input_of(t: &PitchTracker, x: &[f32], i: i64) -> Vec<f32> {
        let from = t.input_start(i);
        (0..t.input_len() as i64)
            .map(|k| {
                usize::try_from(from + k)
                    .ok()
                    .and_then(|j| x.get(j))
                    .copied()
                    .unwrap_or(0.0)
            })
            .collect()
    }

    #[test]
    fn frames_analysed_from_their_input_match_the_stream() {
        let x = glide();
        let wanted = |i: i64| i % 3 != 1;
        let mut stream = PitchTracker::new(PitchConfig::default()).expect("default");
        let mut want = Vec::new();
        for block in x.chunks(1000) {
            stream.push_selected(block, &mut want, wanted);
        }
        stream.finish(&mut want);
        let mut random = PitchTracker::new(PitchConfig::default()).expect("default");
        let mut voiced = 0;
        for f in want.iter().filter(|f| wanted(f.index)) {
            let got = random.analyse_at(f.index, &input_of(&random, &x, f.index));
            assert_eq!(&got, f, "frame {}", f.index);
            voiced += usize::from(got.hz.is_some());
        }
        assert!(voiced > 50, "{voiced} voiced frames");
        // A short input is no frame, not a panic.
        assert_eq!(random.analyse_at(3, &[0.5; 10]).hz, None);
    }

    #[test]
    fn the_direct_and_the_fft_difference_find_the_same_pitch() {
        let x = glide();
        let mut direct = PitchTracker::new(PitchConfig::default()).expect("default");
        let mut fft = PitchTracker::new(PitchConfig::default()).expect("default");
        assert!(direct.direct, "the defaults sum lag by lag");
        fft.direct = false;
        let frames = x.len() as i64 / HOP;
        let mut voiced = 0;
        for i in 0..frames {
            let a = direct.analyse_at(i, &input_of(&direct, &x, i));
            let b = fft.analyse_at(i, &input_of(&fft, &x, i));
            assert_eq!(a.hz.is_some(), b.hz.is_some(), "frame {i}: {a:?} vs {b:?}");
            if let (Some(p), Some(q)) = (a.hz, b.hz) {
                assert!((p - q).abs() < 1e-3 * p, "frame {i}: {p} vs {q}");
                voiced += 1;
            }
            assert!((a.aperiodicity - b.aperiodicity).abs() < 1e-3, "frame {i}");
        }
        assert!(voiced > 50, "{voiced} voiced frames");
    }
}
