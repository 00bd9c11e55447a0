//! Scoring functions: pure set arithmetic on timelines and event lists.
//!
//! Every figure is kept as counts (seconds of miss, false alarm, reference;
//! matched, proposed and reference events) so that pooling over files sums
//! the counts and divides once, the way NIST tools and pyannote.metrics pool
//! ("accumulated" rather than averaged rates). A rate with an empty
//! denominator is absent (`None`), not zero.

use crate::conversation::{Conversation, OverlapKind};
use crate::time::Time;
use crate::timeline::{Annotation, Span, Timeline};
use serde::Serialize;

/// A ratio kept as its two sums, for pooling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Ratio {
    /// Numerator.
    pub num: f64,
    /// Denominator.
    pub den: f64,
}

impl Ratio {
    /// `num / den`, or `None` when `den` is zero.
    pub fn value(&self) -> Option<f64> {
        (self.den > 0.0).then(|| self.num / self.den)
    }

    /// Adds another ratio's sums.
    pub fn add(&mut self, other: Ratio) {
        self.num += other.num;
        self.den += other.den;
    }
}

/// Precision / recall counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Detection {
    /// Correct (time or events).
    pub hit: f64,
    /// Proposed by the hypothesis.
    pub hyp: f64,
    /// Present in the reference.
    pub reference: f64,
}

impl Detection {
    /// hit / hyp.
    pub fn precision(&self) -> Option<f64> {
        (self.hyp > 0.0).then(|| self.hit / self.hyp)
    }

    /// hit / reference.
    pub fn recall(&self) -> Option<f64> {
        (self.reference > 0.0).then(|| self.hit / self.reference)
    }

    /// Harmonic mean of precision and recall. When both sides are empty the
    /// detector was right to find nothing: F1 is 1.
    pub fn f1(&self) -> Option<f64> {
        if self.hyp == 0.0 && self.reference == 0.0 {
            return None;
        }
        let d = self.hyp + self.reference;
        Some(if d > 0.0 { 2.0 * self.hit / d } else { 0.0 })
    }

    /// Adds counts.
    pub fn add(&mut self, o: Detection) {
        self.hit += o.hit;
        self.hyp += o.hyp;
        self.reference += o.reference;
    }
}

/// Miss / false alarm seconds against reference seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ErrorRate {
    /// Reference speech not detected, s.
    pub miss: f64,
    /// Detected speech not in the reference, s.
    pub false_alarm: f64,
    /// Reference speech, s.
    pub total: f64,
}

impl ErrorRate {
    /// (miss + false alarm) / total.
    pub fn rate(&self) -> Option<f64> {
        (self.total > 0.0).then(|| (self.miss + self.false_alarm) / self.total)
    }

    /// miss / total.
    pub fn miss_rate(&self) -> Option<f64> {
        (self.total > 0.0).then(|| self.miss / self.total)
    }

    /// false alarm / total.
    pub fn false_alarm_rate(&self) -> Option<f64> {
        (self.total > 0.0).then(|| self.false_alarm / self.total)
    }

    /// Adds counts.
    pub fn add(&mut self, o: ErrorRate) {
        self.miss += o.miss;
        self.false_alarm += o.false_alarm;
        self.total += o.total;
    }
}

/// The scored region with ±collar/2 removed around every boundary of the
/// given reference timelines (pyannote.metrics' convention).
pub fn scored_region(uem: &Timeline, boundaries_of: &[&Timeline], collar: Time) -> Timeline {
    if collar.0 <= 0 {
        return uem.clone();
    }
    let half = Time(collar.0 / 2);
    let mut cuts = Vec::new();
    for tl in boundaries_of {
        for s in tl.iter() {
            cuts.push(Span::new(s.start - half, s.start + half));
            cuts.push(Span::new(s.end - half, s.end + half));
        }
    }
    uem.difference(&Timeline::from_spans(cuts))
}

