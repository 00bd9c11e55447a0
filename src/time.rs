//! Time inside hearken: integer sample counts at the analysis rate.
//!
//! Every stage after resampling works at [`RATE`] (16 kHz), and every position
//! or length is a [`Time`]: a signed count of samples at that rate. Seconds as
//! floats appear only at the edges (reports, RTTM files, the command line),
//! through [`Time::from_secs`] and [`Time::secs`]. Keeping time integral means
//! that interval arithmetic is exact, that a 10 ms frame boundary is exactly
//! 160 samples everywhere, and that two stages never disagree by a rounding
//! error about whether two segments touch.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

/// The analysis sample rate in Hz. Every channel is resampled to it.
pub const RATE: u32 = 16_000;

/// The frame hop of all frame-based analysis: 10 ms at [`RATE`].
pub const HOP: i64 = 160;

/// A position or a duration, in samples at [`RATE`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

impl Time {
    /// Time zero: the first sample of a call.
    pub const ZERO: Time = Time(0);
    /// One 10 ms frame.
    pub const FRAME: Time = Time(HOP);

    /// Converts seconds to the nearest sample.
    pub fn from_secs(secs: f64) -> Time {
        Time((secs * f64::from(RATE)).round() as i64)
    }

    /// Converts milliseconds to the nearest sample.
    pub fn from_millis(ms: f64) -> Time {
        Time::from_secs(ms / 1000.0)
    }

    /// The start of frame `index` (frames are [`HOP`] samples apart).
    pub const fn from_frames(index: i64) -> Time {
        Time(index * HOP)
    }

    /// This time in seconds.
    pub fn secs(self) -> f64 {
        self.0 as f64 / f64::from(RATE)
    }

    /// The index of the frame that contains this sample (rounding down).
    pub const fn frame(self) -> i64 {
        self.0.div_euclid(HOP)
    }

    /// The number of whole or partial frames needed to cover this duration.
    pub const fn frames_ceil(self) -> i64 {
        (self.0 + HOP - 1).div_euclid(HOP)
    }

    /// The larger of two times.
    pub fn max(self, other: Time) -> Time {
        Ord::max(self, other)
    }

    /// The smaller of two times.
    pub fn min(self, other: Time) -> Time {
        Ord::min(self, other)
    }
}

impl Add for Time {
    type Output = Time;
    fn add(self, rhs: Time) -> Time {
        Time(self.0 + rhs.0)
    }
}

impl Sub for Time {
    type Output = Time;
    fn sub(self, rhs: Time) -> Time {
        Time(self.0 - rhs.0)
    }
}

impl AddAssign for Time {
    fn add_assign(&mut self, rhs: Time) {
        self.0 += rhs.0;
    }
}

impl SubAssign for Time {
    fn sub_assign(&mut self, rhs: Time) {
        self.0 -= rhs.0;
    }
}

impl std::iter::Sum for Time {
    fn sum<I: Iterator<Item = Time>>(iter: I) -> Time {
        Time(iter.map(|t| t.0).sum())
    }
}

impl fmt::Display for Time {
    /// Seconds with millisecond precision, e.g. `12.345s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.secs())
    }
}

/// Rounds seconds to the 1 ms resolution used in every hearken output.
///
/// Reports carry seconds as floats; rounding them once, here, keeps files
/// short and stable (no `12.340000000000002`).
pub fn round_ms(secs: f64) -> f64 {
    (secs * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_to_the_sample() {
        assert_eq!(Time::from_secs(1.0), Time(16_000));
        assert_eq!(Time::from_secs(0.01), Time::FRAME);
        assert_eq!(Time::from_millis(250.0), Time(4_000));
        assert!((Time(24_000).secs() - 1.5).abs() < 1e-12);
    }

    #[test]
    fn frames_round_down_and_up() {
        assert_eq!(Time(159).frame(), 0);
        assert_eq!(Time(160).frame(), 1);
        assert_eq!(Time(-1).frame(), -1);
        assert_eq!(Time(161).frames_ceil(), 2);
        assert_eq!(Time(160).frames_ceil(), 1);
        assert_eq!(Time::from_frames(3), Time(480));
    }

    #[test]
    fn display_is_seconds() {
        assert_eq!(Time(8_000).to_string(), "0.500s");
        assert_eq!(round_ms(1.23456), 1.235);
    }
}
