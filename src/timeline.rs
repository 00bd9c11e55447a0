//! Speech as intervals: [`Span`] → [`Timeline`] → [`Annotation`].
//!
//! This is the data model every analysis in hearken speaks, after
//! pyannote.core: a span is a half-open interval of [`Time`]; a timeline is a
//! sorted set of disjoint spans (where one speaker speaks, where nobody does);
//! an annotation maps labels (speaker ids) to timelines. Conversation metrics,
//! RTTM files and the evaluation are all set operations on these: union,
//! intersection, difference, gaps.
//!
//! A timeline is kept *normalised*: spans sorted, non-empty, and neither
//! overlapping nor touching (two spans that touch are one span). Every
//! constructor and operation preserves that, so equality of timelines is
//! equality of the sets of samples they cover.

use crate::time::Time;
use std::fmt;

/// A half-open interval `[start, end)` of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First sample inside the span.
    pub start: Time,
    /// First sample after the span.
    pub end: Time,
}

impl Span {
    /// A span from `start` to `end`; an inverted pair gives an empty span at `start`.
    pub fn new(start: Time, end: Time) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// A span given in seconds (at the edges of the program only).
    pub fn from_secs(start: f64, end: f64) -> Span {
        Span::new(Time::from_secs(start), Time::from_secs(end))
    }

    /// The length of the span.
    pub fn duration(&self) -> Time {
        self.end - self.start
    }

    /// True when the span covers no sample.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// True when `t` lies inside the span.
    pub fn contains(&self, t: Time) -> bool {
        self.start <= t && t < self.end
    }

    /// The common part of two spans, if they share any sample.
    pub fn intersect(&self, other: &Span) -> Option<Span> {
        let s = Span::new(self.start.max(other.start), self.end.min(other.end));
        (!s.is_empty()).then_some(s)
    }

    /// The length of the common part of two spans (zero when disjoint).
    pub fn overlap(&self, other: &Span) -> Time {
        self.intersect(other).map_or(Time::ZERO, |s| s.duration())
    }

    /// `[start, end)` in seconds, rounded to the millisecond, for reports.
    pub fn to_secs_pair(&self) -> [f64; 2] {
        [
            crate::time::round_ms(self.start.secs()),
            crate::time::round_ms(self.end.secs()),
        ]
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} – {}]", self.start, self.end)
    }
}

