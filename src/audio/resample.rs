//! One channel, any rate in, [`RATE`] out, in chunks.
//!
//! A wrapper around rubato's synchronous FFT resampler that accepts input in
//! blocks of any size (the decoder's), keeps what does not fill a chunk for
//! the next call, trims the resampler's start-up delay so that output sample
//! `n` lines up with input time `n / 16000` s, and at the end flushes exactly
//! as many samples as the input duration calls for. All buffers are allocated
//! once in [`ChannelResampler::new`]; `process` allocates only if the caller's
//! output vector must grow.
//!
//! [`ChannelResampler::low_latency`] runs the very same filter (same FFT
//! block, same window, so the same output sample for sample) but hands each
//! FFT block on as soon as it is complete instead of gathering four: the
//! live meter's latency then holds one block (32 ms at 8 kHz, 10 ms at
//! 44.1 kHz, 5 ms at 48 kHz) plus the filter's delay of half a block, not
//! 1024 input frames.

use crate::time::RATE;
use audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler, WindowFunction};

/// Input frames per resampler call.
const CHUNK: usize = 1024;

/// Why resampling failed (a bug or an impossible rate, never bad input data).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    /// rubato refused the rate pair.
    #[error("cannot resample from {rate} Hz: {reason}")]
    Construction {
        /// Input rate.
        rate: u32,
        /// rubato's explanation.
        reason: String,
    },
    /// rubato failed while processing.
    #[error("resampling failed: {0}")]
    Process(String),
}

/// Resamples one channel to the analysis rate.
pub struct ChannelResampler {
    inner: Option<Box<Fft<f32>>>,
    /// Input frames per call: rubato rounds the requested chunk to a
    /// multiple of the ratio's denominator (441 for 44.1 → 16 kHz).
    chunk: usize,
    rate_in: u32,
    pending: Vec<f32>,
    scratch: Vec<f32>,
    to_trim: usize,
    in_total: u64,
    out_total: u64,
}

impl ChannelResampler {
    /// A resampler from `rate_in` Hz; at 16 kHz it passes samples through.
    pub fn new(rate_in: u32) -> Result<ChannelResampler, ResampleError> {
        let inner = if rate_in == RATE {
            None
        } else {
            Some(Box::new(batch_fft(rate_in)?))
        };
        Ok(Self::with(rate_in, inner))
    }

    /// The same resampler, emitting each FFT block as soon as its input is
    /// complete (for live sources): identical output, lower latency.
    pub fn low_latency(rate_in: u32) -> Result<ChannelResampler, ResampleError> {
        if rate_in == RATE {
            return Ok(Self::with(rate_in, None));
        }
        // rubato's `Fft::new` splits a chunk into sub-chunks of about 256
        // frames, each one FFT block; asking for one block per chunk with
        // the same window gives the same filter and the same samples.
        let block = batch_fft(rate_in)?.fft_size_in();
        let fft = Fft::<f32>::new_custom(
            rate_in as usize,
            RATE as usize,
            block,
            1,
            1,
            WindowFunction::BlackmanHarris2,
            FixedSync::Input,
        )
        .map_err(|e| ResampleError::Construction {
            rate: rate_in,
            reason: e.to_string(),
        })?;
        Ok(Self::with(rate_in, Some(Box::new(fft))))
    }

    fn with(rate_in: u32, inner: Option<Box<Fft<f32>>>) -> ChannelResampler {
        let (scratch_len, to_trim, chunk) = inner.as_ref().map_or((0, 0, CHUNK), |f| {
            (
                f.output_frames_max(),
                f.output_delay(),
                f.input_frames_next(),
            )
        });
        ChannelResampler {
            inner,
            chunk,
            rate_in,
            pending: Vec::with_capacity(chunk * 2),
            scratch: vec![0.0; scratch_len],
            to_trim,
            in_total: 0,
            out_total: 0,
        }
    }

    /// The input rate.
    pub fn rate_in(&self) -> u32 {
        self.rate_in
    }

    /// Output samples the input seen so far calls for.
    fn expected_out(&self) -> u64 {
        (self.in_total * u64::from(RATE)).div_ceil(u64::from(self.rate_in))
    }

