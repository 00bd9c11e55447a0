//! The real-time promise of the annotation hot paths: once built, the pitch
//! tracker and the syllable envelope allocate nothing per frame.
//!
//! A counting global allocator wraps the system one and counts allocations
//! made by this thread while a flag is up. Its own test binary, so no other
//! test's allocations get in the way.

use hearken::annotate::pace::{Envelope, SyllableConfig};
use hearken::annotate::pitch::{PitchConfig, PitchTracker};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping touches only an atomic and a const-initialised thread-local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

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
}