/// Detection error of one timeline against another within `region`.
pub fn detection_error(reference: &Timeline, hyp: &Timeline, region: &Timeline) -> ErrorRate {
    let r = reference.intersection(region);
    let h = hyp.intersection(region);
    ErrorRate {
        miss: r.difference(&h).total().secs(),
        false_alarm: h.difference(&r).total().secs(),
        total: r.total().secs(),
    }
}

/// Time-based precision/recall of `hyp` against `reference` within `region`.
pub fn time_detection(reference: &Timeline, hyp: &Timeline, region: &Timeline) -> Detection {
    let r = reference.intersection(region);
    let h = hyp.intersection(region);
    Detection {
        hit: r.intersection(&h).total().secs(),
        hyp: h.total().secs(),
        reference: r.total().secs(),
    }
}

/// One event of a file (an interruption, a backchannel, an overlap or a
/// silence) on one side of the comparison, and whether the other side has
/// its match: the evidence behind an event precision or recall.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventMatch {
    /// `interruption`, `backchannel`, `overlap` or `silence`.
    pub kind: &'static str,
    /// `ref` or `hyp`.
    pub side: &'static str,
    /// The interrupter (empty for overlaps and silences).
    pub speaker: String,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds (an interruption ends where its overlap ends).
    pub end_s: f64,
    /// Whether it was matched.
    pub matched: bool,
}

