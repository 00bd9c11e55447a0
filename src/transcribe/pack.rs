//! Packing one speaker's speech into Whisper windows, and mapping times back.
//!
//! Whisper reads 30-second windows and costs about the same whatever part of
//! the window holds speech. A call channel holds speech 30–60% of the time,
//! in pieces of a few seconds separated by the other party's turns and by
//! silence. Transcribing the channel as it is would spend most of the model's
//! time on nothing (and invite it to hallucinate into the silence). Instead
//! the speech pieces the voice detector found are copied one after the other
//! into a window, separated by a short stretch of silence so that Whisper
//! still hears a pause between them, until the next piece would not fit.
//!
//! Each [`Window`] remembers where each piece came from, so a time Whisper
//! reports inside the window maps back to call time exactly
//! ([`Window::to_call`]). The window owns its audio (at most [`MAX`]
//! samples), so the caller can drop the call audio as soon as a piece is
//! packed: memory does not depend on how far apart the pieces are.

use crate::time::{RATE, Time};
use crate::timeline::Span;

/// The longest window Whisper reads: 30 s.
pub const MAX: Time = Time(30 * RATE as i64);

/// One piece of call audio placed in a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Where the piece is in the call.
    pub call: Span,
    /// Where it starts in the window.
    pub offset: Time,
}

impl Piece {
    /// The piece's span in window time.
    pub fn in_window(&self) -> Span {
        Span::new(self.offset, self.offset + self.call.duration())
    }
}

/// Audio of one speaker, packed for one Whisper call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Window {
    /// Index of the speaker (channel order of the call).
    pub channel: usize,
    /// The pieces, in call order (and window order).
    pub pieces: Vec<Piece>,
    /// 16 kHz samples: the pieces with silence between them.
    pub audio: Vec<f32>,
}

impl Window {
    /// Length of the window.
    pub fn len(&self) -> Time {
        Time(self.audio.len() as i64)
    }

    /// True when nothing is packed.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Maps a window time to call time. A time in the silence between two
    /// pieces snaps to the nearer piece edge (Whisper's timestamps are
    /// rounded to 10 ms and a word may straddle the joint).
    pub fn to_call(&self, t: Time) -> Option<Time> {
        let mut best: Option<(Time, Time)> = None; // (distance, call time)
        for p in &self.pieces {
            let w = p.in_window();
            let (d, c) = if w.contains(t) {
                (Time::ZERO, p.call.start + (t - w.start))
            } else if t < w.start {
                (w.start - t, p.call.start)
            } else {
                (t - w.end, p.call.end)
            };
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, c));
            }
        }
        best.map(|(_, c)| c)
    }

    /// The piece a window time belongs to (the nearest one).
    pub fn piece_at(&self, t: Time) -> Option<&Piece> {
        self.pieces.iter().min_by_key(|p| {
            let w = p.in_window();
            if w.contains(t) {
                Time::ZERO
            } else if t < w.start {
                w.start - t
            } else {
                t - w.end
            }
        })
    }
}

/// Fills windows with pieces as they come.
#[derive(Debug)]
pub struct Packer {
    channel: usize,
    max: Time,
    gap: Time,
    current: Window,
}

impl Packer {
    /// A packer for speaker `channel`: windows of at most `max`, pieces
    /// separated by `gap` of silence.
    pub fn new(channel: usize, max: Time, gap: Time) -> Packer {
        Packer {
            channel,
            max: max.min(MAX),
            gap,
            current: Window {
                channel,
                ..Window::default()
            },
        }
    }

    /// The longest piece that fits in an empty window.
    pub fn max_piece(&self) -> Time {
        self.max
    }

    /// Adds a piece (`samples` are its audio, `call` where it is in the
    /// call; at most [`Packer::max_piece`] long). Appends the window it
    /// completes, if any, to `out`.
    pub fn push(&mut self, call: Span, samples: &[f32], out: &mut Vec<Window>) {
        let len = Time(samples.len() as i64);
        let needed = if self.current.is_empty() {
            len
        } else {
            self.gap + len
        };
        if !self.current.is_empty() && self.current.len() + needed > self.max {
            out.push(self.take());
        }
        if !self.current.is_empty() {
            self.current
                .audio
                .resize(self.current.audio.len() + self.gap.0 as usize, 0.0);
        }
        let offset = self.current.len();
        self.current.audio.extend_from_slice(samples);
        self.current.pieces.push(Piece {
            call: Span::new(call.start, call.start + len),
            offset,
        });
        if self.current.len() + self.gap >= self.max {
            out.push(self.take());
        }
    }

