//! Short-time spectra on the 10 ms frame grid.
//!
//! Frame `i` describes the 10 ms cell `[i·HOP, (i+1)·HOP)` of the stream: its
//! [`WIN`]-sample Hann window is centred on the middle of that cell. The
//! stream is therefore preceded by `(WIN − HOP) / 2` zeros, and the last
//! frame is completed with zeros at the end. This makes frame decisions map
//! one-to-one onto the 10 ms frames evaluation counts on, with no half-frame
//! offsets to remember anywhere else.

use crate::time::HOP;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Analysis window length in samples (32 ms at 16 kHz).
pub const WIN: usize = 512;
/// Number of spectrum bins (`WIN / 2 + 1`).
pub const BINS: usize = WIN / 2 + 1;
/// Zeros before the first sample, so that frame 0 is centred on cell 0.
pub const LEAD: usize = (WIN - HOP as usize) / 2;

/// A reusable forward transform with its window and scratch space.
pub struct Stft {
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Complex transforms for two real signals at once (see
    /// [`Stft::power_pair`] and [`Stft::inverse_half_pair`]).
    pair_fft: Arc<dyn Fft<f32>>,
    pair_ifft: Arc<dyn Fft<f32>>,
    pair_buf: Vec<Complex<f32>>,
    pair_scratch: Vec<Complex<f32>>,
}

/// Length of the half-rate inverse transform: the band below 4 kHz of a
/// [`WIN`]-point spectrum, brought back to the time domain at 8 kHz.
pub const HALF: usize = WIN / 2;

impl Default for Stft {
    fn default() -> Self {
        Stft::new()
    }
}

impl Stft {
    /// Plans the transforms and allocates every buffer once.
    pub fn new() -> Stft {
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(WIN);
        // Periodic Hann: overlapping windows at hop HOP sum to a constant.
        let window = (0..WIN)
            .map(|n| {
                let x = std::f32::consts::PI * n as f32 / WIN as f32;
                x.sin().powi(2)
            })
            .collect();
        let mut complex = FftPlanner::<f32>::new();
        let pair_fft = complex.plan_fft_forward(WIN);
        let pair_ifft = complex.plan_fft_inverse(HALF);
        let scratch_len = pair_fft
            .get_inplace_scratch_len()
            .max(pair_ifft.get_inplace_scratch_len());
        Stft {
            window,
            pair_buf: vec![Complex::default(); WIN],
            pair_scratch: vec![Complex::default(); scratch_len],
            pair_fft,
            pair_ifft,
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
        }
    }

    /// Windows `frame` (exactly [`WIN`] samples) and writes the power
    /// spectrum `|X(k)|²` into `power` ([`BINS`] values).
    pub fn power(&mut self, frame: &[f32], power: &mut [f32]) {
        for ((dst, &x), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *dst = x * w;
        }
        // Lengths are fixed at construction, so the transform cannot fail.
        let _ =
            self.fft
                .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch);
        for (p, c) in power.iter_mut().zip(&self.spectrum) {
            *p = c.norm_sqr();
        }
    }

    /// The power spectra of two frames (each exactly [`WIN`] samples) from
    /// one complex transform: `pa` and `pb` get [`BINS`] values each, equal
    /// to what [`Stft::power`] gives up to rounding.
    ///
    /// Why: a real transform of 512 points is a complex one of 256 plus an
    /// untangling pass, and that pass cost more than the transform itself
    /// (callgrind). Two real frames packed as `a + j·b` go through one
    /// complex transform of 512, and their powers separate with a few
    /// operations per bin, `|A(k)|² = |Z(k) + Z*(N−k)|² / 4` and
    /// `|B(k)|² = |Z(k) − Z*(N−k)|² / 4`.
    pub fn power_pair(&mut self, a: &[f32], b: &[f32], pa: &mut [f32], pb: &mut [f32]) {
        pack(&a[..WIN], &b[..WIN], &self.window, &mut self.pair_buf);
        self.pair_fft
            .process_with_scratch(&mut self.pair_buf, &mut self.pair_scratch);
        separate(&self.pair_buf, &mut pa[..BINS], &mut pb[..BINS]);
    }

