//! Diagonal-covariance Gaussian mixtures: the voice models of diarization.
//!
//! One mixture is trained on all the speech of the call (the *background*
//! model, grown by binary splitting and EM, as the LBG recipe does); each
//! speaker's model is then the background model with its means moved
//! towards that speaker's frames (MAP adaptation, Reynolds et al. 2000),
//! which needs far less data per speaker than training from scratch and
//! keeps the models comparable component by component. Features are
//! expected to be normalised (unit variance per dimension): the variance
//! floor is absolute.

/// Smallest variance of a dimension (features have unit global variance).
const VAR_FLOOR: f32 = 0.01;
/// Smallest weight of a component.
const WEIGHT_FLOOR: f32 = 1e-4;
/// `ln(2π)`.
const LN_2PI: f32 = 1.837_877;

/// A mixture of diagonal Gaussians over `dim`-dimensional vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Gmm {
    dim: usize,
    weights: Vec<f32>,
    /// `means[m * dim + d]`.
    means: Vec<f32>,
    vars: Vec<f32>,
    /// `1 / vars`.
    inv_vars: Vec<f32>,
    /// `ln w_m − ½ Σ_d ln(2π σ²_md)`.
    consts: Vec<f32>,
}

/// Sufficient statistics of frames under a mixture's components.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Occupation per component.
    pub n: Vec<f32>,
    /// First-order sums, `f[m * dim + d]`.
    pub f: Vec<f32>,
    /// Second-order sums (squared features), same layout.
    pub s: Vec<f32>,
}

impl Stats {
    /// Zero statistics for `components` × `dim`.
    pub fn new(components: usize, dim: usize) -> Stats {
        Stats {
            n: vec![0.0; components],
            f: vec![0.0; components * dim],
            s: vec![0.0; components * dim],
        }
    }

    /// Adds another set of statistics.
    pub fn add(&mut self, o: &Stats) {
        for (a, b) in self.n.iter_mut().zip(&o.n) {
            *a += b;
        }
        for (a, b) in self.f.iter_mut().zip(&o.f) {
            *a += b;
        }
        for (a, b) in self.s.iter_mut().zip(&o.s) {
            *a += b;
        }
    }
}

/// A fixed pseudo-random ±1 for component `m`, dimension `d` (see
/// [`Gmm::split`]).
fn split_sign(m: usize, d: usize) -> f32 {
    let h = ((m as u32).wrapping_mul(0x9E37_79B9) ^ (d as u32).wrapping_mul(0x85EB_CA6B))
        .wrapping_mul(0xC2B2_AE35);
    if h >> 31 == 0 { 1.0 } else { -1.0 }
}

/// `ln Σ exp(v)`, robust to large values.
pub fn log_sum_exp(v: &[f32]) -> f32 {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return max;
    }
    max + v.iter().map(|&x| (x - max).exp()).sum::<f32>().ln()
}

impl Gmm {
    /// One Gaussian with the mean and variance of `data` (rows of `dim`).
    pub fn single(data: &[f32], dim: usize) -> Gmm {
        let n = (data.len() / dim.max(1)).max(1) as f32;
        let mut mean = vec![0.0f32; dim];
        let mut sq = vec![0.0f32; dim];
        for row in data.chunks_exact(dim) {
            for d in 0..dim {
                mean[d] += row[d];
                sq[d] += row[d] * row[d];
            }
        }
        let vars = (0..dim)
            .map(|d| {
                let m = mean[d] / n;
                (sq[d] / n - m * m).max(VAR_FLOOR)
            })
            .collect();
        mean.iter_mut().for_each(|m| *m /= n);
        Gmm::from_parts(dim, vec![1.0], mean, vars)
    }

    /// A mixture from its parameters (`means` and `vars` are `weights.len()`
    /// rows of `dim`); variances are floored and weights normalised.
    pub fn from_parts(dim: usize, weights: Vec<f32>, means: Vec<f32>, vars: Vec<f32>) -> Gmm {
        let mut g = Gmm {
            dim,
            inv_vars: vec![0.0; vars.len()],
            consts: vec![0.0; weights.len()],
            weights,
            means,
            vars,
        };
        g.refresh();
        g
    }

