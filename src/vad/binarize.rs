//! From a per-frame speech score to speech segments, as a stream.
//!
//! pyannote's "binarize": a region becomes active when the score rises above
//! `onset` and stays active until it falls below `offset` (hysteresis, so a
//! score hovering near one threshold does not chatter); each active region is
//! widened by `pad_onset` / `pad_offset`; gaps shorter than `min_off` are
//! filled; regions shorter than `min_on` are dropped.
//!
//! Done offline this is a few passes over an array. Here it runs frame by
//! frame with constant memory: a region is held back only until no later
//! region could still merge with it, i.e. until the gap after it has reached
//! `min_off` (plus the onset padding a new region would add in front of
//! itself). That delay is the detector's decision latency.

use crate::time::Time;
use crate::timeline::Span;

/// Thresholds and durations, durations in frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BinarizeParams {
    /// Score above which an inactive stream becomes active.
    pub onset: f32,
    /// Score below which an active stream becomes inactive.
    pub offset: f32,
    /// Shortest region kept, frames.
    pub min_on: i64,
    /// Shortest gap kept, frames (shorter gaps are filled).
    pub min_off: i64,
    /// Frames added before each region.
    pub pad_onset: i64,
    /// Frames added after each region.
    pub pad_offset: i64,
}

/// Streaming hysteresis binarizer over frame scores.
#[derive(Clone, Debug)]
pub struct Binarizer {
    p: BinarizeParams,
    next: i64,
    active: bool,
    run_start: i64,
    pending: Option<(i64, i64)>,
}

impl Binarizer {
    /// A binarizer starting at frame 0.
    pub fn new(p: BinarizeParams) -> Binarizer {
        Binarizer {
            // Regions that touch are one region: a gap must last a frame.
            p: BinarizeParams {
                min_off: p.min_off.max(1),
                ..p
            },
            next: 0,
            active: false,
            run_start: 0,
            pending: None,
        }
    }

    /// The raw hysteresis state after the last frame (no padding, no
    /// minimum durations): what a live meter shows as "speaking now".
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Index of the next frame expected.
    pub fn next_frame(&self) -> i64 {
        self.next
    }

    /// Changes the padding and the shortest kept gap from now on (the
    /// detector widens them where the background hides weak speech).
    pub fn set_timing(&mut self, pad_onset: i64, pad_offset: i64, min_off: i64) {
        self.p.pad_onset = pad_onset.max(0);
        self.p.pad_offset = pad_offset.max(0);
        self.p.min_off = min_off.max(1);
    }

    /// The earliest frame a segment not yet emitted can start at: frames
    /// before it will never be part of a future segment.
    pub fn earliest_open_frame(&self) -> i64 {
        let open = if self.active {
            self.run_start
        } else {
            self.next
        };
        let open = (open - self.p.pad_onset).max(0);
        self.pending.map_or(open, |(s, _)| s.min(open))
    }

    /// Adds the score of the next frame; appends finished segments to `out`.
    pub fn push(&mut self, score: f32, out: &mut Vec<Span>) {
        let t = self.next;
        self.next += 1;
        if self.active {
            if score < self.p.offset {
                self.active = false;
                self.close_run(t, out);
            }
        } else if score > self.p.onset {
            self.active = true;
            self.run_start = t;
        }
        if !self.active
            && let Some((_, end)) = self.pending
        {
            // A region starting at the next frame would begin, padded, at
            // next − pad_onset; once that is min_off past the pending
            // region's end, nothing can merge into it any more.
            if self.next - self.p.pad_onset - end >= self.p.min_off {
                self.flush(out);
            }
        }
    }

    /// Ends the stream after `total_frames` frames, clipping to it.
    pub fn finish(&mut self, total_frames: i64, out: &mut Vec<Span>) {
        if self.active {
            self.active = false;
            let t = self.next;
            self.close_run(t, out);
        }
        if let Some((s, e)) = self.pending.as_mut() {
            *e = (*e).min(total_frames);
            *s = (*s).min(*e);
        }
        self.flush(out);
    }

