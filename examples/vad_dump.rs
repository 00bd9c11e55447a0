//! Dumps what the voice detector sees, frame by frame, as CSV: a tool for
//! tuning and for looking at failures (`cargo run --release --example
//! vad_dump -- call.wav > frames.csv`).

use hearken::audio::{ChannelResampler, wav};
use hearken::dsp::features::FeatureExtractor;
use hearken::vad::{Detector, VadConfig};
use std::path::Path;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: vad_dump FILE [CONFIG.toml]"))?;
    let cfg = match std::env::args().nth(2) {
        Some(p) => hearken::config::Config::load(Path::new(&p))?.vad,
        None => VadConfig::default(),
    };
    let (info, channels) = wav::read_all(Path::new(&path))?;
    let chans = channels.len().min(2);
    let mut feats = Vec::new();
    for ch in channels.iter().take(chans) {
        let mut rs = ChannelResampler::new(info.sample_rate)?;
        let mut x = Vec::new();
        rs.process(ch, &mut x)?;
        rs.finish(&mut x)?;
        let mut fx = FeatureExtractor::new();
        let mut f = Vec::new();
        fx.push(&x, &mut f);
        fx.finish(&mut f);
        feats.push(f);
    }
    let n = feats.iter().map(Vec::len).min().unwrap_or(0);
    let mut det = Detector::new(chans, &cfg);
    let mut segs = Vec::new();
    let mut header = vec!["frame".to_string()];
    for c in 0..chans {
        for k in [
            "snr", "level", "peak", "per", "pitch", "flat", "raw", "voiced", "score",
        ] {
            header.push(format!("{k}{c}"));
        }
    }
    println!("{}", header.join(","));
    let mut row = Vec::new();
    for i in 0..n {
        row.clear();
        row.extend(feats.iter().map(|f| f[i]));
        det.push(&row, &mut segs);
        let mut cells = vec![i.to_string()];
        for (c, f) in row.iter().enumerate() {
            let v = det.view(c);
            cells.extend([
                format!("{:.1}", v.snr_db),
                format!("{:.1}", v.level_db),
                format!("{:.1}", v.peak_db),
                format!("{:.2}", v.periodicity),
                format!("{:.0}", f.pitch_hz),
                format!("{:.2}", f.flatness),
                format!("{:.2}", v.raw),
                format!("{}", v.voiced as u8),
                format!("{:.2}", det.score(c)),
            ]);
        }
        println!("{}", cells.join(","));
    }
    Ok(())
}
