//! First guess of who speaks when: short chunks of speech, each described
//! by how it moves the background model, grouped bottom-up.
//!
//! Each stretch of speech is cut into chunks of about a second. A chunk is
//! represented by its *supervector*: the background mixture's means
//! MAP-adapted to the chunk, minus the background means, scaled by
//! `√w / σ` per component (the linear kernel that approximates the KL
//! divergence between the adapted models; Campbell et al. 2006). Two chunks
//! of one voice move the means the same way; after removing the call's
//! average displacement (centring) and normalising lengths, the cosine
//! between supervectors is a voice similarity.
//!
//! Chunks are then merged bottom-up, average linkage weighted by duration,
//! until the wanted number of speakers is left. A cluster holding less than
//! a small share of the speech at that point is an outlier (a cough, a
//! burst of noise, a chunk across a change of speaker): its chunks are set
//! aside and the grouping is redone without them, so that the speakers are
//! not "the call" and "one odd second". The set-aside chunks, like all
//! frames, get their speaker from the resegmentation that follows
//! ([`super::reseg`]).
//!
//! Cost is quadratic in chunks (the similarity matrix) and cubic in merges:
//! at most [`MAX_AHC`] chunks take part; beyond that, an evenly spread
//! subset is grouped and the others join the cluster whose centroid they
//! are closest to.

use super::gmm::{Gmm, Stats};

/// Most chunks grouped bottom-up.
pub const MAX_AHC: usize = 400;

/// A chunk: rows `start..end` of the feature matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// First row.
    pub start: usize,
    /// One past the last row.
    pub end: usize,
}

