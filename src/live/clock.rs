//! Stream time as the wall clock sees it.
//!
//! A live source delivers audio as it happens: the sample at stream time
//! `t` exists from wall time `start + t` on. A replay at `--speed N` keeps
//! the same relation with the wall clock running N times faster. The clock
//! starts when the source delivers its first block; every event the meter
//! emits is stamped with [`StreamClock::now`], so latency is measured in the
//! stream's own time whatever the speed.

use crate::time::Time;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The wall clock, scaled by the replay speed, from the stream's start.
#[derive(Debug)]
pub struct StreamClock {
    start: OnceLock<Instant>,
    speed: f64,
}

impl StreamClock {
    /// A clock running `speed` times faster than the wall clock (1 for a
    /// sound card). Speeds that are not positive numbers count as 1.
    pub fn new(speed: f64) -> StreamClock {
        StreamClock {
            start: OnceLock::new(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    /// The speed.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Starts the clock (the first call wins; later calls do nothing).
    pub fn start(&self) {
        let _ = self.start.get_or_init(Instant::now);
    }

    /// Whether the clock has started.
    pub fn started(&self) -> bool {
        self.start.get().is_some()
    }

    /// Stream time now: zero before the start.
    pub fn now(&self) -> Time {
        match self.start.get() {
            Some(s) => Time::from_secs(s.elapsed().as_secs_f64() * self.speed),
            None => Time::ZERO,
        }
    }

    /// How long to wait, in wall time, until stream time `t` (zero when it
    /// has passed or the clock has not started).
    pub fn until(&self, t: Time) -> Duration {
        let ahead = (t - self.now()).secs() / self.speed;
        if self.started() && ahead > 0.0 {
            Duration::from_secs_f64(ahead)
        } else {
            Duration::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_at_its_speed_from_the_start() {
        let c = StreamClock::new(10.0);
        assert_eq!(c.now(), Time::ZERO);
        assert_eq!(c.until(Time::from_secs(5.0)), Duration::ZERO);
        c.start();
        std::thread::sleep(Duration::from_millis(20));
        let t = c.now().secs();
        assert!(t >= 0.2, "{t}");
        let wait = c.until(Time::from_secs(t + 1.0));
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert_eq!(StreamClock::new(-3.0).speed(), 1.0);
    }
}