    fn close_run(&mut self, end: i64, out: &mut Vec<Span>) {
        let start = (self.run_start - self.p.pad_onset).max(0);
        let end = end + self.p.pad_offset;
        match self.pending {
            Some((s, e)) if start - e < self.p.min_off => self.pending = Some((s, e.max(end))),
            _ => {
                self.flush(out);
                self.pending = Some((start, end));
            }
        }
    }

    fn flush(&mut self, out: &mut Vec<Span>) {
        if let Some((s, e)) = self.pending.take()
            && e - s >= self.p.min_on
            && e > s
        {
            out.push(Span::new(Time::from_frames(s), Time::from_frames(e)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Timeline;
    use proptest::prelude::*;

    fn params() -> BinarizeParams {
        BinarizeParams {
            onset: 0.6,
            offset: 0.4,
            min_on: 3,
            min_off: 4,
            pad_onset: 1,
            pad_offset: 2,
        }
    }

    fn run(p: BinarizeParams, scores: &[f32]) -> Vec<(i64, i64)> {
        let mut b = Binarizer::new(p);
        let mut out = Vec::new();
        for &s in scores {
            b.push(s, &mut out);
        }
        b.finish(scores.len() as i64, &mut out);
        out.iter()
            .map(|s| (s.start.frame(), s.end.frame()))
            .collect()
    }

    /// The same operation done offline, the obvious way.
    fn offline(p: BinarizeParams, scores: &[f32]) -> Vec<(i64, i64)> {
        let n = scores.len() as i64;
        let mut runs = Vec::new();
        let mut active = false;
        let mut start = 0;
        for (i, &s) in scores.iter().enumerate() {
            let i = i as i64;
            if active && s < p.offset {
                active = false;
                runs.push((start, i));
            } else if !active && s > p.onset {
                active = true;
                start = i;
            }
        }
        if active {
            runs.push((start, n));
        }
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (s, e) in runs {
            let (s, e) = ((s - p.pad_onset).max(0), e + p.pad_offset);
            match merged.last_mut() {
                Some(last) if s - last.1 < p.min_off.max(1) => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
            .into_iter()
            .map(|(s, e)| (s, e.min(n)))
            .filter(|(s, e)| e - s >= p.min_on && e > s)
            .collect()
    }

    #[test]
    fn hysteresis_padding_and_gap_filling() {
        let s = [
            0.0, 0.7, 0.5, 0.5, 0.3, 0.0, 0.0, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7,
            0.0,
        ];
        // run 1: frames 1..4 → padded 0..6; run 2: 7..9 → 6..11 merges;
        // run 3: 16..17 → 15..19, clipped to 18, gap 11→15 = 4 not < 4.
        assert_eq!(run(params(), &s), vec![(0, 11), (15, 18)]);
    }

    #[test]
    fn short_regions_dropped() {
        let p = BinarizeParams {
            pad_onset: 0,
            pad_offset: 0,
            ..params()
        };
        assert_eq!(run(p, &[0.0, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0]), vec![]);
    }

    proptest! {
        #[test]
        fn streaming_equals_offline(scores in prop::collection::vec(0.0f32..1.0, 0..200),
                                    min_on in 0i64..6, min_off in 0i64..8, pad_on in 0i64..4, pad_off in 0i64..4) {
            let p = BinarizeParams { onset: 0.6, offset: 0.4, min_on, min_off, pad_onset: pad_on, pad_offset: pad_off };
            let got = run(p, &scores);
            prop_assert_eq!(&got, &offline(p, &scores));
            let tl = Timeline::from_spans(got.iter().map(|&(s, e)| Span::new(Time::from_frames(s), Time::from_frames(e))));
            prop_assert_eq!(tl.len(), got.len());
        }
    }
}
