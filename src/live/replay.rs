//! A recording played back as if it were a sound card: `--input FILE`.
//!
//! [`ReplaySource`] wraps the file's own reader and releases the audio in
//! 10 ms blocks, each no earlier than the moment a sound card would have
//! delivered it (`--speed N` runs that clock N times faster). Everything
//! downstream — pipeline, meter, events, final report — is the live path
//! itself, so a replay is a faithful demonstration and a test of it on a
//! machine without a sound card.

use super::clock::StreamClock;
use crate::audio::{AudioError, AudioSource, SourceInfo};
use crate::time::Time;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Longest single sleep, so that a stop request is seen promptly.
const MAX_NAP: Duration = Duration::from_millis(20);

/// Releases a recording at the pace of its stream clock.
pub struct ReplaySource {
    inner: Box<dyn AudioSource>,
    info: SourceInfo,
    clock: Arc<StreamClock>,
    stop: Arc<AtomicBool>,
    block: usize,
    limit: Option<u64>,
    delivered: u64,
}

impl ReplaySource {
    /// Replays `inner` on `clock`; `stop` ends the stream early (as Ctrl-C
    /// ends a call); `limit` is the longest stretch played (`--duration`).
    pub fn new(
        inner: Box<dyn AudioSource>,
        clock: Arc<StreamClock>,
        stop: Arc<AtomicBool>,
        limit: Option<Time>,
    ) -> ReplaySource {
        let mut info = inner.info().clone();
        let rate = u64::from(info.sample_rate);
        let limit =
            limit.map(|t| (t.0.max(0) as u64 * rate).div_ceil(u64::from(crate::time::RATE)));
        if let (Some(l), Some(f)) = (limit, info.frames) {
            info.frames = Some(f.min(l));
        }
        ReplaySource {
            block: (info.sample_rate / 100).max(1) as usize,
            inner,
            info,
            clock,
            stop,
            limit,
            delivered: 0,
        }
    }

    /// Stream time of the end of what has been delivered.
    fn delivered_time(&self) -> Time {
        Time(
            (self.delivered as i64 * i64::from(crate::time::RATE))
                / i64::from(self.info.sample_rate),
        )
    }
}

impl AudioSource for ReplaySource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, out: &mut [Vec<f32>], max_frames: usize) -> Result<usize, AudioError> {
        if self.stop.load(Ordering::Relaxed) {
            return Ok(0);
        }
        self.clock.start();
        let left = self
            .limit
            .map_or(u64::MAX, |l| l.saturating_sub(self.delivered));
        let want = (self.block.min(max_frames) as u64).min(left) as usize;
        let mut got = 0;
        while got < want {
            let n = self.inner.read(out, want - got)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        self.delivered += got as u64;
        // A sound card hands a block over once its last sample exists.
        let due = self.delivered_time();
        loop {
            let wait = self.clock.until(due);
            if wait.is_zero() || self.stop.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(wait.min(MAX_NAP));
        }
        Ok(got)
    }

    fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }

    fn live_block_frames(&self) -> Option<usize> {
        Some(self.block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::MemorySource;
    use std::time::Instant;

    fn source(secs: f64, speed: f64, limit: Option<Time>) -> (ReplaySource, Arc<AtomicBool>) {
        let n = (8000.0 * secs) as usize;
        let mem = MemorySource::new(vec![vec![0.1; n], vec![0.2; n]], 8000);
        let stop = Arc::new(AtomicBool::new(false));
        let clock = Arc::new(StreamClock::new(speed));
        (
            ReplaySource::new(Box::new(mem), clock, stop.clone(), limit),
            stop,
        )
    }

    fn drain(src: &mut ReplaySource) -> (usize, usize) {
        let mut out = vec![Vec::new(), Vec::new()];
        let (mut total, mut reads) = (0, 0);
        loop {
            let n = src.read(&mut out, 4096).unwrap();
            if n == 0 {
                return (total, reads);
            }
            assert!(n <= 80, "blocks of 10 ms, got {n}");
            total += n;
            reads += 1;
        }
    }

    #[test]
    fn paces_blocks_of_ten_ms_at_its_speed() {
        let (mut src, _) = source(1.0, 10.0, None);
        assert_eq!(src.live_block_frames(), Some(80));
        let t0 = Instant::now();
        let (total, reads) = drain(&mut src);
        let wall = t0.elapsed().as_secs_f64();
        assert_eq!((total, reads), (8000, 100));
        // One second of audio at ×10: about 0.1 s of wall time.
        assert!((0.09..0.5).contains(&wall), "{wall}");
    }

    #[test]
    fn duration_limit_and_stop_end_the_stream() {
        let (mut src, _) = source(2.0, 1000.0, Some(Time::from_secs(0.5)));
        assert_eq!(src.info().frames, Some(4000));
        assert_eq!(drain(&mut src).0, 4000);
        let (mut src, stop) = source(2.0, 1000.0, None);
        stop.store(true, Ordering::Relaxed);
        assert_eq!(drain(&mut src).0, 0);
    }
}
