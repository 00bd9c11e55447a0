//! Latency of the live meter's speech events against reference
//! annotations, and the CPU time the live path takes.
//!
//! Replays each call through the very path `hearken live --input` takes
//! (paced source, pipeline, meter tap, final report), at `--speed`, and
//! matches its `speech_start` / `speech_end` events with the onsets and
//! offsets of the reference RTTM (`<stem>.rttm` beside the audio, or in
//! `../ref/`):
//!
//! * latency = `emitted − reference`, `emitted` being the stream time at
//!   which the event left the meter (wall time since the stream started ×
//!   speed: at `--speed 1` plain wall time);
//! * matching: per speaker and kind, reference boundaries and events are
//!   paired one to one, nearest `t` first, within `--tolerance` (0.5 s);
//!   unmatched reference boundaries are misses, unmatched events false
//!   alarms;
//! * `bridged`: the reference's pauses shorter than the detector's
//!   `min_gap_ms` (150 ms) are bridged by design; the figures are given
//!   with and without the boundaries of those pauses.
//!
//! CPU: user + system time of the process over the whole run
//! (`getrusage` via /proc/self/stat), divided by the audio replayed; at
//! `--speed 1` that is the share of one core the meter takes.
//!
//! ```text
//! cargo run --release --example live_latency -- [--speed N] [--tolerance S] FILE.wav...
//! ```

use hearken::batch::CallSetup;
use hearken::config::Config;
use hearken::formats::{parse_rttm, rttm_annotations};
use hearken::live::clock::StreamClock;
use hearken::live::events::EventTarget;
use hearken::live::replay::ReplaySource;
use hearken::live::ring::FeedStatus;
use hearken::live::session::{self, LiveInput, LiveOptions, Screen};
use hearken::timeline::Timeline;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Onset,
    Offset,
}

struct Boundary {
    speaker: String,
    kind: Kind,
    t: f64,
    /// Next to a reference pause shorter than the detector's minimum gap.
    bridged: bool,
}

struct Emitted {
    speaker: String,
    kind: Kind,
    t: f64,
    emitted: f64,
}

#[derive(Default)]
struct Tally {
    latencies: Vec<(Kind, f64, bool)>,
    /// `t − reference` of matched events: the boundary as the detector
    /// places it, whatever the processing delay.
    placement: Vec<(Kind, f64, bool)>,
    misses: usize,
    misses_bridged: usize,
    false_alarms: usize,
    refs: usize,
    refs_bridged: usize,
}

fn reference(wav: &Path, min_gap: f64) -> anyhow::Result<Vec<Boundary>> {
    let stem = wav
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let dir = wav.parent().unwrap_or(Path::new("."));
    let candidates = [
        dir.join(format!("{stem}.rttm")),
        dir.join("..").join("ref").join(format!("{stem}.rttm")),
    ];
    let path = candidates
        .iter()
        .find(|p| p.exists())
        .ok_or_else(|| anyhow::anyhow!("no reference RTTM for {}", wav.display()))?;
    let lines = parse_rttm(&std::fs::read_to_string(path)?)?;
    let mut out = Vec::new();
    for (_, ann) in rttm_annotations(&lines) {
        for (speaker, tl) in ann.tracks() {
            let spans = Timeline::from_spans(tl.iter().copied());
            let s = spans.spans();
            for (i, sp) in s.iter().enumerate() {
                let gap_before = i > 0 && (sp.start - s[i - 1].end).secs() < min_gap;
                let gap_after = i + 1 < s.len() && (s[i + 1].start - sp.end).secs() < min_gap;
                out.push(Boundary {
                    speaker: speaker.to_string(),
                    kind: Kind::Onset,
                    t: sp.start.secs(),
                    bridged: gap_before,
                });
                out.push(Boundary {
                    speaker: speaker.to_string(),
                    kind: Kind::Offset,
                    t: sp.end.secs(),
                    bridged: gap_after,
                });
            }
        }
    }
    Ok(out)
}

fn replay(wav: &Path, speed: f64, config: &Config, tmp: &Path) -> anyhow::Result<Vec<Emitted>> {
    let file = hearken::audio::open(wav).map_err(|e| anyhow::anyhow!("{}: {e}", wav.display()))?;
    let clock = Arc::new(StreamClock::new(speed));
    let stop = Arc::new(AtomicBool::new(false));
    let events = tmp.join("events.jsonl");
    let input = LiveInput {
        source: Box::new(ReplaySource::new(file, clock.clone(), stop.clone(), None)),
        clock,
        feed: Arc::new(FeedStatus::default()),
        description: wav.display().to_string(),
        display: wav.display().to_string(),
        stem: "call".into(),
        audio: None,
    };
    let opts = LiveOptions {
        setup: CallSetup::new(config.clone())?,
        out_dir: tmp.to_path_buf(),
        formats: BTreeSet::new(),
        events: Some(EventTarget::File(events.clone())),
        record: None,
        screen: Screen::Quiet,
    };
    session::run(input, &opts, &stop)?;
    let mut out = Vec::new();
    for line in std::fs::read_to_string(&events)?.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let kind = match v["event"].as_str() {
            Some("speech_start") => Kind::Onset,
            Some("speech_end") => Kind::Offset,
            _ => continue,
        };
        out.push(Emitted {
            speaker: v["speaker"].as_str().unwrap_or_default().to_string(),
            kind,
            t: v["t"].as_f64().unwrap_or(f64::NAN),
            emitted: v["emitted"].as_f64().unwrap_or(f64::NAN),
        });
    }
    Ok(out)
}