    /// Resamples `input`, appending the 16 kHz result to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), ResampleError> {
        self.in_total += input.len() as u64;
        let Some(fft) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            self.out_total += input.len() as u64;
            return Ok(());
        };
        self.pending.extend_from_slice(input);
        let mut start = 0;
        while self.pending.len() - start >= self.chunk {
            let chunk = &self.pending[start..start + self.chunk];
            let n = run(fft, chunk, None, &mut self.scratch)?;
            emit(
                &self.scratch[..n],
                &mut self.to_trim,
                &mut self.out_total,
                out,
            );
            start += self.chunk;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Flushes what is left at the end of the stream.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), ResampleError> {
        let expected = self.expected_out();
        let Some(fft) = self.inner.as_mut() else {
            return Ok(());
        };
        let mut block = std::mem::take(&mut self.pending);
        let mut valid = block.len();
        block.resize(self.chunk, 0.0);
        // Pump the remainder, then silence (rubato pads a partial chunk with
        // zeros), until the delay line has given back every sample the input
        // duration calls for; then cut the excess.
        while self.out_total < expected {
            let n = run(fft, &block, Some(valid), &mut self.scratch)?;
            if n == 0 {
                break;
            }
            emit(
                &self.scratch[..n],
                &mut self.to_trim,
                &mut self.out_total,
                out,
            );
            valid = 0;
        }
        let excess = self.out_total.saturating_sub(expected) as usize;
        out.truncate(out.len() - excess.min(out.len()));
        self.out_total -= excess as u64;
        Ok(())
    }
}

/// The resampler of batch analysis: chunks of [`CHUNK`] input frames.
fn batch_fft(rate_in: u32) -> Result<Fft<f32>, ResampleError> {
    Fft::<f32>::new(rate_in as usize, RATE as usize, CHUNK, 1, FixedSync::Input).map_err(|e| {
        ResampleError::Construction {
            rate: rate_in,
            reason: e.to_string(),
        }
    })
}

fn run(
    fft: &mut Fft<f32>,
    input: &[f32],
    partial: Option<usize>,
    scratch: &mut [f32],
) -> Result<usize, ResampleError> {
    let inp = SequentialSlice::new(input, 1, input.len())
        .map_err(|e| ResampleError::Process(e.to_string()))?;
    let frames = scratch.len();
    let mut outp = SequentialSlice::new_mut(scratch, 1, frames)
        .map_err(|e| ResampleError::Process(e.to_string()))?;
    let indexing = partial.map(|p| Indexing::new().partial_len(p));
    let (_, n) = fft
        .process_into_buffer(&inp, &mut outp, indexing.as_ref())
        .map_err(|e| ResampleError::Process(e.to_string()))?;
    Ok(n)
}

fn emit(samples: &[f32], to_trim: &mut usize, total: &mut u64, out: &mut Vec<f32>) {
    let skip = (*to_trim).min(samples.len());
    *to_trim -= skip;
    out.extend_from_slice(&samples[skip..]);
    *total += (samples.len() - skip) as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn low_latency_gives_the_same_samples_in_smaller_steps() {
        for rate in [8_000u32, 11_025, 22_050, 44_100, 48_000] {
            let input = sine(rate, 300.0, 0.9);
            let mut batch = ChannelResampler::new(rate).unwrap();
            let mut a = Vec::new();
            for b in input.chunks(4096) {
                batch.process(b, &mut a).unwrap();
            }
            batch.finish(&mut a).unwrap();
            let mut live = ChannelResampler::low_latency(rate).unwrap();
            let step = live.chunk;
            assert!(step <= 441, "rate {rate}: block {step}");
            let mut b = Vec::new();
            for block in input.chunks((rate / 100) as usize) {
                live.process(block, &mut b).unwrap();
            }
            live.finish(&mut b).unwrap();
            assert_eq!(a, b, "rate {rate}");
        }
    }

    #[test]
    fn lengths_and_alignment_across_rates_and_block_sizes() {
        for rate in [8_000u32, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000] {
            for block in [1usize, 160, 1000, 4096] {
                let input = sine(rate, 440.0, 0.7);
                let mut r = ChannelResampler::new(rate).unwrap();
                let mut out = Vec::new();
                for b in input.chunks(block) {
                    r.process(b, &mut out).unwrap();
                }
                r.finish(&mut out).unwrap();
                let expected = (input.len() as u64 * 16_000).div_ceil(u64::from(rate)) as usize;
                assert_eq!(out.len(), expected, "rate {rate} block {block}");
                // The delay is trimmed: the output is the same sine, in
                // phase to within a sample (rubato's delay is whole samples;
                // the true one of a non-integer ratio has a fraction).
                let shifted_error = |shift: f32| -> f32 {
                    (2000..8000)
                        .map(|i| {
                            let t = (i as f32 + shift) / 16_000.0;
                            (out[i] - (2.0 * std::f32::consts::PI * 440.0 * t).sin() * 0.5).abs()
                        })
                        .fold(0.0, f32::max)
                };
                let best = (-10..=10)
                    .map(|s| shifted_error(s as f32 / 10.0))
                    .fold(f32::MAX, f32::min);
                assert!(best < 0.01, "rate {rate} block {block}: max error {best}");
            }
        }
    }
}
