//! A noise floor that adapts: minimum statistics per band.
//!
//! Speech is bursty: within a couple of seconds of talk there are always
//! frames between syllables where a band falls back to the background level.
//! The minimum of a smoothed band energy over a sliding window of a couple of
//! seconds therefore tracks the noise even while someone talks (Martin,
//! "Noise power spectral density estimation based on optimal smoothing and
//! minimum statistics", 2001). The minimum of a fluctuating noise sits below
//! its mean, so a fixed bias is added back.
//!
//! The window minimum is kept with the sub-window trick: `U` sub-windows of
//! `V` frames each; the running minimum of the current sub-window plus the
//! stored minima of the last `U` complete ones. Constant work per frame, no
//! per-frame allocation.

use crate::dsp::features::{FLOOR_DB, N_BANDS};

/// Sub-windows per tracking window.
const SUBWINDOWS: usize = 6;

/// Per-band minimum-statistics noise floor, in dB.
#[derive(Clone, Debug)]
pub struct NoiseFloor {
    sub_len: usize,
    smooth: f32,
    bias_db: f32,
    smoothed: [f32; N_BANDS],
    current_min: [f32; N_BANDS],
    history: [[f32; N_BANDS]; SUBWINDOWS],
    filled: usize,
    pos: usize,
    frames_in_sub: usize,
    floor: [f32; N_BANDS],
    started: bool,
}

impl NoiseFloor {
    /// A tracker over a window of `window_frames` frames, smoothing with
    /// time constant `smooth_frames`, adding `bias_db` to the minimum.
    pub fn new(window_frames: usize, smooth_frames: f32, bias_db: f32) -> NoiseFloor {
        NoiseFloor {
            sub_len: (window_frames / SUBWINDOWS).max(1),
            smooth: (-1.0 / smooth_frames.max(0.5)).exp(),
            bias_db,
            smoothed: [FLOOR_DB; N_BANDS],
            current_min: [f32::INFINITY; N_BANDS],
            history: [[f32::INFINITY; N_BANDS]; SUBWINDOWS],
            filled: 0,
            pos: 0,
            frames_in_sub: 0,
            floor: [FLOOR_DB; N_BANDS],
            started: false,
        }
    }

    /// Updates with one frame of band energies (dB) and returns the floor.
    pub fn update(&mut self, bands: &[f32; N_BANDS]) -> &[f32; N_BANDS] {
        if !self.started {
            self.smoothed = *bands;
            self.started = true;
        }
        let a = self.smooth;
        // Smoothing in the power domain would be more exact; in dB it is
        // cheaper, and only the minimum matters here.
        for ((s, m), &x) in self
            .smoothed
            .iter_mut()
            .zip(&mut self.current_min)
            .zip(bands)
        {
            *s = a * *s + (1.0 - a) * x;
            *m = m.min(*s);
        }
        self.frames_in_sub += 1;
        if self.frames_in_sub >= self.sub_len {
            self.history[self.pos] = self.current_min;
            self.pos = (self.pos + 1) % SUBWINDOWS;
            self.filled = (self.filled + 1).min(SUBWINDOWS);
            self.current_min = [f32::INFINITY; N_BANDS];
            self.frames_in_sub = 0;
        }
        for b in 0..N_BANDS {
            let mut m = self.current_min[b];
            for h in &self.history[..self.filled] {
                m = m.min(h[b]);
            }
            self.floor[b] = if m.is_finite() {
                m + self.bias_db
            } else {
                FLOOR_DB
            };
        }
        &self.floor
    }

    /// The current floor.
    pub fn floor(&self) -> &[f32; N_BANDS] {
        &self.floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_the_background_under_bursts() {
        let mut nf = NoiseFloor::new(200, 3.0, 0.0);
        // Background at −60 dB with 300 ms bursts at −20 dB every second.
        for t in 0..1000 {
            let level = if t % 100 < 30 { -20.0 } else { -60.0 };
            nf.update(&[level; N_BANDS]);
        }
        assert!((nf.floor()[0] + 60.0).abs() < 1.0, "{}", nf.floor()[0]);
    }

    #[test]
    fn follows_a_rising_background_within_the_window() {
        let mut nf = NoiseFloor::new(120, 2.0, 0.0);
        for _ in 0..300 {
            nf.update(&[-70.0; N_BANDS]);
        }
        for _ in 0..200 {
            nf.update(&[-40.0; N_BANDS]);
        }
        assert!((nf.floor()[3] + 40.0).abs() < 1.0, "{}", nf.floor()[3]);
    }
}
