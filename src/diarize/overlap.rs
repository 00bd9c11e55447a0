//! Overlapped speech: frames where two voices sound at once, recognised by
//! a model of what the two voices of *this* call sound like together.
//!
//! Band powers of independent sources add. Given frames the resegmentation
//! attributes to speaker A alone and to speaker B alone, adding the powers
//! of an A frame and a B frame, band by band, gives a frame that sounds as
//! A and B talking together would (at their actual levels in the call, so
//! the level of the sum is right too). Stretches of such synthetic frames,
//! run through the same cepstra, deltas and normalisation as real frames,
//! train a third model next to A's and B's; the decoder then labels each
//! frame A, B or both. This needs no training data beyond the call itself,
//! adapts to any pair of voices and any line, and is how model-based
//! overlap detectors build their overlap class (the mixing in the
//! log-spectral domain follows the "log-max"/"log-add" approximation of
//! model combination, Gales & Young 1996, exact here because powers, not
//! amplitudes, are added).
//!
//! Mixed stretches pair a piece of an A run with a piece of a B run of the
//! same length, so deltas see natural trajectories of both voices.

use super::frontend::N_MEL;

/// A small deterministic generator (SplitMix64): reproducible reports.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Band levels (dB) of two sounds played together.
pub fn mix_db(a: &[f32; N_MEL], b: &[f32; N_MEL]) -> [f32; N_MEL] {
    let mut out = [0.0; N_MEL];
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let (hi, lo) = if x > y { (x, y) } else { (y, x) };
        // 10·log10(10^(hi/10) + 10^(lo/10)) = hi + 10·log10(1 + 10^((lo−hi)/10))
        *o = hi + 10.0 * (1.0 + 10f32.powf((lo - hi) / 10.0)).log10();
    }
    out
}

/// Synthesises up to `frames` frames of A and B together: returns stretches
/// of mixed band levels. `a` and `b` are stretches (runs of consecutive
/// frames) of each voice alone; pieces of `piece` frames (or shorter, when
/// runs are shorter) are paired at random.
pub fn synthesise(
    a: &[Vec<[f32; N_MEL]>],
    b: &[Vec<[f32; N_MEL]>],
    frames: usize,
    piece: usize,
    rng: &mut Rng,
) -> Vec<Vec<[f32; N_MEL]>> {
    let mut out = Vec::new();
    let usable = |v: &[Vec<[f32; N_MEL]>]| -> Vec<usize> {
        (0..v.len()).filter(|&i| v[i].len() >= 5).collect()
    };
    let (ua, ub) = (usable(a), usable(b));
    if ua.is_empty() || ub.is_empty() {
        return out;
    }
    let mut made = 0;
    // Enough attempts for the target even with short runs; bounded.
    for _ in 0..frames.max(1) * 4 {
        if made >= frames {
            break;
        }
        let ra = &a[ua[rng.below(ua.len())]];
        let rb = &b[ub[rng.below(ub.len())]];
        let len = piece.min(ra.len()).min(rb.len());
        let sa = rng.below(ra.len() - len + 1);
        let sb = rng.below(rb.len() - len + 1);
        let run: Vec<[f32; N_MEL]> = (0..len).map(|i| mix_db(&ra[sa + i], &rb[sb + i])).collect();
        made += run.len();
        out.push(run);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_powers_add_three_decibels_and_a_quiet_one_adds_little() {
        let m = mix_db(&[-30.0; N_MEL], &[-30.0; N_MEL]);
        assert!((m[0] - (-30.0 + 3.0103)).abs() < 1e-3);
        let m = mix_db(&[-30.0; N_MEL], &[-60.0; N_MEL]);
        assert!((m[5] - (-30.0)).abs() < 0.01);
    }

    #[test]
    fn synthesis_pairs_pieces_of_both_voices() {
        let a = vec![vec![[-20.0f32; N_MEL]; 40]];
        let b = vec![vec![[-80.0f32; N_MEL]; 12], vec![[-20.0f32; N_MEL]; 3]];
        let mut rng = Rng::new(7);
        let s = synthesise(&a, &b, 100, 30, &mut rng);
        let n: usize = s.iter().map(Vec::len).sum();
        assert!((100..112).contains(&n), "{n}");
        // Only the 12-frame run of B is long enough to use.
        assert!(s.iter().all(|r| r.len() == 12));
        assert!((s[0][0][0] - (-20.0)).abs() < 0.01);
        // Deterministic.
        let again = synthesise(&a, &b, 100, 30, &mut Rng::new(7));
        assert_eq!(s, again);
    }
}