    fn refresh(&mut self) {
        let total: f32 = self.weights.iter().sum();
        for w in &mut self.weights {
            *w = (*w / total.max(f32::MIN_POSITIVE)).max(WEIGHT_FLOOR);
        }
        for v in &mut self.vars {
            *v = v.max(VAR_FLOOR);
        }
        for (iv, v) in self.inv_vars.iter_mut().zip(&self.vars) {
            *iv = 1.0 / v;
        }
        let dim = self.dim;
        for (m, c) in self.consts.iter_mut().enumerate() {
            let logdet: f32 = self.vars[m * dim..(m + 1) * dim]
                .iter()
                .map(|v| v.ln())
                .sum();
            *c = self.weights[m].ln() - 0.5 * (dim as f32 * LN_2PI + logdet);
        }
    }

    /// Trains a mixture of `components` Gaussians on `data`: binary
    /// splitting from one Gaussian, `iters_per_split` EM iterations after
    /// each split and `final_iters` at the end. Deterministic.
    pub fn train(
        data: &[f32],
        dim: usize,
        components: usize,
        iters_per_split: usize,
        final_iters: usize,
    ) -> Gmm {
        let mut g = Gmm::single(data, dim);
        while g.components() < components {
            g = g.split(components);
            for _ in 0..iters_per_split {
                g = g.em_step(data);
            }
        }
        for _ in 0..final_iters {
            g = g.em_step(data);
        }
        g
    }

    /// Doubles the components (up to `max`), the heaviest first, moving the
    /// two halves ±0.2 σ apart along every dimension. The sign of the shift
    /// varies with the dimension (a fixed pseudo-random pattern): shifting
    /// every dimension the same way moves the halves along the diagonal
    /// only, and data whose clusters differ across that diagonal (one
    /// dimension up, another down) would leave EM stuck on a saddle.
    fn split(&self, max: usize) -> Gmm {
        let dim = self.dim;
        let mut order: Vec<usize> = (0..self.components()).collect();
        order.sort_by(|&a, &b| self.weights[b].total_cmp(&self.weights[a]));
        let room = max - self.components();
        let (mut w, mut mu, mut var) =
            (self.weights.clone(), self.means.clone(), self.vars.clone());
        for &m in order.iter().take(room) {
            let row = m * dim..(m + 1) * dim;
            let (mean, v) = (&self.means[row.clone()], &self.vars[row]);
            w[m] *= 0.5;
            w.push(self.weights[m] * 0.5);
            for d in 0..dim {
                let eps = 0.2 * v[d].sqrt() * split_sign(m, d);
                mu[m * dim + d] = mean[d] - eps;
                mu.push(mean[d] + eps);
                var.push(v[d]);
            }
        }
        Gmm::from_parts(dim, w, mu, var)
    }

    /// Number of components.
    pub fn components(&self) -> usize {
        self.weights.len()
    }

    /// Dimension of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The means, one row of [`Gmm::dim`] per component.
    pub fn means(&self) -> &[f32] {
        &self.means
    }

    /// The variances, laid out as the means.
    pub fn vars(&self) -> &[f32] {
        &self.vars
    }

    /// The weights.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// Per-component joint log densities `ln w_m N(x; μ_m, Σ_m)` into `out`;
    /// returns their log-sum (the frame's log-likelihood).
    pub fn component_log_probs(&self, x: &[f32], out: &mut [f32]) -> f32 {
        for (m, o) in out.iter_mut().enumerate().take(self.components()) {
            *o = self.log_density(x, m);
        }
        log_sum_exp(&out[..self.components()])
    }

