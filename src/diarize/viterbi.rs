//! Frame labels from frame scores: the best path through a small hidden
//! Markov model with minimum durations.
//!
//! Each state (a speaker, or two speakers at once) is a chain of
//! `min_frames` sub-states that must be walked through before the state can
//! be left, so no label lasts less than its minimum — except at the edges
//! of a stretch of speech, where a state may start or end mid-chain (a
//! stretch can be shorter than any minimum). Leaving state `a` for `b`
//! costs `switch[a][b]` (in the units of the scores: natural log of
//! likelihood); an infinite cost forbids the move.

/// The model: minimum durations and switching costs.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// Minimum frames per state (at least 1).
    pub min_frames: Vec<usize>,
    /// `switch[a * states + b]`: cost of leaving `a` for `b` (diagonal unused).
    pub switch: Vec<f32>,
    /// Cost of starting a stretch in each state.
    pub start: Vec<f32>,
}

impl Topology {
    /// Number of states.
    pub fn states(&self) -> usize {
        self.min_frames.len()
    }
}

/// Reusable buffers of the decoder.
#[derive(Default)]
pub struct Viterbi {
    delta: Vec<f32>,
    next: Vec<f32>,
    back: Vec<u16>,
}

impl Viterbi {
    /// Decodes one stretch: `scores` holds `states` values per frame; the
    /// best state of each frame is written to `out` (cleared first).
    pub fn decode(&mut self, topo: &Topology, scores: &[f32], out: &mut Vec<u8>) {
        out.clear();
        let k = topo.states();
        if k == 0 || scores.is_empty() {
            return;
        }
        let t_len = scores.len() / k;
        let base: Vec<usize> = topo
            .min_frames
            .iter()
            .scan(0usize, |acc, &d| {
                let b = *acc;
                *acc += d.max(1);
                Some(b)
            })
            .collect();
        let len: Vec<usize> = topo.min_frames.iter().map(|&d| d.max(1)).collect();
        let total: usize = len.iter().sum();
        let owner: Vec<usize> = (0..k)
            .flat_map(|s| std::iter::repeat_n(s, len[s]))
            .collect();
        self.delta.clear();
        self.delta.resize(total, f32::NEG_INFINITY);
        self.next.clear();
        self.next.resize(total, f32::NEG_INFINITY);
        self.back.clear();
        self.back.resize(t_len * total, 0);
        // A stretch may begin anywhere in a chain (it may have started
        // before the speech did); starting at its head costs nothing more.
        for s in 0..k {
            for i in 0..len[s] {
                self.delta[base[s] + i] = scores[s] - topo.start[s];
            }
        }
        for t in 1..t_len {
            let row = &scores[t * k..(t + 1) * k];
            let back = &mut self.back[t * total..(t + 1) * total];
            for s in 0..k {
                let (b, l) = (base[s], len[s]);
                // Entry: from the last sub-state of another state.
                let mut best = (f32::NEG_INFINITY, 0usize);
                for a in 0..k {
                    if a == s {
                        continue;
                    }
                    let from = base[a] + len[a] - 1;
                    let v = self.delta[from] - topo.switch[a * k + s];
                    if v > best.0 {
                        best = (v, from);
                    }
                }
                if l == 1 {
                    let stay = self.delta[b];
                    if stay >= best.0 {
                        best = (stay, b);
                    }
                    self.next[b] = best.0 + row[s];
                    back[b] = best.1 as u16;
                    continue;
                }
                self.next[b] = best.0 + row[s];
                back[b] = best.1 as u16;
                for i in 1..l - 1 {
                    self.next[b + i] = self.delta[b + i - 1] + row[s];
                    back[b + i] = (b + i - 1) as u16;
                }
                let last = b + l - 1;
                let (stay, walk) = (self.delta[last], self.delta[last - 1]);
                if stay >= walk {
                    self.next[last] = stay + row[s];
                    back[last] = last as u16;
                } else {
                    self.next[last] = walk + row[s];
                    back[last] = (last - 1) as u16;
                }
            }
            std::mem::swap(&mut self.delta, &mut self.next);
        }
        let mut cur = (0..total)
            .max_by(|&a, &b| self.delta[a].total_cmp(&self.delta[b]))
            .unwrap_or(0);
        out.resize(t_len, 0);
        for t in (0..t_len).rev() {
            out[t] = owner[cur] as u8;
            if t > 0 {
                cur = self.back[t * total + cur] as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topo(min: &[usize], cost: f32) -> Topology {
        let k = min.len();
        Topology {
            min_frames: min.to_vec(),
            switch: vec![cost; k * k],
            start: vec![0.0; k],
        }
    }

    fn scores(pattern: &[u8], margin: f32) -> Vec<f32> {
        pattern
            .iter()
            .flat_map(|&s| (0..2).map(move |k| if k == s { 0.0 } else { -margin }))
            .collect()
    }

    #[test]
    fn clean_scores_give_their_labels() {
        let p = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0];
        let mut v = Viterbi::default();
        let mut out = Vec::new();
        v.decode(&topo(&[2, 2], 1.0), &scores(&p, 5.0), &mut out);
        assert_eq!(out, p);
    }

    #[test]
    fn short_blips_are_absorbed_by_the_minimum_duration() {
        let p = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        let mut v = Viterbi::default();
        let mut out = Vec::new();
        v.decode(&topo(&[3, 3], 0.5), &scores(&p, 2.0), &mut out);
        assert_eq!(out, [0; 10]);
        // With a minimum of one frame and a cheap switch, the blip stays.
        v.decode(&topo(&[1, 1], 0.5), &scores(&p, 2.0), &mut out);
        assert_eq!(out, p);
    }

    #[test]
    fn a_stretch_may_end_mid_chain() {
        let p = [0, 0, 0, 0, 0, 0, 1, 1];
        let mut v = Viterbi::default();
        let mut out = Vec::new();
        v.decode(&topo(&[5, 5], 0.5), &scores(&p, 3.0), &mut out);
        assert_eq!(out, p);
    }

    #[test]
    fn forbidden_moves_are_never_taken() {
        // State 2 is only reachable from 0.
        let k = 3;
        let mut t = topo(&[1, 1, 1], 0.0);
        t.switch[k + 2] = f32::INFINITY;
        let sc: Vec<f32> = [1u8, 1, 2, 2]
            .iter()
            .flat_map(|&s| (0..k).map(move |j| if j as u8 == s { 0.0 } else { -1.0 }))
            .collect();
        let mut v = Viterbi::default();
        let mut out = Vec::new();
        v.decode(&t, &sc, &mut out);
        assert!(out.windows(2).all(|w| !(w[0] == 1 && w[1] == 2)), "{out:?}");
    }
}