    /// The window being filled, taken out (empty windows are not emitted).
    pub fn finish(&mut self, out: &mut Vec<Window>) {
        if !self.current.is_empty() {
            out.push(self.take());
        }
    }

    fn take(&mut self) -> Window {
        std::mem::replace(
            &mut self.current,
            Window {
                channel: self.channel,
                ..Window::default()
            },
        )
    }
}

/// Splits a piece longer than `max` at its quietest 10 ms cells, so that no
/// part is longer than `max` and cuts fall in pauses rather than words.
/// Returns the cut positions (sample offsets into `samples`).
pub fn split_points(samples: &[f32], max: Time) -> Vec<usize> {
    let max = max.0.max(1) as usize;
    let hop = crate::time::HOP as usize;
    let mut cuts = Vec::new();
    let mut start = 0;
    while samples.len() - start > max {
        // Look for the quietest cell in the last third of the allowed span.
        let lo = start + max * 2 / 3;
        let hi = start + max - hop;
        let mut best = (hi, f32::MAX);
        let mut at = lo;
        while at + hop <= hi {
            let e: f32 = samples[at..at + hop].iter().map(|x| x * x).sum();
            if e < best.1 {
                best = (at + hop / 2, e);
            }
            at += hop;
        }
        cuts.push(best.0);
        start = best.0;
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Time {
        Time::from_secs(s)
    }

    fn tone(n: usize) -> Vec<f32> {
        vec![0.5; n]
    }

    #[test]
    fn pieces_are_packed_with_gaps_until_full() {
        let mut p = Packer::new(1, secs(10.0), secs(0.5));
        let mut out = Vec::new();
        p.push(Span::from_secs(3.0, 6.0), &tone(48_000), &mut out);
        p.push(Span::from_secs(20.0, 24.0), &tone(64_000), &mut out);
        assert!(out.is_empty());
        // 3 + 0.5 + 4 = 7.5 s; another 3 s does not fit in 10 s.
        p.push(Span::from_secs(40.0, 43.0), &tone(48_000), &mut out);
        assert_eq!(out.len(), 1);
        let w = &out[0];
        assert_eq!(w.channel, 1);
        assert_eq!(w.len(), secs(7.5));
        assert_eq!(w.pieces[1].offset, secs(3.5));
        assert_eq!(w.audio[50_000], 0.0, "silence between the pieces");
        p.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].pieces[0].call, Span::from_secs(40.0, 43.0));
    }

    #[test]
    fn window_times_map_back_to_call_times() {
        let mut p = Packer::new(0, secs(30.0), secs(0.5));
        let mut out = Vec::new();
        p.push(Span::from_secs(10.0, 12.0), &tone(32_000), &mut out);
        p.push(Span::from_secs(50.0, 51.0), &tone(16_000), &mut out);
        p.finish(&mut out);
        let w = &out[0];
        assert_eq!(w.to_call(secs(1.0)), Some(secs(11.0)));
        assert_eq!(w.to_call(secs(2.5)), Some(secs(50.0)));
        assert_eq!(w.to_call(secs(3.0)), Some(secs(50.5)));
        // In the gap: snaps to the nearer edge.
        assert_eq!(w.to_call(secs(2.1)), Some(secs(12.0)));
        assert_eq!(w.to_call(secs(2.4)), Some(secs(50.0)));
        // Past the end: the last piece's end.
        assert_eq!(w.to_call(secs(9.0)), Some(secs(51.0)));
        assert_eq!(
            w.piece_at(secs(2.4)).map(|p| p.call.start),
            Some(secs(50.0))
        );
    }

    #[test]
    fn long_pieces_split_at_quiet_cells() {
        // 70 s of "speech" with a silent cell at 25 s and at 50 s.
        let mut x = tone(70 * 16_000);
        for at in [25 * 16_000, 50 * 16_000] {
            x[at..at + 160].iter_mut().for_each(|s| *s = 0.0);
        }
        let cuts = split_points(&x, secs(30.0));
        assert_eq!(cuts.len(), 2);
        for (cut, silence) in cuts.iter().zip([25 * 16_000, 50 * 16_000]) {
            assert!(
                (silence..=silence + 160).contains(cut),
                "cut at {cut}, silence at {silence}"
            );
        }
        let mut prev = 0;
        for c in cuts.iter().chain([&x.len()]) {
            assert!(c - prev <= 30 * 16_000);
            prev = *c;
        }
    }
}