    /// Writes the indices of the `out.len()` components with the highest
    /// joint density for `x` into `out`, best first (`scratch` is reused).
    pub fn shortlist(&self, x: &[f32], scratch: &mut Vec<f32>, out: &mut [u8]) {
        scratch.resize(self.components(), 0.0);
        self.component_log_probs(x, scratch);
        for slot in out.iter_mut() {
            let (best, _) =
                scratch
                    .iter()
                    .enumerate()
                    .fold((0usize, f32::NEG_INFINITY), |acc, (m, &v)| {
                        if v > acc.1 { (m, v) } else { acc }
                    });
            *slot = best as u8;
            scratch[best] = f32::NEG_INFINITY;
        }
    }

    /// The log-likelihood of `x` over the components in `list` only (the
    /// rest contribute little for a model adapted from the one that made
    /// the shortlist; Reynolds et al. 2000 score the same way).
    pub fn shortlist_ll(&self, x: &[f32], list: &[u8]) -> f32 {
        let mut lp = [f32::NEG_INFINITY; 16];
        let n = self.shortlist_log_densities(x, list, &mut lp);
        log_sum_exp(&lp[..n])
    }

    /// `ln w_m N(x; μ_m, Σ_m)` of the components in `list` (at most 16)
    /// into `lp`; returns how many were written.
    fn shortlist_log_densities(&self, x: &[f32], list: &[u8], lp: &mut [f32; 16]) -> usize {
        for (o, &m) in lp.iter_mut().zip(list) {
            *o = self.log_density(x, m as usize);
        }
        list.len().min(16)
    }

    /// `ln w_m N(x; μ_m, Σ_m)` of component `m` (diagonal covariance).
    fn log_density(&self, x: &[f32], m: usize) -> f32 {
        let dim = self.dim;
        let mu = &self.means[m * dim..(m + 1) * dim];
        let iv = &self.inv_vars[m * dim..(m + 1) * dim];
        let q: f32 = x
            .iter()
            .zip(mu)
            .zip(iv)
            .map(|((&xd, &md), &ivd)| {
                let e = xd - md;
                e * e * ivd
            })
            .sum();
        self.consts[m] - 0.5 * q
    }

    /// Accumulates zeroth- and first-order statistics of `x` with the
    /// posteriors restricted to the components in `list`.
    pub fn accumulate_shortlist(&self, x: &[f32], list: &[u8], stats: &mut Stats) {
        let dim = self.dim;
        let mut lp = [f32::NEG_INFINITY; 16];
        let n = self.shortlist_log_densities(x, list, &mut lp);
        let ll = log_sum_exp(&lp[..n]);
        for (i, &m) in list.iter().enumerate().take(n) {
            let g = (lp[i] - ll).exp();
            let m = m as usize;
            stats.n[m] += g;
            for (f, &xd) in stats.f[m * dim..(m + 1) * dim].iter_mut().zip(x) {
                *f += g * xd;
            }
        }
    }

    /// The log-likelihood of one vector.
    pub fn log_likelihood(&self, x: &[f32], scratch: &mut Vec<f32>) -> f32 {
        scratch.resize(self.components(), 0.0);
        self.component_log_probs(x, scratch)
    }

    /// Accumulates the statistics of `data` (rows) under this mixture's
    /// posteriors into `stats`; `second` also accumulates squares. Returns
    /// the total log-likelihood.
    pub fn accumulate(&self, data: &[f32], stats: &mut Stats, second: bool) -> f64 {
        let dim = self.dim;
        let mut lp = vec![0.0f32; self.components()];
        let mut total = 0.0f64;
        for x in data.chunks_exact(dim) {
            let ll = self.component_log_probs(x, &mut lp);
            total += f64::from(ll);
            for (m, &l) in lp.iter().enumerate() {
                let g = (l - ll).exp();
                if g < 1e-5 {
                    continue;
                }
                stats.n[m] += g;
                let f = &mut stats.f[m * dim..(m + 1) * dim];
                for d in 0..dim {
                    f[d] += g * x[d];
                }
                if second {
                    let s = &mut stats.s[m * dim..(m + 1) * dim];
                    for d in 0..dim {
                        s[d] += g * x[d] * x[d];
                    }
                }
            }
        }
        total
    }