/// A normalised set of disjoint spans: where something happens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    spans: Vec<Span>,
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// A timeline covering exactly the union of the given spans.
    pub fn from_spans<I: IntoIterator<Item = Span>>(spans: I) -> Timeline {
        let mut v: Vec<Span> = spans.into_iter().filter(|s| !s.is_empty()).collect();
        v.sort_unstable();
        let mut out: Vec<Span> = Vec::with_capacity(v.len());
        for s in v {
            match out.last_mut() {
                Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
                _ => out.push(s),
            }
        }
        Timeline { spans: out }
    }

    /// Adds a span. Appending in time order (the streaming case) costs O(1);
    /// a span that starts before the last one falls back to re-normalising.
    pub fn push(&mut self, span: Span) {
        if span.is_empty() {
            return;
        }
        match self.spans.last_mut() {
            None => self.spans.push(span),
            Some(last) if span.start > last.end => self.spans.push(span),
            Some(last) if span.start >= last.start => last.end = last.end.max(span.end),
            Some(_) => {
                let mut all = std::mem::take(&mut self.spans);
                all.push(span);
                *self = Timeline::from_spans(all);
            }
        }
    }

    /// The spans, sorted and disjoint.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Iterates over the spans in time order.
    pub fn iter(&self) -> std::slice::Iter<'_, Span> {
        self.spans.iter()
    }

    /// Number of spans.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the timeline covers nothing.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Total time covered.
    pub fn total(&self) -> Time {
        self.spans.iter().map(Span::duration).sum()
    }

    /// The smallest span covering the whole timeline, if any.
    pub fn extent(&self) -> Option<Span> {
        Some(Span::new(self.spans.first()?.start, self.spans.last()?.end))
    }

    /// True when `t` is covered.
    pub fn contains(&self, t: Time) -> bool {
        let i = self.spans.partition_point(|s| s.end <= t);
        self.spans.get(i).is_some_and(|s| s.contains(t))
    }

    /// Samples covered by either timeline.
    pub fn union(&self, other: &Timeline) -> Timeline {
        Timeline::from_spans(self.spans.iter().chain(other.spans.iter()).copied())
    }

    /// Samples covered by both timelines.
    pub fn intersection(&self, other: &Timeline) -> Timeline {
        let (a, b) = (&self.spans, &other.spans);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            if let Some(s) = a[i].intersect(&b[j]) {
                out.push(s);
            }
            if a[i].end <= b[j].end {
                i += 1;
            } else {
                j += 1;
            }
        }
        // Pieces of two normalised timelines come out sorted, and two pieces
        // can only touch where one input has a gap, which is never empty:
        // the result is already normalised.
        Timeline { spans: out }
    }

    /// Samples covered by `self` but not by `other`.
    pub fn difference(&self, other: &Timeline) -> Timeline {
        let mut out = Vec::new();
        let mut j = 0;
        for s in &self.spans {
            let mut cur = s.start;
            while j < other.spans.len() && other.spans[j].end <= cur {
                j += 1;
            }
            let mut k = j;
            while k < other.spans.len() && other.spans[k].start < s.end {
                let o = other.spans[k];
                if o.start > cur {
                    out.push(Span::new(cur, o.start));
                }
                cur = cur.max(o.end);
                k += 1;
            }
            if cur < s.end {
                out.push(Span::new(cur, s.end));
            }
        }
        Timeline::from_spans(out)
    }

    /// The parts of `within` that the timeline does not cover.
    pub fn gaps(&self, within: Span) -> Timeline {
        Timeline::from_spans([within]).difference(self)
    }

    /// The timeline restricted to `within`.
    pub fn crop(&self, within: Span) -> Timeline {
        self.intersection(&Timeline::from_spans([within]))
    }

    /// Fills every gap strictly shorter than `max_gap` between two spans.
    pub fn fill_gaps(&self, max_gap: Time) -> Timeline {
        let mut out: Vec<Span> = Vec::with_capacity(self.spans.len());
        for &s in &self.spans {
            match out.last_mut() {
                Some(last) if s.start - last.end < max_gap => last.end = s.end,
                _ => out.push(s),
            }
        }
        Timeline { spans: out }
    }

    /// Drops every span strictly shorter than `min`.
    pub fn remove_short(&self, min: Time) -> Timeline {
        Timeline {
            spans: self
                .spans
                .iter()
                .copied()
                .filter(|s| s.duration() >= min)
                .collect(),
        }
    }

    /// Total time of `span` covered by the timeline.
    pub fn covered(&self, span: Span) -> Time {
        self.overlapping(span).map(|s| s.overlap(&span)).sum()
    }

    /// The spans that share at least one sample with `span`.
    pub fn overlapping(&self, span: Span) -> impl Iterator<Item = &Span> {
        let first = self.spans.partition_point(|s| s.end <= span.start);
        self.spans[first..]
            .iter()
            .take_while(move |s| s.start < span.end)
    }

    /// The span containing `t`, if any.
    pub fn span_at(&self, t: Time) -> Option<Span> {
        let i = self.spans.partition_point(|s| s.end <= t);
        self.spans.get(i).copied().filter(|s| s.contains(t))
    }

    /// Spans as `[start_s, end_s]` pairs for reports.
    pub fn to_secs_pairs(&self) -> Vec<[f64; 2]> {
        self.spans.iter().map(Span::to_secs_pair).collect()
    }
}

impl FromIterator<Span> for Timeline {
    fn from_iter<I: IntoIterator<Item = Span>>(iter: I) -> Timeline {
        Timeline::from_spans(iter)
    }
}

