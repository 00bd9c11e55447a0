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
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
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
    ifft: Arc<dyn ComplexToReal<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    half: Vec<Complex<f32>>,
    inv_scratch: Vec<Complex<f32>>,
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
        let ifft = planner.plan_fft_inverse(HALF);
        // Periodic Hann: overlapping windows at hop HOP sum to a constant.
        let window = (0..WIN)
            .map(|n| {
                let x = std::f32::consts::PI * n as f32 / WIN as f32;
                x.sin().powi(2)
            })
            .collect();
        Stft {
            window,
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            half: ifft.make_input_vec(),
            inv_scratch: ifft.make_scratch_vec(),
            fft,
            ifft,
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

    /// Inverse transform of the lower half of a real, even spectrum (the
    /// first `HALF / 2 + 1` of `values`, 0–4 kHz): the circular
    /// autocorrelation of that band at 8 kHz, [`HALF`] lags into `out`.
    ///
    /// Periodicity only needs the speech band, and the band below 4 kHz
    /// sampled at 8 kHz holds all of it: this costs half a full-size inverse.
    pub fn inverse_half(&mut self, values: &[f32], out: &mut [f32]) {
        for (c, &m) in self.half.iter_mut().zip(values) {
            *c = Complex::new(m, 0.0);
        }
        // The Nyquist bin of the half-size transform must be real: it is.
        let _ = self
            .ifft
            .process_with_scratch(&mut self.half, out, &mut self.inv_scratch);
    }

    /// The analysis window.
    pub fn window(&self) -> &[f32] {
        &self.window
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
        self.drain(&mut f);
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

    fn drain(&mut self, f: &mut impl FnMut(i64, &[f32])) {
        let hop = HOP as usize;
        let mut start = 0;
        while self.buf.len() - start >= WIN {
            f(self.next, &self.buf[start..start + WIN]);
            self.next += 1;
            start += hop;
        }
        self.buf.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
