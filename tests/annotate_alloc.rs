//! The real-time promise of the annotation hot paths: once built, the pitch
//! tracker and the syllable envelope allocate nothing per frame.
//!
//! Allocations are counted by the global allocator of
//! `tests/counting_alloc` (this is its own test binary).

mod counting_alloc;

use counting_alloc::counted;
use hearken::annotate::pace::{Envelope, SyllableConfig};
use hearken::annotate::pitch::{PitchConfig, PitchTracker};

#[test]
fn pitch_and_envelope_hot_paths_do_not_allocate() {
    // Two seconds of a voiced buzz with noise, fed in 10 ms blocks as a
    // live stream would.
    let mut s = 1u64;
    let x: Vec<f32> = (0..32_000)
        .map(|i| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            let noise = ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.01;
            0.2 * (2.0 * std::f32::consts::PI * 140.0 * i as f32 / 16_000.0).sin() + noise
        })
        .collect();
    let mut tracker = PitchTracker::new(PitchConfig::default()).unwrap();
    let mut env = Envelope::new(&SyllableConfig::default()).unwrap();
    let mut frames = Vec::with_capacity(256);
    let mut levels = Vec::with_capacity(256);
    let (_, n) = counted(|| {
        for block in x.chunks(160) {
            tracker.push(block, &mut frames);
            env.push(block, &mut levels);
        }
    });
    assert!(frames.len() >= 195 && levels.len() == 200);
    assert!(frames[100].hz.is_some());
    assert_eq!(n, 0, "{n} allocations in the hot path");

    // The pipeline's way: frames analysed from their own input.
    let mut tracker = PitchTracker::new(PitchConfig::default()).unwrap();
    let len = tracker.input_len();
    let (voiced, n) = counted(|| {
        (10..190)
            .filter(|&i| {
                let from = tracker.input_start(i) as usize;
                tracker.analyse_at(i, &x[from..from + len]).hz.is_some()
            })
            .count()
    });
    assert_eq!(voiced, 180);
    assert_eq!(n, 0, "{n} allocations analysing frames from their input");
}
