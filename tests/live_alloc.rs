//! The real-time promise of `hearken live`'s audio callback: once the ring
//! is allocated, [`RingWriter::push`] (all the callback does) allocates
//! nothing, whether the samples fit or overflow and are counted as an
//! overrun.
//!
//! A counting global allocator wraps the system one and counts allocations
//! made by this thread while a flag is up. Its own test binary, so no other
//! test's allocations get in the way.

use hearken::live::ring::{DeviceCounters, ring};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
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