    /// Inverse transforms of the lower halves of two real, even spectra
    /// (the first `HALF / 2 + 1` values of `a` and `b`, 0–4 kHz): the
    /// circular autocorrelations of those bands at 8 kHz, the first
    /// `outa.len()` lags (at most [`HALF`]) of each.
    ///
    /// Periodicity only needs the speech band, and the band below 4 kHz
    /// sampled at 8 kHz holds all of it: this costs half a full-size
    /// inverse. Both spectra are real and even, so their transforms are
    /// real: one complex transform of `a + j·b` yields `a`'s in its real
    /// part and `b`'s in its imaginary part, with no untangling pass.
    pub fn inverse_half_pair(&mut self, a: &[f32], b: &[f32], outa: &mut [f32], outb: &mut [f32]) {
        let n = HALF;
        let (a, b) = (&a[..n / 2 + 1], &b[..n / 2 + 1]);
        let buf = &mut self.pair_buf[..n];
        for (k, (&x, &y)) in a.iter().zip(b).enumerate() {
            let c = Complex::new(x, y);
            buf[k] = c;
            if k > 0 && k < n / 2 {
                buf[n - k] = c;
            }
        }
        self.pair_ifft
            .process_with_scratch(buf, &mut self.pair_scratch);
        for ((oa, ob), c) in outa.iter_mut().zip(outb.iter_mut()).zip(buf.iter()) {
            *oa = c.re;
            *ob = c.im;
        }
    }

    /// The analysis window.
    pub fn window(&self) -> &[f32] {
        &self.window
    }
}

/// `buf[n] = (a[n]·w[n], b[n]·w[n])`: two windowed frames packed as one
/// complex signal. (`multiversion`: the interleaving stores vectorise with
/// AVX, not with the baseline target.)
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn pack(a: &[f32], b: &[f32], w: &[f32], buf: &mut [Complex<f32>]) {
    for (((dst, &x), &y), &w) in buf.iter_mut().zip(a).zip(b).zip(w) {
        *dst = Complex::new(x * w, y * w);
    }
}

/// The powers of the two real frames packed in the spectrum `z` ([`WIN`]
/// bins): `|A(k)|² = |Z(k) + Z*(N−k)|² / 4`, `|B(k)|² = |Z(k) − Z*(N−k)|² / 4`
/// for the [`BINS`] bins of `pa` and `pb`.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn separate(z: &[Complex<f32>], pa: &mut [f32], pb: &mut [f32]) {
    // Bin 0 pairs with itself (A(0) and B(0) are the real and the
    // imaginary part of Z(0)); bin k with N − k, which runs down from the
    // top of the buffer to the Nyquist bin.
    pa[0] = z[0].re * z[0].re;
    pb[0] = z[0].im * z[0].im;
    let pairs = z[1..BINS].iter().zip(z[BINS - 1..WIN].iter().rev());
    for ((pa, pb), (p, q)) in pa[1..].iter_mut().zip(&mut pb[1..]).zip(pairs) {
        let (sr, si) = (p.re + q.re, p.im - q.im);
        let (dr, di) = (p.re - q.re, p.im + q.im);
        *pa = 0.25 * (sr * sr + si * si);
        *pb = 0.25 * (dr * dr + di * di);
    }
}

/// Cuts a sample stream into [`WIN`]-sample frames at [`HOP`] spacing,
/// centred on the 10 ms cells (see the module notes).
pub struct Framer {
    buf: Vec<f32>,
    next: i64,
    pushed: u64,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new()
    }
}

impl Framer {
    /// A framer whose first frame is centred on cell 0.
    pub fn new() -> Framer {
        let mut buf = Vec::with_capacity(WIN * 8);
        buf.resize(LEAD, 0.0);
        Framer {
            buf,
            next: 0,
            pushed: 0,
        }
    }

    /// Index of the next frame to come out.
    pub fn next_index(&self) -> i64 {
        self.next
    }