/// Event matching: each reference event can match at most one hypothesis
/// event and the other way round; pairs are taken greedily by score. Gives
/// which reference and which hypothesis events were matched.
fn match_events(
    n_ref: usize,
    n_hyp: usize,
    score: impl Fn(usize, usize) -> Option<f64>,
) -> (Vec<bool>, Vec<bool>) {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for i in 0..n_ref {
        for j in 0..n_hyp {
            if let Some(s) = score(i, j) {
                pairs.push((s, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_r, mut used_h) = (vec![false; n_ref], vec![false; n_hyp]);
    for (_, i, j) in pairs {
        if !used_r[i] && !used_h[j] {
            used_r[i] = true;
            used_h[j] = true;
        }
    }
    (used_r, used_h)
}

/// The detection counts of a matching, with its events appended to `log`.
fn log_matching(
    kind: &'static str,
    (used_r, used_h): (Vec<bool>, Vec<bool>),
    describe: impl Fn(bool, usize) -> (String, Span),
    log: &mut Vec<EventMatch>,
) -> Detection {
    for (side, used) in [("ref", &used_r), ("hyp", &used_h)] {
        for (i, &matched) in used.iter().enumerate() {
            let (speaker, span) = describe(side == "ref", i);
            log.push(EventMatch {
                kind,
                side,
                speaker,
                start_s: span.start.secs(),
                end_s: span.end.secs(),
                matched,
            });
        }
    }
    Detection {
        hit: used_r.iter().filter(|&&u| u).count() as f64,
        hyp: used_h.len() as f64,
        reference: used_r.len() as f64,
    }
}

/// Segments as events: a reference segment is found when a hypothesis
/// segment overlaps it with an intersection-over-union of at least `min_iou`.
pub fn segment_events(
    reference: &Timeline,
    hyp: &Timeline,
    region: &Timeline,
    min_iou: f64,
    kind: &'static str,
    log: &mut Vec<EventMatch>,
) -> Detection {
    let r: Vec<Span> = reference.intersection(region).iter().copied().collect();
    let h: Vec<Span> = hyp.intersection(region).iter().copied().collect();
    let matching = match_events(r.len(), h.len(), |i, j| {
        let inter = r[i].overlap(&h[j]).0 as f64;
        if inter <= 0.0 {
            return None;
        }
        let union = (r[i].duration().0 + h[j].duration().0) as f64 - inter;
        let iou = inter / union;
        (iou >= min_iou).then_some(iou)
    });
    let describe = |is_ref: bool, i: usize| (String::new(), if is_ref { r[i] } else { h[i] });
    log_matching(kind, matching, describe, log)
}

/// Interruptions (or backchannels) matched by onset within `tolerance` and
/// by interrupter.
pub fn event_detection(
    reference: &Conversation,
    hyp: &Conversation,
    kind: OverlapKind,
    region: &Timeline,
    tolerance: Time,
    log: &mut Vec<EventMatch>,
) -> Detection {
    let pick = |c: &Conversation| -> Vec<(Time, String, Time)> {
        c.events
            .iter()
            .filter(|e| e.kind == kind && region.contains(e.at))
            .map(|e| (e.at, e.interrupter.clone(), e.overlap))
            .collect()
    };
    let (r, h) = (pick(reference), pick(hyp));
    let matching = match_events(r.len(), h.len(), |i, j| {
        let d = (r[i].0 - h[j].0).0.abs();
        (r[i].1 == h[j].1 && d <= tolerance.0).then(|| -(d as f64))
    });
    let describe = |is_ref: bool, i: usize| {
        let (at, who, overlap) = if is_ref { &r[i] } else { &h[i] };
        (who.clone(), Span::new(*at, *at + *overlap))
    };
    let name = match kind {
        OverlapKind::Interruption => "interruption",
        OverlapKind::Backchannel => "backchannel",
    };
    log_matching(name, matching, describe, log)
}

/// Per-speaker absolute error of the share of speech, in percentage points,
/// summed over the reference speakers (with the count, for averaging).
pub fn talk_share_error(reference: &Conversation, hyp: &Conversation) -> Ratio {
    let mut r = Ratio::default();
    for (id, f) in reference.speakers.iter().zip(&reference.figures) {
        let h = hyp.speaker(id).map_or(0.0, |x| x.talk.share_of_speech);
        r.num += (f.talk.share_of_speech - h).abs() * 100.0;
        r.den += 1.0;
    }
    r
}

/// Diarization error counts: miss, false alarm and confusion seconds over
/// the total reference speech (overlap counted once per speaker).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Diarization {
    /// Missed speech, s.
    pub miss: f64,
    /// False alarm, s.
    pub false_alarm: f64,
    /// Speaker confusion, s.
    pub confusion: f64,
    /// Total reference speech, s.
    pub total: f64,
}

impl Diarization {
    /// DER.
    pub fn rate(&self) -> Option<f64> {
        (self.total > 0.0).then(|| (self.miss + self.false_alarm + self.confusion) / self.total)
    }

    /// Adds counts.
    pub fn add(&mut self, o: Diarization) {
        self.miss += o.miss;
        self.false_alarm += o.false_alarm;
        self.confusion += o.confusion;
        self.total += o.total;
    }
}

/// Elementary segments: the region cut at every boundary of both
/// annotations, with the number of active speakers on each side.
fn elementary(
    reference: &Annotation,
    hyp: &Annotation,
    region: &Timeline,
) -> Vec<(Span, Vec<usize>, Vec<usize>)> {
    let mut cuts: Vec<Time> = Vec::new();
    for ann in [reference, hyp] {
        for (_, tl) in ann.tracks() {
            for s in tl.iter() {
                cuts.push(s.start);
                cuts.push(s.end);
            }
        }
    }
    for s in region.iter() {
        cuts.push(s.start);
        cuts.push(s.end);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let rt: Vec<&Timeline> = reference.tracks().map(|(_, t)| t).collect();
    let ht: Vec<&Timeline> = hyp.tracks().map(|(_, t)| t).collect();
    let mut out = Vec::new();
    for w in cuts.windows(2) {
        let seg = Span::new(w[0], w[1]);
        if seg.is_empty() || !region.contains(seg.start) {
            continue;
        }
        let r: Vec<usize> = (0..rt.len())
            .filter(|&i| rt[i].contains(seg.start))
            .collect();
        let h: Vec<usize> = (0..ht.len())
            .filter(|&j| ht[j].contains(seg.start))
            .collect();
        if !r.is_empty() || !h.is_empty() {
            out.push((seg, r, h));
        }
    }
    out
}

/// The mapping of hypothesis labels to reference labels that maximises the
/// total co-occurrence (optimal assignment, as pyannote.metrics does with the
/// Hungarian algorithm). Exact dynamic programming over subsets of reference
/// labels, ample for the handful of speakers of a call; greedy beyond 16.
pub fn optimal_mapping(
    reference: &Annotation,
    hyp: &Annotation,
    region: &Timeline,
) -> Vec<Option<usize>> {
    let rt: Vec<Timeline> = reference
        .tracks()
        .map(|(_, t)| t.intersection(region))
        .collect();
    let ht: Vec<Timeline> = hyp.tracks().map(|(_, t)| t.intersection(region)).collect();
    let cost: Vec<Vec<i64>> = ht
        .iter()
        .map(|h| rt.iter().map(|r| r.intersection(h).total().0).collect())
        .collect();
    let (nh, nr) = (ht.len(), rt.len());
    let mut map = vec![None; nh];
    if nr <= 16 {
        let full = 1usize << nr;
        // best[j][mask]: the largest total for hypothesis labels j.. when the
        // reference labels in `mask` are taken.
        let mut best = vec![vec![0i64; full]; nh + 1];
        for j in (0..nh).rev() {
            for mask in 0..full {
                let mut b = best[j + 1][mask];
                for (i, &c) in cost[j].iter().enumerate() {
                    if mask & (1 << i) == 0 {
                        b = b.max(c + best[j + 1][mask | (1 << i)]);
                    }
                }
                best[j][mask] = b;
            }
        }
        let mut mask = 0usize;
        for j in 0..nh {
            if best[j][mask] == best[j + 1][mask] {
                continue;
            }
            if let Some(i) = (0..nr).find(|&i| {
                mask & (1 << i) == 0 && cost[j][i] + best[j + 1][mask | (1 << i)] == best[j][mask]
            }) {
                map[j] = Some(i);
                mask |= 1 << i;
            }
        }
    } else {
        let mut pairs: Vec<(i64, usize, usize)> = Vec::new();
        for (j, row) in cost.iter().enumerate() {
            for (i, &c) in row.iter().enumerate() {
                pairs.push((c, j, i));
            }
        }
        pairs.sort_by_key(|p| std::cmp::Reverse(p.0));
        let mut used = vec![false; nr];
        for (_, j, i) in pairs {
            if map[j].is_none() && !used[i] {
                used[i] = true;
                map[j] = Some(i);
            }
        }
    }
    map
}

/// DER with the optimal label mapping (NIST definition: per elementary
/// segment, miss = max(0, N_ref − N_hyp), false alarm = max(0, N_hyp −
/// N_ref), confusion = min(N_ref, N_hyp) − N_correct).
pub fn diarization_error(
    reference: &Annotation,
    hyp: &Annotation,
    region: &Timeline,
) -> Diarization {
    let map = optimal_mapping(reference, hyp, region);
    let mut d = Diarization::default();
    for (seg, r, h) in elementary(reference, hyp, region) {
        let dur = seg.duration().secs();
        let (nr, nh) = (r.len(), h.len());
        let correct = h
            .iter()
            .filter(|&&j| map[j].is_some_and(|i| r.contains(&i)))
            .count();
        d.total += nr as f64 * dur;
        d.miss += nr.saturating_sub(nh) as f64 * dur;
        d.false_alarm += nh.saturating_sub(nr) as f64 * dur;
        d.confusion += (nr.min(nh) - correct) as f64 * dur;
    }
    d
}

/// Jaccard error rate: mean over reference speakers of
/// `1 − |ref ∩ mapped hyp| / |ref ∪ mapped hyp|` (an unmatched reference
/// speaker scores 1). Returned as (sum of per-speaker errors, speakers).
pub fn jaccard_error(reference: &Annotation, hyp: &Annotation, region: &Timeline) -> Ratio {
    let map = optimal_mapping(reference, hyp, region);
    let rt: Vec<Timeline> = reference
        .tracks()
        .map(|(_, t)| t.intersection(region))
        .collect();
    let ht: Vec<Timeline> = hyp.tracks().map(|(_, t)| t.intersection(region)).collect();
    let mut r = Ratio::default();
    for (i, reft) in rt.iter().enumerate() {
        let err = match map.iter().position(|m| *m == Some(i)) {
            Some(j) => {
                let inter = reft.intersection(&ht[j]).total().0 as f64;
                let union = reft.union(&ht[j]).total().0 as f64;
                if union > 0.0 {
                    1.0 - inter / union
                } else {
                    0.0
                }
            }
            None => 1.0,
        };
        r.num += err;
        r.den += 1.0;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tl(spans: &[(f64, f64)]) -> Timeline {
        Timeline::from_spans(spans.iter().map(|&(a, b)| Span::from_secs(a, b)))
    }

    fn ann(tracks: &[(&str, &[(f64, f64)])]) -> Annotation {
        let mut a = Annotation::new();
        for (l, s) in tracks {
            a.insert(l, tl(s));
        }
        a
    }

    #[test]
    fn perfect_and_empty_hypotheses() {
        let r = tl(&[(1.0, 3.0), (5.0, 6.0)]);
        let region = tl(&[(0.0, 10.0)]);
        let e = detection_error(&r, &r, &region);
        assert_eq!(e.rate(), Some(0.0));
        let e = detection_error(&r, &Timeline::new(), &region);
        assert_eq!(e.rate(), Some(1.0));
        assert_eq!(e.miss_rate(), Some(1.0));
    }

    #[test]
    fn collars_remove_boundary_regions() {
        let r = tl(&[(1.0, 3.0)]);
        let h = tl(&[(1.1, 2.9)]);
        let region = tl(&[(0.0, 10.0)]);
        assert!((detection_error(&r, &h, &region).miss - 0.2).abs() < 1e-9);
        let scored = scored_region(&region, &[&r], Time::from_secs(0.25));
        // ±0.125 s around 1.0 and 3.0 removed: both misses fall inside.
        assert_eq!(detection_error(&r, &h, &scored).miss, 0.0);
        assert!((scored.total().secs() - 9.5).abs() < 1e-9);
    }

    #[test]
    fn der_with_overlapping_reference_speakers_and_label_mapping() {
        // Reference: A 0–10, B 5–15 (overlap 5–10). Hypothesis labels swapped
        // names, perfect otherwise: DER 0.
        let r = ann(&[("A", &[(0.0, 10.0)]), ("B", &[(5.0, 15.0)])]);
        let h = ann(&[("x", &[(5.0, 15.0)]), ("y", &[(0.0, 10.0)])]);
        let region = tl(&[(0.0, 20.0)]);
        let d = diarization_error(&r, &h, &region);
        assert_eq!(d.rate(), Some(0.0));
        assert_eq!(d.total, 20.0);
        // Hypothesis misses the overlap (only one speaker 5–10): miss 5 s.
        let h = ann(&[("x", &[(10.0, 15.0)]), ("y", &[(0.0, 10.0)])]);
        let d = diarization_error(&r, &h, &region);
        assert!((d.miss - 5.0).abs() < 1e-9 && d.confusion == 0.0);
        // One speaker for everything: confusion on B's solo part.
        let h = ann(&[("x", &[(0.0, 15.0)])]);
        let d = diarization_error(&r, &h, &region);
        assert!((d.miss - 5.0).abs() < 1e-9, "{d:?}");
        assert!((d.confusion - 5.0).abs() < 1e-9, "{d:?}");
        let j = jaccard_error(&r, &h, &region);
        // A mapped: |A∩x|=10, |A∪x|=15 → 1/3; B unmapped → 1. Mean 2/3.
        assert!((j.value().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn segment_events_need_iou() {
        let r = tl(&[(0.0, 2.0), (5.0, 7.0)]);
        let h = tl(&[(0.2, 2.1), (6.5, 9.0)]);
        let d = segment_events(&r, &h, &tl(&[(0.0, 10.0)]), 0.5, "silence", &mut Vec::new());
        assert_eq!((d.hit, d.hyp, d.reference), (1.0, 2.0, 2.0));
        assert_eq!(d.f1(), Some(0.5));
    }
}
