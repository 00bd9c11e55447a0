//! The voice features diarization compares: a log-mel spectrum per 10 ms
//! frame, kept as one byte per band.
//!
//! The pipeline's own [`FrameFeatures`](crate::dsp::features::FrameFeatures)
//! have 16 bands, tuned for detecting speech against noise; telling two
//! voices apart needs the finer spectral envelope (formants, vocal-tract
//! length), so this front end computes [`N_MEL`] triangular mel bands from
//! the same 32 ms Hann spectra ([`Stft`], [`Framer`]: frame `i` is centred
//! on the cell `[i·HOP, (i+1)·HOP)`, exactly the detector's frame `i`).
//!
//! Bands, not cepstra, are stored, because band *powers* add when two
//! voices overlap: the overlap model ([`super::overlap`]) synthesises mixed
//! frames by adding the stored powers of frames of the two speakers, which
//! cepstra would not allow. Cepstra are computed from the bands when the
//! call ends ([`super::cepstra`]).
//!
//! The upper band edge follows the recording's bandwidth: a band above the
//! Nyquist frequency of an 8 kHz call would hold only the resampler's
//! leakage, and its noise would dilute the comparison.

use crate::dsp::stft::{BINS, Framer, Stft, WIN};
use crate::time::RATE;

/// Mel bands per frame.
pub const N_MEL: usize = 24;
/// Lowest band edge, Hz: below it live hum and handling noise.
pub const MEL_LO_HZ: f32 = 100.0;
/// Highest band edge for wide-band audio, Hz.
pub const MEL_HI_HZ: f32 = 7600.0;
/// Quantisation step of the stored bands, dB.
pub const DB_STEP: f32 = 0.5;
/// The lowest storable level, dB re full scale (byte 0).
pub const DB_FLOOR: f32 = -127.5;

/// One frame's log-mel spectrum, [`DB_STEP`] dB per unit above
/// [`DB_FLOOR`].
pub type MelBytes = [u8; N_MEL];

/// Encodes a level in dB as a band byte (clamped).
#[inline]
pub fn encode_db(db: f32) -> u8 {
    ((db - DB_FLOOR) / DB_STEP).round().clamp(0.0, 255.0) as u8
}

/// Decodes a band byte to dB.
#[inline]
pub fn decode_db(b: u8) -> f32 {
    DB_FLOOR + f32::from(b) * DB_STEP
}

fn hz_to_mel(f: f32) -> f32 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f32) -> f32 {
    700.0 * (10f32.powf(m / 2595.0) - 1.0)
}

/// The upper band edge for a recording sampled at `source_rate` Hz: a
/// little under its Nyquist frequency, at most [`MEL_HI_HZ`].
pub fn band_top_hz(source_rate: u32) -> f32 {
    (source_rate as f32 * 0.475).clamp(MEL_LO_HZ * 4.0, MEL_HI_HZ)
}

/// One triangular filter: its first bin and weights.
#[derive(Clone, Debug)]
struct Filter {
    first: usize,
    weights: Vec<f32>,
}

/// Log-mel bands of a 16 kHz stream, frame by frame.
pub struct MelFrontEnd {
    framer: Framer,
    stft: Stft,
    power: Vec<f32>,
    filters: Vec<Filter>,
    scale: f32,
}

impl MelFrontEnd {
    /// A front end for audio whose content ends at `top_hz` (see
    /// [`band_top_hz`]).
    pub fn new(top_hz: f32) -> MelFrontEnd {
        let stft = Stft::new();
        let wsum: f32 = stft.window().iter().map(|w| w * w).sum();
        let (lo, hi) = (hz_to_mel(MEL_LO_HZ), hz_to_mel(top_hz.max(MEL_LO_HZ * 2.0)));
        let bin_hz = RATE as f32 / WIN as f32;
        // N_MEL + 2 edges; filter b rises from edge b to b+1, falls to b+2.
        let edges: Vec<f32> = (0..N_MEL + 2)
            .map(|i| mel_to_hz(lo + (hi - lo) * i as f32 / (N_MEL + 1) as f32) / bin_hz)
            .collect();
        let filters = (0..N_MEL)
            .map(|b| {
                let (l, c, r) = (edges[b], edges[b + 1], edges[b + 2]);
                let first = l.floor().max(0.0) as usize;
                let last = (r.ceil() as usize).min(BINS - 1);
                let mut weights: Vec<f32> = (first..=last)
                    .map(|k| {
                        let k = k as f32;
                        if k <= c {
                            ((k - l) / (c - l)).max(0.0)
                        } else {
                            ((r - k) / (r - c)).max(0.0)
                        }
                    })
                    .collect();
                // A filter narrower than a bin still gets its nearest bin.
                if weights.iter().all(|&w| w <= 0.0) {
                    let nearest = (c.round() as usize).clamp(first, last);
                    weights[nearest - first] = 1.0;
                }
                let sum: f32 = weights.iter().sum();
                weights.iter_mut().for_each(|w| *w /= sum);
                Filter { first, weights }
            })
            .collect();
        MelFrontEnd {
            framer: Framer::new(),
            stft,
            power: vec![0.0; BINS],
            filters,
            // Mean-square signal level per unit of summed |X|² (as the
            // pipeline's band levels), so bands read in dB re full scale.
            scale: 2.0 / (WIN as f32 * wsum),
        }
    }