    /// Samples pushed so far.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Adds samples and calls `f(index, frame)` for every complete frame.
    pub fn push(&mut self, samples: &[f32], mut f: impl FnMut(i64, &[f32])) {
        self.buf.extend_from_slice(samples);
        self.pushed += samples.len() as u64;
        self.drain(1, &mut f);
    }

    /// Completes the last partial cell with zeros and emits the remaining
    /// frames: `ceil(samples / HOP)` frames in all.
    pub fn finish(&mut self, mut f: impl FnMut(i64, &[f32])) {
        // `push` only emits frame i once sample i·HOP + WIN − LEAD has
        // arrived, which lies beyond cell i: it never emits past `total`.
        let total = self.pushed.div_ceil(HOP as u64) as i64;
        if self.next >= total {
            return;
        }
        let hop = HOP as usize;
        let need = (total - 1 - self.next) as usize * hop + WIN;
        if self.buf.len() < need {
            self.buf.resize(need, 0.0);
        }
        let mut start = 0;
        while self.next < total {
            f(self.next, &self.buf[start..start + WIN]);
            self.next += 1;
            start += hop;
        }
        self.buf.clear();
    }

    /// Like [`Framer::push`], but frames come two at a time: `f(index,
    /// span)` gets frames `index` and `index + 1` as one span of
    /// `WIN + HOP` samples (the second frame starts `HOP` in), for
    /// [`Stft::power_pair`]. A frame is held back until its partner
    /// arrives, so pairs are always (even, odd) whatever the chunking.
    /// Use one style per framer.
    pub fn push_pairs(&mut self, samples: &[f32], mut f: impl FnMut(i64, &[f32])) {
        self.buf.extend_from_slice(samples);
        self.pushed += samples.len() as u64;
        self.drain(2, &mut f);
    }

    /// Ends a [`Framer::push_pairs`] stream: the remaining frames in
    /// pairs as `f(index, span, count)`, the last one alone (`count` 1,
    /// its partner all padding) when their number is odd.
    pub fn finish_pairs(&mut self, mut f: impl FnMut(i64, &[f32], usize)) {
        let total = self.pushed.div_ceil(HOP as u64) as i64;
        if self.next >= total {
            return;
        }
        let hop = HOP as usize;
        let left = (total - self.next) as usize;
        let need = left.div_ceil(2) * 2 * hop - hop + WIN;
        if self.buf.len() < need {
            self.buf.resize(need, 0.0);
        }
        let mut start = 0;
        while self.next < total {
            let count = ((total - self.next) as usize).min(2);
            f(self.next, &self.buf[start..start + WIN + hop], count);
            self.next += count as i64;
            start += 2 * hop;
        }
        self.buf.clear();
    }

