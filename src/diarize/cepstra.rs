//! From stored log-mel frames to the normalised cepstral vectors the voice
//! models see.
//!
//! Per frame: the DCT of the [`N_MEL`] log-mel bands gives [`N_CEP`]
//! cepstra (c0, the level, included: two parties of a call rarely sit at
//! the same level, and an overlap is louder than either voice alone), and
//! their deltas (a ±2-frame regression, within each run of consecutive
//! speech frames). Every dimension is then normalised to zero mean and unit
//! variance over the call's speech (cepstral mean and variance
//! normalisation), which removes the line's colouring and makes the
//! mixtures' variance floor meaningful. The same transform is applied to
//! synthesised overlap frames, so [`Normaliser`] is kept.

use super::frontend::{MelBytes, N_MEL, decode_db};

/// Cepstra per frame (c0..c19).
pub const N_CEP: usize = 20;
/// Dimension of a feature vector: cepstra and their deltas.
pub const DIM: usize = 2 * N_CEP;
/// Half-width of the delta regression, frames.
const DELTA_N: usize = 2;

/// The DCT-II basis, `N_CEP` rows of `N_MEL` (orthonormal scaling).
pub struct Dct {
    basis: Vec<f32>,
}

impl Default for Dct {
    fn default() -> Self {
        Dct::new()
    }
}

impl Dct {
    /// Precomputes the basis.
    pub fn new() -> Dct {
        let b = N_MEL as f32;
        let mut basis = Vec::with_capacity(N_CEP * N_MEL);
        for k in 0..N_CEP {
            let scale = if k == 0 {
                (1.0 / b).sqrt()
            } else {
                (2.0 / b).sqrt()
            };
            for j in 0..N_MEL {
                let a = std::f32::consts::PI * k as f32 * (j as f32 + 0.5) / b;
                basis.push(scale * a.cos());
            }
        }
        Dct { basis }
    }

    /// Cepstra of bands given in dB.
    pub fn cepstra(&self, db: &[f32; N_MEL], out: &mut [f32]) {
        for (k, o) in out.iter_mut().enumerate().take(N_CEP) {
            let row = &self.basis[k * N_MEL..(k + 1) * N_MEL];
            // dB → a natural-log scale keeps values near unit size.
            *o = row.iter().zip(db).map(|(w, x)| w * x).sum::<f32>() * 0.115_129_25;
        }
    }
}

/// Band bytes to dB.
pub fn bands_db(b: &MelBytes) -> [f32; N_MEL] {
    let mut out = [0.0; N_MEL];
    for (o, &x) in out.iter_mut().zip(b) {
        *o = decode_db(x);
    }
    out
}

/// Static cepstra of a run of frames followed by their deltas, unnormalised:
/// `out` gets `run.len()` rows of [`DIM`].
pub fn run_features(dct: &Dct, run: &[[f32; N_MEL]], out: &mut Vec<f32>) {
    let n = run.len();
    let mut stat = vec![0.0f32; n * N_CEP];
    for (t, db) in run.iter().enumerate() {
        dct.cepstra(db, &mut stat[t * N_CEP..(t + 1) * N_CEP]);
    }
    let norm: f32 = 2.0 * (1..=DELTA_N).map(|k| (k * k) as f32).sum::<f32>();
    for t in 0..n {
        out.extend_from_slice(&stat[t * N_CEP..(t + 1) * N_CEP]);
        for d in 0..N_CEP {
            let mut acc = 0.0f32;
            for k in 1..=DELTA_N {
                let (a, b) = ((t + k).min(n - 1), t.saturating_sub(k));
                acc += k as f32 * (stat[a * N_CEP + d] - stat[b * N_CEP + d]);
            }
            out.push(acc / norm);
        }
    }
}

/// Mean and standard deviation per dimension, to normalise vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Normaliser {
    mean: Vec<f32>,
    inv_sd: Vec<f32>,
}

/// Running sums for a [`Normaliser`], fed stretch by stretch.
#[derive(Clone, Debug)]
pub struct Moments {
    s: Vec<f64>,
    q: Vec<f64>,
    n: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            s: vec![0.0; DIM],
            q: vec![0.0; DIM],
            n: 0.0,
        }
    }
}

impl Moments {
    /// Adds rows of [`DIM`].
    pub fn add(&mut self, data: &[f32]) {
        for row in data.chunks_exact(DIM) {
            for ((s, q), &x) in self.s.iter_mut().zip(self.q.iter_mut()).zip(row) {
                let x = f64::from(x);
                *s += x;
                *q += x * x;
            }
            self.n += 1.0;
        }
    }

    /// The normaliser of everything added.
    pub fn finish(&self) -> Normaliser {
        let n = self.n.max(1.0);
        let mean: Vec<f32> = self.s.iter().map(|v| (v / n) as f32).collect();
        let inv_sd = (0..DIM)
            .map(|d| {
                let m = self.s[d] / n;
                let v = (self.q[d] / n - m * m).max(1e-8);
                (1.0 / v.sqrt()) as f32
            })
            .collect();
        Normaliser { mean, inv_sd }
    }
}

impl Normaliser {
    /// Fits the normaliser to `data` (rows of [`DIM`]).
    pub fn fit(data: &[f32]) -> Normaliser {
        let mut m = Moments::default();
        m.add(data);
        m.finish()
    }

    /// Normalises rows in place.
    pub fn apply(&self, data: &mut [f32]) {
        for row in data.chunks_exact_mut(DIM) {
            for ((x, m), k) in row.iter_mut().zip(&self.mean).zip(&self.inv_sd) {
                *x = (*x - m) * k;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_spectrum_has_only_c0() {
        let dct = Dct::new();
        let mut c = [0.0; N_CEP];
        dct.cepstra(&[-40.0; N_MEL], &mut c);
        assert!(c[0] < 0.0);
        assert!(c[1..].iter().all(|x| x.abs() < 1e-4), "{c:?}");
    }

    #[test]
    fn deltas_of_a_ramp_are_its_slope_and_normalised_data_is_standard() {
        let dct = Dct::new();
        let run: Vec<[f32; N_MEL]> = (0..20).map(|t| [-60.0 + t as f32; N_MEL]).collect();
        let mut f = Vec::new();
        run_features(&dct, &run, &mut f);
        assert_eq!(f.len(), 20 * DIM);
        // c0 rises by sqrt(N_MEL)·0.115 per frame; its delta in the middle
        // of the run is that slope.
        let slope = (N_MEL as f32).sqrt() * 0.115_129_25;
        assert!((f[10 * DIM + N_CEP] - slope).abs() < 1e-3);
        let norm = Normaliser::fit(&f);
        let mut g = f.clone();
        norm.apply(&mut g);
        let mean0: f32 = g.chunks(DIM).map(|r| r[0]).sum::<f32>() / 20.0;
        let var0: f32 = g.chunks(DIM).map(|r| r[0] * r[0]).sum::<f32>() / 20.0;
        assert!(mean0.abs() < 1e-4 && (var0 - 1.0).abs() < 1e-3);
    }
}