    /// One EM iteration on `data`. A component that loses all its frames
    /// keeps its previous parameters.
    pub fn em_step(&self, data: &[f32]) -> Gmm {
        let (k, dim) = (self.components(), self.dim);
        let mut st = Stats::new(k, dim);
        self.accumulate(data, &mut st, true);
        self.from_stats(&st)
    }

    /// Maximum-likelihood parameters from accumulated statistics.
    pub fn from_stats(&self, st: &Stats) -> Gmm {
        let (k, dim) = (self.components(), self.dim);
        let total: f32 = st.n.iter().sum();
        let mut w = self.weights.clone();
        let mut mu = self.means.clone();
        let mut var = self.vars.clone();
        for m in 0..k {
            let n = st.n[m];
            if n < 1.0 {
                continue;
            }
            w[m] = n / total.max(1.0);
            for d in 0..dim {
                let mean = st.f[m * dim + d] / n;
                mu[m * dim + d] = mean;
                var[m * dim + d] = st.s[m * dim + d] / n - mean * mean;
            }
        }
        Gmm::from_parts(dim, w, mu, var)
    }

    /// This mixture with its means MAP-adapted to statistics `st` gathered
    /// under it: `μ' = (f + r μ) / (n + r)` per component.
    pub fn adapt_means(&self, st: &Stats, relevance: f32) -> Gmm {
        let dim = self.dim;
        let mut mu = self.means.clone();
        for m in 0..self.components() {
            let n = st.n[m];
            for d in 0..dim {
                mu[m * dim + d] =
                    (st.f[m * dim + d] + relevance * self.means[m * dim + d]) / (n + relevance);
            }
        }
        let mut g = self.clone();
        g.means = mu;
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two well separated 2-D clusters, deterministic.
    fn two_blobs() -> Vec<f32> {
        let mut v = Vec::new();
        let mut s = 12345u32;
        let mut r = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) - 0.5
        };
        for i in 0..2000 {
            let c = if i % 3 == 0 { 3.0 } else { -2.0 };
            v.push(c + r());
            v.push(-c + r());
        }
        v
    }

    #[test]
    fn em_finds_two_blobs() {
        let data = two_blobs();
        let g = Gmm::train(&data, 2, 2, 5, 5);
        let mut means: Vec<(f32, f32)> = g.means.chunks(2).map(|m| (m[0], m[1])).collect();
        means.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!((means[0].0 + 2.0).abs() < 0.1 && (means[1].0 - 3.0).abs() < 0.1);
        let mut w = g.weights.clone();
        w.sort_by(f32::total_cmp);
        assert!((w[0] - 1.0 / 3.0).abs() < 0.02, "{w:?}");
        // The likelihood rises from one Gaussian to two.
        let one = Gmm::single(&data, 2);
        let mut s = Vec::new();
        let ll = |g: &Gmm, s: &mut Vec<f32>| -> f32 {
            data.chunks(2).map(|x| g.log_likelihood(x, s)).sum()
        };
        assert!(ll(&g, &mut s) > ll(&one, &mut s) + 100.0);
    }

    #[test]
    fn map_adaptation_moves_means_towards_the_data() {
        let data = two_blobs();
        let ubm = Gmm::train(&data, 2, 2, 5, 5);
        let shifted: Vec<f32> = data.iter().map(|x| x + 1.0).collect();
        let mut st = Stats::new(2, 2);
        ubm.accumulate(&shifted, &mut st, false);
        let a = ubm.adapt_means(&st, 16.0);
        for (m0, m1) in ubm.means.iter().zip(&a.means) {
            let moved = m1 - m0;
            assert!(moved > 0.8 && moved < 1.01, "moved {moved}");
        }
        assert_eq!(a.vars, ubm.vars);
    }

    #[test]
    fn log_sum_exp_is_stable() {
        assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f32.ln())).abs() < 1e-3);
        assert_eq!(log_sum_exp(&[f32::NEG_INFINITY]), f32::NEG_INFINITY);
    }
}