/// One-to-one matching, nearest first, within `tol`.
fn score(refs: &[Boundary], events: &[Emitted], tol: f64, tally: &mut Tally) {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        for (j, e) in events.iter().enumerate() {
            let d = (e.t - r.t).abs();
            if e.speaker == r.speaker && e.kind == r.kind && d <= tol {
                pairs.push((d, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ref_used = vec![false; refs.len()];
    let mut ev_used = vec![false; events.len()];
    for (_, i, j) in pairs {
        if ref_used[i] || ev_used[j] {
            continue;
        }
        ref_used[i] = true;
        ev_used[j] = true;
        tally
            .latencies
            .push((refs[i].kind, events[j].emitted - refs[i].t, refs[i].bridged));
        tally
            .placement
            .push((refs[i].kind, events[j].t - refs[i].t, refs[i].bridged));
    }
    for (r, used) in refs.iter().zip(&ref_used) {
        tally.refs += 1;
        tally.refs_bridged += usize::from(r.bridged);
        if !used {
            tally.misses += 1;
            tally.misses_bridged += usize::from(r.bridged);
        }
    }
    tally.false_alarms += ev_used.iter().filter(|u| !**u).count();
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn cpu_seconds() -> f64 {
    // utime + stime, fields 14 and 15 of /proc/self/stat, in clock ticks
    // (100 per second on Linux).
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        f.get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (tick(11) + tick(12)) / 100.0
}

fn summary(label: &str, lat: &[(Kind, f64, bool)], filter: impl Fn(&(Kind, f64, bool)) -> bool) {
    let mut v: Vec<f64> = lat
        .iter()
        .filter(|x| filter(x))
        .map(|x| x.1 * 1000.0)
        .collect();
    let n = v.len();
    let med = percentile(&mut v, 0.5);
    let p95 = percentile(&mut v, 0.95);
    let mean = v.iter().sum::<f64>() / n.max(1) as f64;
    println!("{label:<30} n={n:<5} median {med:>6.0} ms  p95 {p95:>6.0} ms  mean {mean:>6.0} ms");
}

fn main() -> anyhow::Result<()> {
    let mut speed = 1.0;
    let mut tol = 0.5;
    let mut config = Config::default();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--speed" => speed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1.0),
            "--tolerance" => tol = args.next().and_then(|s| s.parse().ok()).unwrap_or(0.5),
            "--config" => {
                let p = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--config FILE"))?;
                config = Config::load(Path::new(&p))?;
            }
            _ => files.push(PathBuf::from(a)),
        }
    }
    if files.is_empty() {
        anyhow::bail!("usage: live_latency [--speed N] [--tolerance S] [--config F] FILE.wav...");
    }
    let min_gap = f64::from(config.vad.min_gap_ms) / 1000.0;
    let tmp = std::env::temp_dir().join(format!("hearken-live-latency-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let mut all = Tally::default();
    let mut audio = 0.0;
    let cpu0 = cpu_seconds();
    let wall0 = std::time::Instant::now();
    for f in &files {
        let refs = reference(f, min_gap)?;
        let events = replay(f, speed, &config, &tmp)?;
        let mut t = Tally::default();
        score(&refs, &events, tol, &mut t);
        let dur = hearken::audio::open(f)
            .ok()
            .and_then(|s| s.info().duration_secs())
            .unwrap_or(0.0);
        audio += dur;
        let mut v: Vec<f64> = t.latencies.iter().map(|x| x.1 * 1000.0).collect();
        println!(
            "{:<40} {:>5.1} s  boundaries {:>4}  matched {:>4}  median {:>5.0} ms  p95 {:>5.0} ms  misses {:>3}  false alarms {:>3}",
            f.file_name().unwrap_or_default().to_string_lossy(),
            dur,
            t.refs,
            t.latencies.len(),
            percentile(&mut v.clone(), 0.5),
            percentile(&mut v, 0.95),
            t.misses,
            t.false_alarms
        );
        all.latencies.extend(t.latencies);
        all.placement.extend(t.placement);
        all.misses += t.misses;
        all.misses_bridged += t.misses_bridged;
        all.false_alarms += t.false_alarms;
        all.refs += t.refs;
        all.refs_bridged += t.refs_bridged;
    }
    let cpu = cpu_seconds() - cpu0;
    let wall = wall0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&tmp);
    println!();
    println!(
        "{} calls, {:.1} s of audio at speed {speed} (tolerance {tol} s, end hold {} ms)",
        files.len(),
        audio,
        config.live.speech_end_hold_s * 1000.0
    );
    summary("all boundaries", &all.latencies, |_| true);
    summary("onsets", &all.latencies, |x| x.0 == Kind::Onset);
    summary("offsets", &all.latencies, |x| x.0 == Kind::Offset);
    summary("all, not bridged", &all.latencies, |x| !x.2);
    summary("placement (t - ref), onsets", &all.placement, |x| {
        x.0 == Kind::Onset
    });
    summary("placement (t - ref), offsets", &all.placement, |x| {
        x.0 == Kind::Offset
    });
    println!(
        "reference boundaries {} ({} beside pauses < {:.0} ms); misses {} ({:.1}%), of which {} beside such pauses; false alarms {} ({:.1}% of events)",
        all.refs,
        all.refs_bridged,
        min_gap * 1000.0,
        all.misses,
        100.0 * all.misses as f64 / all.refs.max(1) as f64,
        all.misses_bridged,
        all.false_alarms,
        100.0 * all.false_alarms as f64 / (all.latencies.len() + all.false_alarms).max(1) as f64
    );
    println!(
        "CPU {:.2} s over {:.1} s of wall time: {:.2}% of one core per second of audio ({:.2}% of the wall time)",
        cpu,
        wall,
        100.0 * cpu / audio.max(1e-9),
        100.0 * cpu / wall.max(1e-9)
    );
    Ok(())
}