impl<'a> IntoIterator for &'a Timeline {
    type Item = &'a Span;
    type IntoIter = std::slice::Iter<'a, Span>;
    fn into_iter(self) -> Self::IntoIter {
        self.spans.iter()
    }
}

/// Labelled timelines: who speaks when.
///
/// Labels keep their insertion order (agent before customer), which is the
/// order reports and RTTM files list them in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotation {
    tracks: Vec<(String, Timeline)>,
}

impl Annotation {
    /// An annotation without labels.
    pub fn new() -> Annotation {
        Annotation::default()
    }

    /// Sets the timeline of `label`, replacing any previous one.
    pub fn insert(&mut self, label: &str, timeline: Timeline) {
        match self.tracks.iter_mut().find(|(l, _)| l == label) {
            Some((_, t)) => *t = timeline,
            None => self.tracks.push((label.to_string(), timeline)),
        }
    }

    /// Adds a span to `label`'s timeline, creating the label if needed.
    pub fn add(&mut self, label: &str, span: Span) {
        match self.tracks.iter_mut().find(|(l, _)| l == label) {
            Some((_, t)) => t.push(span),
            None => self
                .tracks
                .push((label.to_string(), Timeline::from_spans([span]))),
        }
    }

    /// The timeline of `label` (empty if the label is unknown).
    pub fn get(&self, label: &str) -> Option<&Timeline> {
        self.tracks.iter().find(|(l, _)| l == label).map(|(_, t)| t)
    }

