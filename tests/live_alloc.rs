//! The real-time promise of `hearken live`'s audio callback: once the ring
//! is allocated, [`RingWriter::push`] (all the callback does) allocates
//! nothing, whether the samples fit or overflow and are counted as an
//! overrun.
//!
//! Allocations are counted by the global allocator of
//! `tests/counting_alloc` (this is its own test binary).

mod counting_alloc;

use counting_alloc::counted;
use hearken::live::ring::{DeviceCounters, ring};
use std::sync::Arc;
use std::sync::atomic::Ordering;

#[test]
fn the_callback_push_does_not_allocate() {
    // A stereo 48 kHz i16 device, 10 ms callbacks (as ALSA gives them),
    // 3 s of them: the 2 s ring fills and the rest overflows.
    let counters = Arc::new(DeviceCounters::default());
    let (mut writer, reader) = ring(48_000, 2, counters.clone());
    let block: Vec<i16> = (0..960).map(|i| (i * 37 % 2000) as i16 - 1000).collect();
    let (_, n) = counted(|| {
        for _ in 0..300 {
            writer.push(&block, |s| f32::from(s) / 32768.0);
        }
    });
    assert_eq!(n, 0, "{n} allocations in the callback path");
    assert!(counters.overruns.load(Ordering::Relaxed) > 0);
    assert_eq!(counters.dropped.load(Ordering::Relaxed), 300 * 480 - 96_000);
    drop(reader);
}
