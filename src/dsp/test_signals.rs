//! Signals for the unit tests of the analysis stages.

/// `n` samples of uniform white noise in `[-amp, amp)`, reproducible from
/// `seed` (a 64-bit linear congruential generator).
pub(crate) fn noise(n: usize, amp: f32, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 2.0 * amp
        })
        .collect()
}