impl Chunk {
    /// Frames in the chunk.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Cuts runs of consecutive rows into chunks of about `target` rows; runs
/// shorter than `min` rows give no chunk.
pub fn chunks(runs: &[(usize, usize)], target: usize, min: usize) -> Vec<Chunk> {
    let mut out = Vec::new();
    let target = target.max(1);
    for &(s, e) in runs {
        let len = e - s;
        if len < min {
            continue;
        }
        let n = len.div_ceil(target).max(1);
        for i in 0..n {
            let a = s + len * i / n;
            let b = s + len * (i + 1) / n;
            if b - a >= min {
                out.push(Chunk { start: a, end: b });
            }
        }
    }
    out
}

/// The supervector of one chunk (rows of `ubm.dim()` features): the
/// background means MAP-adapted to it, minus the background means, scaled
/// by `√w / σ`.
pub fn supervector(ubm: &Gmm, rows: &[f32], relevance: f32) -> Vec<f32> {
    let (m, dim) = (ubm.components(), ubm.dim());
    let mut st = Stats::new(m, dim);
    ubm.accumulate(rows, &mut st, false);
    (0..m * dim)
        .map(|i| {
            let n = st.n[i / dim];
            let scale = ubm.weights()[i / dim].sqrt() / ubm.vars()[i].sqrt();
            // (f + r μ)/(n + r) − μ = (f − n μ)/(n + r)
            (st.f[i] - n * ubm.means()[i]) / (n + relevance) * scale
        })
        .collect()
}

/// Removes the mean vector and scales every vector to unit length.
pub fn normalise(v: &mut [Vec<f32>]) {
    let Some(len) = v.first().map(Vec::len) else {
        return;
    };
    let mut mean = vec![0.0f32; len];
    for s in v.iter() {
        for (m, x) in mean.iter_mut().zip(s) {
            *m += x;
        }
    }
    let n = v.len() as f32;
    mean.iter_mut().for_each(|m| *m /= n);
    for s in v.iter_mut() {
        for (x, m) in s.iter_mut().zip(&mean) {
            *x -= m;
        }
        let norm = s.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            s.iter_mut().for_each(|x| *x /= norm);
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Average-linkage grouping of `items` (unit vectors, weights `w`) into `k`
/// clusters; returns a cluster index per item (`0..k`, in order of first
/// appearance). Two items whose `pitch` (octaves) is known lose
/// `pitch_weight` of similarity per octave between them.
fn ahc(
    items: &[&[f32]],
    w: &[f32],
    pitch: &[Option<f32>],
    pitch_weight: f32,
    k: usize,
) -> Vec<usize> {
    let n = items.len();
    let mut sim = vec![0.0f32; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let mut s = dot(items[i], items[j]);
            if let (Some(Some(a)), Some(Some(b))) = (pitch.get(i), pitch.get(j)) {
                s -= pitch_weight * (a - b).abs();
            }
            sim[i * n + j] = s;
            sim[j * n + i] = s;
        }
    }
    let mut weight: Vec<f32> = w.to_vec();
    let mut alive = vec![true; n];
    let mut owner: Vec<usize> = (0..n).collect();
    let mut count = n;
    while count > k.max(1) {
        let mut best = (f32::NEG_INFINITY, 0, 0);
        for i in 0..n {
            if !alive[i] {
                continue;
            }
            for j in i + 1..n {
                if alive[j] && sim[i * n + j] > best.0 {
                    best = (sim[i * n + j], i, j);
                }
            }
        }
        let (_, a, b) = best;
        let (wa, wb) = (weight[a], weight[b]);
        for j in 0..n {
            if alive[j] && j != a && j != b {
                let s = (wa * sim[a * n + j] + wb * sim[b * n + j]) / (wa + wb);
                sim[a * n + j] = s;
                sim[j * n + a] = s;
            }
        }
        weight[a] += wb;
        alive[b] = false;
        for o in owner.iter_mut() {
            if *o == b {
                *o = a;
            }
        }
        count -= 1;
    }
    let mut names: Vec<usize> = Vec::new();
    owner
        .iter()
        .map(|o| match names.iter().position(|x| x == o) {
            Some(p) => p,
            None => {
                names.push(*o);
                names.len() - 1
            }
        })
        .collect()
}

/// Groups chunk supervectors into `k` speakers. Returns a label per chunk:
/// `Some(speaker)`, or `None` for outliers set aside. `min_share` is the
/// smallest share of the grouped duration a speaker must hold. `pitch` is
/// each chunk's median pitch in octaves, if voiced enough; two chunks lose
/// `pitch_weight` of similarity per octave between them.
pub fn cluster(
    sv: &[Vec<f32>],
    chunks: &[Chunk],
    k: usize,
    min_share: f32,
    pitch: &[Option<f32>],
    pitch_weight: f32,
) -> Vec<Option<usize>> {
    let n = sv.len();
    let mut labels: Vec<Option<usize>> = vec![None; n];
    if n == 0 || k == 0 {
        return labels;
    }
    if k == 1 {
        return vec![Some(0); n];
    }
    // The chunks that take part in the bottom-up grouping.
    let mut active: Vec<usize> = if n > MAX_AHC {
        (0..MAX_AHC).map(|i| i * n / MAX_AHC).collect()
    } else {
        (0..n).collect()
    };
    let mut result: Vec<usize> = Vec::new();
    for _ in 0..8 {
        if active.len() < k {
            break;
        }
        let items: Vec<&[f32]> = active.iter().map(|&i| sv[i].as_slice()).collect();
        let w: Vec<f32> = active.iter().map(|&i| chunks[i].len() as f32).collect();
        let p: Vec<Option<f32>> = active
            .iter()
            .map(|&i| pitch.get(i).copied().flatten())
            .collect();
        result = ahc(&items, &w, &p, pitch_weight, k);
        let total: f32 = w.iter().sum();
        let mut share = vec![0.0f32; k];
        for (&l, &x) in result.iter().zip(&w) {
            share[l] += x / total;
        }
        if share.iter().all(|&s| s >= min_share) {
            break;
        }
        // Set the small clusters aside and group the rest again.
        let keep: Vec<usize> = active
            .iter()
            .zip(&result)
            .filter(|&(_, &l)| share[l] >= min_share)
            .map(|(&i, _)| i)
            .collect();
        if keep.len() < k || keep.len() == active.len() {
            break;
        }
        active = keep;
        result.clear();
    }
    if result.len() != active.len() {
        return labels;
    }
    for (&i, &l) in active.iter().zip(&result) {
        labels[i] = Some(l);
    }
    // Chunks left out of the grouping (beyond MAX_AHC) join the nearest
    // centroid; outliers set aside stay unlabelled.
    if n > MAX_AHC {
        let dim = sv[0].len();
        let mut centroid = vec![vec![0.0f32; dim]; k];
        for (&i, &l) in active.iter().zip(&result) {
            for (c, x) in centroid[l].iter_mut().zip(&sv[i]) {
                *c += x * chunks[i].len() as f32;
            }
        }
        let sampled: std::collections::HashSet<usize> =
            (0..MAX_AHC).map(|i| i * n / MAX_AHC).collect();
        for i in (0..n).filter(|i| !sampled.contains(i)) {
            let best = (0..k)
                .max_by(|&a, &b| dot(&sv[i], &centroid[a]).total_cmp(&dot(&sv[i], &centroid[b])));
            labels[i] = best;
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_cut_evenly_and_short_ones_skipped() {
        let c = chunks(&[(0, 250), (250, 260), (300, 400)], 100, 30);
        let lens: Vec<usize> = c.iter().map(Chunk::len).collect();
        assert_eq!(lens, [83, 83, 84, 100]);
        assert_eq!(c[0].start, 0);
        assert_eq!(
            c[3],
            Chunk {
                start: 300,
                end: 400
            }
        );
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn two_directions_make_two_speakers_and_an_outlier_is_set_aside() {
        // Speaker A points along x, B along y, with small jitter; one odd
        // chunk points along z.
        let mut sv = Vec::new();
        for i in 0..10 {
            let j = i as f32 * 0.01;
            sv.push(unit(&[1.0, j, 0.0]));
            sv.push(unit(&[j, 1.0, 0.0]));
        }
        sv.push(unit(&[0.0, 0.0, 1.0]));
        let ch: Vec<Chunk> = (0..sv.len())
            .map(|i| Chunk {
                start: i * 100,
                end: i * 100 + 100,
            })
            .collect();
        let l = cluster(&sv, &ch, 2, 0.1, &[], 0.0);
        assert_eq!(l[20], None, "the odd chunk is set aside");
        for i in 0..10 {
            assert_eq!(l[2 * i], l[0]);
            assert_eq!(l[2 * i + 1], l[1]);
        }
        assert_ne!(l[0], l[1]);
    }
}