    /// Feeds samples; calls `f(frame_index, bands)` for every completed
    /// frame.
    pub fn push(&mut self, samples: &[f32], mut f: impl FnMut(i64, &MelBytes)) {
        let (framer, mut a) = self.split();
        framer.push(samples, |i, frame| f(i, &a.frame(frame)));
    }

    /// Flushes the last partial frame.
    pub fn finish(&mut self, mut f: impl FnMut(i64, &MelBytes)) {
        let (framer, mut a) = self.split();
        framer.finish(|i, frame| f(i, &a.frame(frame)));
    }

    fn split(&mut self) -> (&mut Framer, Analysis<'_>) {
        (
            &mut self.framer,
            Analysis {
                stft: &mut self.stft,
                power: &mut self.power,
                filters: &self.filters,
                scale: self.scale,
            },
        )
    }
}

struct Analysis<'a> {
    stft: &'a mut Stft,
    power: &'a mut [f32],
    filters: &'a [Filter],
    scale: f32,
}

impl Analysis<'_> {
    fn frame(&mut self, frame: &[f32]) -> MelBytes {
        self.stft.power(frame, self.power);
        let mut out = [0u8; N_MEL];
        for (o, f) in out.iter_mut().zip(self.filters) {
            let p: f32 = self.power[f.first..f.first + f.weights.len()]
                .iter()
                .zip(&f.weights)
                .map(|(p, w)| p * w)
                .sum();
            *o = encode_db(crate::dsp::features::db(p * self.scale));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_within_half_a_step() {
        for db in [-127.5f32, -60.2, -3.1, 0.0] {
            assert!((decode_db(encode_db(db)) - db).abs() <= DB_STEP / 2.0 + 1e-4);
        }
        assert_eq!(encode_db(-500.0), 0);
        assert_eq!(encode_db(20.0), 255);
    }

    #[test]
    fn a_tone_lights_the_band_around_it() {
        let mut fe = MelFrontEnd::new(MEL_HI_HZ);
        let tone: Vec<f32> = (0..16_000)
            .map(|n| 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 16_000.0).sin())
            .collect();
        let mut frames = Vec::new();
        fe.push(&tone, |i, b| frames.push((i, *b)));
        fe.finish(|i, b| frames.push((i, *b)));
        assert_eq!(frames.len(), 100);
        let (_, mid) = frames[50];
        let top = (0..N_MEL).max_by_key(|&b| mid[b]).unwrap();
        // Band centres of the layout: the loudest must sit near 1 kHz.
        let (lo, hi) = (hz_to_mel(MEL_LO_HZ), hz_to_mel(MEL_HI_HZ));
        let centre = mel_to_hz(lo + (hi - lo) * (top + 1) as f32 / (N_MEL + 1) as f32);
        assert!(
            (centre - 1000.0).abs() < 200.0,
            "loudest band at {centre} Hz"
        );
        // A full-scale-ish sine (−9 dBFS mean square) reads about that.
        assert!(decode_db(mid[top]) > -20.0, "{}", decode_db(mid[top]));
        assert!(decode_db(mid[0]) < decode_db(mid[top]) - 30.0);
    }

    #[test]
    fn narrow_band_layout_has_no_empty_filter() {
        let fe = MelFrontEnd::new(band_top_hz(8000));
        for f in &fe.filters {
            assert!(f.weights.iter().any(|&w| w > 0.0));
            assert!((f.weights.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
        assert!(band_top_hz(8000) < 4000.0 && band_top_hz(48_000) == MEL_HI_HZ);
    }
}
