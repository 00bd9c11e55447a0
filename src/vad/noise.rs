//! A noise floor that adapts: minimum statistics per band, and the mean
//! background level above it.
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

/// Minimum-statistics noise floor of `N` values (bands), in dB.
#[derive(Clone, Debug)]
pub struct NoiseFloor<const N: usize = N_BANDS> {
    sub_len: usize,
    smooth: f32,
    bias_db: f32,
    smoothed: [f32; N],
    current_min: [f32; N],
    history: [[f32; N]; SUBWINDOWS],
    filled: usize,
    pos: usize,
    frames_in_sub: usize,
    floor: [f32; N],
    /// Minimum over the stored sub-windows (recomputed when one completes).
    history_min: [f32; N],
    started: bool,
}

impl<const N: usize> NoiseFloor<N> {
    /// A tracker over a window of `window_frames` frames, smoothing with
    /// time constant `smooth_frames`, adding `bias_db` to the minimum.
    pub fn new(window_frames: usize, smooth_frames: f32, bias_db: f32) -> NoiseFloor<N> {
        NoiseFloor {
            sub_len: (window_frames / SUBWINDOWS).max(1),
            smooth: (-1.0 / smooth_frames.max(0.5)).exp(),
            bias_db,
            smoothed: [FLOOR_DB; N],
            current_min: [f32::INFINITY; N],
            history: [[f32::INFINITY; N]; SUBWINDOWS],
            filled: 0,
            pos: 0,
            frames_in_sub: 0,
            floor: [FLOOR_DB; N],
            history_min: [f32::INFINITY; N],
            started: false,
        }
    }

    /// Updates with one frame of values (dB) and returns the floor.
    pub fn update(&mut self, bands: &[f32; N]) -> &[f32; N] {
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
            self.current_min = [f32::INFINITY; N];
            self.frames_in_sub = 0;
            self.history_min = [f32::INFINITY; N];
            for h in &self.history[..self.filled] {
                for (m, &v) in self.history_min.iter_mut().zip(h) {
                    *m = m.min(v);
                }
            }
        }
        for ((f, &c), &h) in self
            .floor
            .iter_mut()
            .zip(&self.current_min)
            .zip(&self.history_min)
        {
            let m = c.min(h);
            *f = if m.is_finite() {
                m + self.bias_db
            } else {
                FLOOR_DB
            };
        }
        &self.floor
    }

    /// The current floor.
    pub fn floor(&self) -> &[f32; N] {
        &self.floor
    }
}

/// The mean background level per band: an average that moves fast where
/// the channel's speaker is silent and slowly where they speak, held between
/// the tracked minimum and `cap_db` above it.
///
/// The minimum tracker alone sits at the *bottom* of the background's
/// fluctuations; for a fluctuating background (babble, traffic) the mean is
/// several dB higher, and measuring speech against the minimum makes every
/// bump of the background look like speech. The detector therefore feeds
/// back whether the previous frame looked like speech: the average adapts
/// with time constant `tau` in the background and `slow_tau` in speech (so
/// a background mistaken for speech is still learned, in seconds). The
/// minimum bounds it from below, and from above at `cap_db` over the
/// minimum: a call that opens with speech cannot teach the estimate that
/// the speech is the background.
#[derive(Clone, Debug)]
pub struct NoiseLevel {
    floor: NoiseFloor,
    cap_db: f32,
    alpha: f32,
    alpha_slow: f32,
    level: [f32; N_BANDS],
    frames: u32,
}

impl NoiseLevel {
    /// `window_frames` of minimum tracking; time constants in frames where
    /// speech is absent (`tau`) and present (`slow_tau`); at most `cap_db`
    /// above the minimum.
    pub fn new(window_frames: usize, tau: f32, slow_tau: f32, cap_db: f32) -> NoiseLevel {
        NoiseLevel {
            floor: NoiseFloor::new(window_frames, 3.0, 0.0),
            cap_db,
            alpha: (-1.0 / tau.max(1.0)).exp(),
            alpha_slow: (-1.0 / slow_tau.max(1.0)).exp(),
            level: [FLOOR_DB; N_BANDS],
            frames: 0,
        }
    }

    /// Updates with one frame of band energies (dB) and whether the frame
    /// before looked like speech; returns the background level.
    pub fn update(&mut self, bands: &[f32; N_BANDS], speech: bool) -> &[f32; N_BANDS] {
        let floor = *self.floor.update(bands);
        self.frames = self.frames.saturating_add(1);
        if self.frames == 1 {
            self.level = *bands;
        }
        let a = if speech { self.alpha_slow } else { self.alpha };
        for ((l, &x), &f) in self.level.iter_mut().zip(bands).zip(&floor) {
            *l = (a * *l + (1.0 - a) * x).clamp(f, f + self.cap_db);
        }
        &self.level
    }

    /// The current background level per band.
    pub fn level(&self) -> &[f32; N_BANDS] {
        &self.level
    }

    /// The current minimum per band.
    pub fn floor(&self) -> &[f32; N_BANDS] {
        self.floor.floor()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_the_background_under_bursts() {
        let mut nf: NoiseFloor = NoiseFloor::new(200, 3.0, 0.0);
        // Background at −60 dB with 300 ms bursts at −20 dB every second.
        for t in 0..1000 {
            let level = if t % 100 < 30 { -20.0 } else { -60.0 };
            nf.update(&[level; N_BANDS]);
        }
        assert!((nf.floor()[0] + 60.0).abs() < 1.0, "{}", nf.floor()[0]);
    }

    #[test]
    fn level_sits_at_the_mean_of_a_fluctuating_background() {
        let mut nl = NoiseLevel::new(200, 30.0, 400.0, 12.0);
        let mut seed = 5u32;
        for t in 0..3000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            // Background −50 dB ± 4 dB; speech bursts at −20 dB.
            let jitter = ((seed >> 16) % 9) as f32 - 4.0;
            let speech = t % 200 < 60;
            let level = if speech { -20.0 } else { -50.0 + jitter };
            nl.update(&[level; N_BANDS], speech);
        }
        let l = nl.level()[0];
        assert!((l + 50.0).abs() < 2.0, "level {l}");
        assert!(nl.floor()[0] < l - 2.0, "the minimum is below the mean");
    }

    #[test]
    fn follows_a_rising_background_within_the_window() {
        let mut nf: NoiseFloor = NoiseFloor::new(120, 2.0, 0.0);
        for _ in 0..300 {
            nf.update(&[-70.0; N_BANDS]);
        }
        for _ in 0..200 {
            nf.update(&[-40.0; N_BANDS]);
        }
        assert!((nf.floor()[3] + 40.0).abs() < 1.0, "{}", nf.floor()[3]);
    }
}
