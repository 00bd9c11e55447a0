//! Looks inside the mono-call diarizer: for each call, the share of speech
//! frames attributed to the right speaker after each step (clustering,
//! every resegmentation round, overlap), against the reference RTTM. A tool
//! for tuning (`cargo run --release --example diar_dev -- --ref DIR
//! [--oracle-vad] [--config FILE] CALL.wav...`).

use hearken::audio::{self, ChannelResampler};
use hearken::diarize::frontend::{MelFrontEnd, band_top_hz};
use hearken::diarize::{SpeechFrames, diarize_traced};
use hearken::dsp::features::FeatureExtractor;
use hearken::formats;
use hearken::time::{HOP, Time};
use hearken::timeline::Timeline;
use std::path::{Path, PathBuf};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut refdir = PathBuf::from("target/devset/ref");
    let mut oracle = false;
    let mut oracle_init = false;
    let mut config = hearken::config::Config::default();
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ref" => refdir = PathBuf::from(args.next().unwrap_or_default()),
            "--oracle-vad" => oracle = true,
            "--oracle-init" => oracle_init = true,
            "--config" => {
                config = hearken::config::Config::load(Path::new(&args.next().unwrap_or_default()))?
            }
            _ => files.push(PathBuf::from(a)),
        }
    }
    let mut totals: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for f in &files {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        let rttm = std::fs::read_to_string(refdir.join(format!("{stem}.rttm")))?;
        let ann = formats::rttm_annotations(&formats::parse_rttm(&rttm)?)
            .remove(&stem)
            .unwrap_or_default();
        let tracks: Vec<Timeline> = ann.tracks().map(|(_, t)| t.clone()).collect();
        let mut src = audio::open(f)?;
        let rate = src.info().sample_rate;
        let nch = src.info().channels;
        let mut bufs: Vec<Vec<f32>> = vec![Vec::new(); nch];
        let mut all = Vec::new();
        loop {
            bufs.iter_mut().for_each(Vec::clear);
            if src.read(&mut bufs, 4096)? == 0 {
                break;
            }
            all.extend_from_slice(&bufs[0]);
        }
        let mut rs = ChannelResampler::new(rate)?;
        let mut x = Vec::new();
        rs.process(&all, &mut x)?;
        rs.finish(&mut x)?;
        let mut fx = FeatureExtractor::new();
        let mut feats = Vec::new();
        fx.push(&x, &mut feats);
        fx.finish(&mut feats);
        let yin = hearken::annotate::pitch::track(&x, &Default::default())?;
        let speech: Timeline = if oracle {
            ann.support()
        } else {
            let spans = hearken::vad::detect(&[feats.clone()], &config.vad);
            Timeline::from_spans(spans.into_iter().flatten())
        };
        let mut fe = MelFrontEnd::new(band_top_hz(rate));
        let mut frames = SpeechFrames::new();
        let mut truth = Vec::new();
        let mut keep = |i: i64, m: &[u8; 24]| {
            let c = Time(i * HOP + HOP / 2);
            if speech.contains(c) {
                frames.push(i, m);
                let bits = tracks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.contains(c))
                    .fold(0u8, |a, (k, _)| a | (1 << k));
                truth.push(bits);
            }
        };
        fe.push(&x, &mut keep);
        fe.finish(&mut keep);
        if std::env::var_os("DIAR_NO_PITCH").is_none() {
            frames.set_pitch(|i| {
                feats
                    .get(i as usize)
                    .map(hearken::diarize::frame_pitch_code)
                    .unwrap_or(0)
            });
        }
        if let Ok(dir) = std::env::var("DIAR_DUMP") {
            // index (u32 LE), 24 band bytes, truth bits, pitch and periodicity (f32 LE): 37 bytes a frame.
            let mut out = Vec::new();
            for (r, &t) in truth.iter().enumerate().take(frames.len()) {
                out.extend_from_slice(&(frames.frame(r) as u32).to_le_bytes());
                out.extend_from_slice(frames.mel(r));
                out.push(t);
                let ff = feats
                    .get(frames.frame(r) as usize)
                    .copied()
                    .unwrap_or_default();
                let y = yin
                    .get(frames.frame(r) as usize)
                    .and_then(|p| p.hz)
                    .unwrap_or(0.0);
                out.extend_from_slice(&y.to_le_bytes());
                out.extend_from_slice(&ff.periodicity.to_le_bytes());
            }
            std::fs::write(Path::new(&dir).join(format!("{stem}.bin")), out)?;
        }
        if std::env::var_os("DIAR_PITCH_DEBUG").is_some() {
            for who in [1u8, 2] {
                let mut v: Vec<u8> = (0..frames.len())
                    .filter(|&r| truth[r] == who && frames.pitch(r) != 0)
                    .map(|r| frames.pitch(r))
                    .collect();
                v.sort();
                let q = |f: f64| {
                    v.get((f * v.len() as f64) as usize)
                        .map(|&c| 50.0 * 2f32.powf(hearken::diarize::pitch::pitch_octaves(c)))
                        .unwrap_or(0.0)
                };
                eprintln!(
                    "{stem} spk{who}: voiced {}/{} q25 {:.0} med {:.0} q75 {:.0}",
                    v.len(),
                    truth.iter().filter(|&&t| t == who).count(),
                    q(0.25),
                    q(0.5),
                    q(0.75)
                );
            }
        }
        let mut line = format!("{stem:<30}");
        let mut step = 0;
        let t0 = std::time::Instant::now();
        let init: Vec<u8> = truth
            .iter()
            .map(|&b| {
                if b == 1 {
                    0
                } else if b == 2 {
                    1
                } else {
                    255
                }
            })
            .collect();
        let init = oracle_init.then_some(init.as_slice());
        let labels = diarize_traced(&frames, &config.diarize, init, &mut |name, bits| {
            let acc = accuracy(&truth, bits);
            line.push_str(&format!(" {}:{:.3}", &name[..3], acc));
            let e = totals.entry(format!("{step:02}{name}")).or_default();
            e.0 += acc * truth.len() as f64;
            e.1 += truth.len() as f64;
            step += 1;
        });
        let dt = t0.elapsed().as_secs_f64();
        let acc = accuracy(&truth, &labels.bits);
        let (p, r) = overlap_pr(&truth, &labels.bits);
        line.push_str(&format!(
            " fin:{acc:.3} ovlP:{p:.2} ovlR:{r:.2} {:.0}ms",
            dt * 1e3
        ));
        let e = totals.entry("99final".into()).or_default();
        e.0 += acc * truth.len() as f64;
        e.1 += truth.len() as f64;
        println!("{line}");
    }
    for (k, (a, n)) in totals {
        println!("{k}: {:.3}", a / n);
    }
    Ok(())
}

/// Share of frames with one reference speaker whose hypothesis holds that
/// speaker (best of the two label permutations).
fn accuracy(truth: &[u8], hyp: &[u8]) -> f64 {
    let swap = |b: u8| ((b & 1) << 1) | ((b >> 1) & 1);
    let mut best = 0.0f64;
    for perm in [false, true] {
        let (mut ok, mut n) = (0usize, 0usize);
        for (&t, &h) in truth.iter().zip(hyp) {
            if t.count_ones() != 1 {
                continue;
            }
            n += 1;
            let h = if perm { swap(h) } else { h };
            if h == t {
                ok += 1;
            }
        }
        best = best.max(ok as f64 / n.max(1) as f64);
    }
    best
}

/// Frame precision and recall of overlap.
fn overlap_pr(truth: &[u8], hyp: &[u8]) -> (f64, f64) {
    let (mut tp, mut hp, mut rp) = (0, 0, 0);
    for (&t, &h) in truth.iter().zip(hyp) {
        let (a, b) = (t.count_ones() >= 2, h.count_ones() >= 2);
        tp += usize::from(a && b);
        hp += usize::from(b);
        rp += usize::from(a);
    }
    (tp as f64 / hp.max(1) as f64, tp as f64 / rp.max(1) as f64)
}