    /// Emits every complete group of `frames` consecutive frames as one
    /// span (`WIN + (frames − 1)·HOP` samples) and drops the samples no
    /// later frame needs.
    fn drain(&mut self, frames: usize, f: &mut impl FnMut(i64, &[f32])) {
        let hop = HOP as usize;
        let span = WIN + (frames - 1) * hop;
        let mut start = 0;
        while self.buf.len() - start >= span {
            f(self.next, &self.buf[start..start + span]);
            self.next += frames as i64;
            start += frames * hop;
        }
        self.buf.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::test_signals::noise;

    #[test]
    fn framer_emits_one_frame_per_started_cell() {
        for n in [0usize, 1, 159, 160, 161, 1000, 16_000] {
            let mut fr = Framer::new();
            let mut count = 0;
            let samples = vec![1.0f32; n];
            for chunk in samples.chunks(77) {
                fr.push(chunk, |i, _| {
                    assert_eq!(i, count);
                    count += 1;
                });
            }
            fr.finish(|i, _| {
                assert_eq!(i, count);
                count += 1;
            });
            assert_eq!(count as usize, n.div_ceil(160), "n = {n}");
        }
    }

    #[test]
    fn frames_are_centred_on_their_cell() {
        // An impulse at sample 1000 lies in cell 6 (960..1120); the frame
        // centred there must have it at its centre ± half a hop.
        let mut s = vec![0.0f32; 4000];
        s[1000] = 1.0;
        let mut fr = Framer::new();
        let mut at = None;
        fr.push(&s, |i, frame| {
            if i == 6 {
                at = frame.iter().position(|&x| x == 1.0);
            }
        });
        let pos = at.unwrap() as i64;
        assert!((pos - WIN as i64 / 2).abs() <= HOP / 2, "impulse at {pos}");
    }

    #[test]
    fn power_of_a_sine_peaks_at_its_bin() {
        let mut stft = Stft::new();
        let f0 = 1000.0f32; // bin 32 at 31.25 Hz/bin
        let frame: Vec<f32> = (0..WIN)
            .map(|n| (2.0 * std::f32::consts::PI * f0 * n as f32 / 16_000.0).sin())
            .collect();
        let mut p = vec![0.0; BINS];
        stft.power(&frame, &mut p);
        let peak = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        assert_eq!(peak, Some(32));
    }

    #[test]
    fn paired_powers_match_single_frame_powers() {
        let mut stft = Stft::new();
        // One loud frame beside a faint one: the faint one's spectrum must
        // not drown in the loud one's rounding.
        let a = noise(WIN, 0.5, 1);
        let b: Vec<f32> = noise(WIN, 0.5, 2).iter().map(|x| x * 1e-3).collect();
        let (mut pa, mut pb) = (vec![0.0; BINS], vec![0.0; BINS]);
        stft.power_pair(&a, &b, &mut pa, &mut pb);
        for (frame, paired) in [(&a, &pa), (&b, &pb)] {
            let mut single = vec![0.0; BINS];
            stft.power(frame, &mut single);
            let top = single.iter().fold(0f32, |m, &x| m.max(x));
            for (k, (&x, &y)) in single.iter().zip(paired.iter()).enumerate() {
                assert!((x - y).abs() <= 1e-4 * top, "bin {k}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn paired_inverse_is_the_autocorrelation_of_each_band() {
        // A cosine at bin 10 of the half-size transform has the power
        // spectrum δ(k − 10) + δ(k + 10); its inverse is 2·cos(2π·10·n/256).
        let mut stft = Stft::new();
        let mut a = vec![0.0; HALF / 2 + 1];
        let mut b = vec![0.0; HALF / 2 + 1];
        a[10] = 1.0;
        b[3] = 2.0;
        b[0] = 1.0;
        let (mut ra, mut rb) = (vec![0.0; 40], vec![0.0; 40]);
        stft.inverse_half_pair(&a, &b, &mut ra, &mut rb);
        for n in 0..40 {
            let t = 2.0 * std::f32::consts::PI * n as f32 / HALF as f32;
            let want_a = 2.0 * (10.0 * t).cos();
            let want_b = 1.0 + 4.0 * (3.0 * t).cos();
            assert!((ra[n] - want_a).abs() < 1e-4, "a lag {n}: {}", ra[n]);
            assert!((rb[n] - want_b).abs() < 1e-4, "b lag {n}: {}", rb[n]);
        }
    }

    #[test]
    fn paired_framing_gives_the_single_frames_whatever_the_chunking() {
        for n in [0usize, 1, 159, 160, 161, 320, 999, 16_000] {
            let samples = noise(n, 0.5, 5);
            let mut want = Vec::new();
            let mut single = Framer::new();
            single.push(&samples, |i, f| want.push((i, f.to_vec())));
            single.finish(|i, f| want.push((i, f.to_vec())));
            for chunk in [1usize, 77, 160, 4096] {
                let mut got = Vec::new();
                let mut paired = Framer::new();
                let hop = HOP as usize;
                let mut take = |i: i64, span: &[f32], count: usize| {
                    assert_eq!(span.len(), WIN + hop);
                    assert_eq!(i % 2, 0, "pairs start on even frames");
                    for k in 0..count {
                        got.push((i + k as i64, span[k * hop..k * hop + WIN].to_vec()));
                    }
                };
                for c in samples.chunks(chunk) {
                    paired.push_pairs(c, |i, span| take(i, span, 2));
                }
                paired.finish_pairs(&mut take);
                assert_eq!(got, want, "n = {n}, chunk = {chunk}");
            }
        }
    }
}