    /// Labels in insertion order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.tracks.iter().map(|(l, _)| l.as_str())
    }

    /// `(label, timeline)` pairs in insertion order.
    pub fn tracks(&self) -> impl Iterator<Item = (&str, &Timeline)> {
        self.tracks.iter().map(|(l, t)| (l.as_str(), t))
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// True when there is no label.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// Where at least one label is active.
    pub fn support(&self) -> Timeline {
        Timeline::from_spans(self.tracks.iter().flat_map(|(_, t)| t.iter().copied()))
    }

    /// Where at least two labels are active at once.
    pub fn overlap(&self) -> Timeline {
        let mut out = Timeline::new();
        for (i, (_, a)) in self.tracks.iter().enumerate() {
            for (_, b) in &self.tracks[i + 1..] {
                out = out.union(&a.intersection(b));
            }
        }
        out
    }

    /// Keeps only what lies inside `within`, for every label.
    pub fn crop(&self, within: &Timeline) -> Annotation {
        Annotation {
            tracks: self
                .tracks
                .iter()
                .map(|(l, t)| (l.clone(), t.intersection(within)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tl(spans: &[(i64, i64)]) -> Timeline {
        Timeline::from_spans(spans.iter().map(|&(a, b)| Span::new(Time(a), Time(b))))
    }

    #[test]
    fn from_spans_sorts_and_merges_touching() {
        let t = tl(&[(10, 20), (0, 5), (5, 8), (15, 30), (40, 40)]);
        assert_eq!(t, tl(&[(0, 8), (10, 30)]));
        assert_eq!(t.total(), Time(28));
    }

    #[test]
    fn push_appends_and_merges() {
        let mut t = Timeline::new();
        t.push(Span::new(Time(0), Time(10)));
        t.push(Span::new(Time(10), Time(12)));
        t.push(Span::new(Time(20), Time(30)));
        t.push(Span::new(Time(25), Time(27)));
        t.push(Span::new(Time(2), Time(3))); // out of order
        assert_eq!(t, tl(&[(0, 12), (20, 30)]));
    }

    #[test]
    fn set_operations() {
        let a = tl(&[(0, 10), (20, 30)]);
        let b = tl(&[(5, 25)]);
        assert_eq!(a.intersection(&b), tl(&[(5, 10), (20, 25)]));
        assert_eq!(a.union(&b), tl(&[(0, 30)]));
        assert_eq!(a.difference(&b), tl(&[(0, 5), (25, 30)]));
        assert_eq!(b.difference(&a), tl(&[(10, 20)]));
        assert_eq!(
            a.gaps(Span::new(Time(-5), Time(40))),
            tl(&[(-5, 0), (10, 20), (30, 40)])
        );
        assert_eq!(
            a.crop(Span::new(Time(8), Time(22))),
            tl(&[(8, 10), (20, 22)])
        );
    }

    #[test]
    fn fill_and_remove() {
        let a = tl(&[(0, 10), (12, 20), (30, 31)]);
        assert_eq!(a.fill_gaps(Time(3)), tl(&[(0, 20), (30, 31)]));
        assert_eq!(a.fill_gaps(Time(2)), a);
        assert_eq!(a.remove_short(Time(2)), tl(&[(0, 10), (12, 20)]));
    }

    #[test]
    fn lookups() {
        let a = tl(&[(0, 10), (20, 30)]);
        assert!(a.contains(Time(0)) && !a.contains(Time(10)) && a.contains(Time(29)));
        assert_eq!(a.span_at(Time(25)), Some(Span::new(Time(20), Time(30))));
        assert_eq!(a.covered(Span::new(Time(5), Time(25))), Time(10));
        assert_eq!(a.overlapping(Span::new(Time(10), Time(20))).count(), 0);
        assert_eq!(a.extent(), Some(Span::new(Time(0), Time(30))));
    }

    #[test]
    fn annotation_overlap_and_support() {
        let mut ann = Annotation::new();
        ann.insert("agent", tl(&[(0, 10), (20, 30)]));
        ann.insert("customer", tl(&[(8, 22)]));
        assert_eq!(ann.overlap(), tl(&[(8, 10), (20, 22)]));
        assert_eq!(ann.support(), tl(&[(0, 30)]));
        assert_eq!(ann.labels().collect::<Vec<_>>(), ["agent", "customer"]);
        ann.add("agent", Span::new(Time(40), Time(50)));
        assert_eq!(ann.get("agent").map(Timeline::len), Some(3));
    }

    fn arb_timeline() -> impl Strategy<Value = Timeline> {
        prop::collection::vec((0i64..1000, 0i64..100), 0..20).prop_map(|v| {
            Timeline::from_spans(v.into_iter().map(|(s, d)| Span::new(Time(s), Time(s + d))))
        })
    }

    fn is_normalised(t: &Timeline) -> bool {
        t.spans().iter().all(|s| !s.is_empty())
            && t.spans().windows(2).all(|w| w[0].end < w[1].start)
    }

    fn covers(t: &Timeline, x: i64) -> bool {
        t.contains(Time(x))
    }

    proptest! {
        #[test]
        fn operations_match_pointwise_sets(a in arb_timeline(), b in arb_timeline()) {
            let u = a.union(&b);
            let i = a.intersection(&b);
            let d = a.difference(&b);
            prop_assert!(is_normalised(&u) && is_normalised(&i) && is_normalised(&d));
            for x in -1..1101 {
                prop_assert_eq!(covers(&u, x), covers(&a, x) || covers(&b, x));
                prop_assert_eq!(covers(&i, x), covers(&a, x) && covers(&b, x));
                prop_assert_eq!(covers(&d, x), covers(&a, x) && !covers(&b, x));
            }
            prop_assert_eq!(u.total() + i.total(), a.total() + b.total());
        }

        #[test]
        fn gaps_complement_within_extent(a in arb_timeline()) {
            let within = Span::new(Time(0), Time(1100));
            let g = a.gaps(within);
            prop_assert_eq!(g.total() + a.crop(within).total(), within.duration());
            prop_assert!(g.intersection(&a).is_empty());
        }

        #[test]
        fn push_in_any_order_equals_from_spans(v in prop::collection::vec((0i64..500, 1i64..50), 0..30)) {
            let spans: Vec<Span> = v.iter().map(|&(s, d)| Span::new(Time(s), Time(s + d))).collect();
            let mut pushed = Timeline::new();
            for s in &spans { pushed.push(*s); }
            prop_assert_eq!(pushed, Timeline::from_spans(spans));
        }
    }
}
