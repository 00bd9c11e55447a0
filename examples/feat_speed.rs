//! Times frame-feature extraction per channel-frame (a profiling aid).
use hearken::audio::{ChannelResampler, wav};
use hearken::dsp::features::FeatureExtractor;
use std::path::Path;
use std::time::Instant;
fn main() -> anyhow::Result<()> {
    let (info, ch) = wav::read_all(Path::new("samples/demo-call.wav"))?;
    let mut x16 = Vec::new();
    for c in &ch {
        let mut r = ChannelResampler::new(info.sample_rate)?;
        let mut o = Vec::new();
        r.process(c, &mut o)?;
        r.finish(&mut o)?;
        x16.push(o);
    }
    let mut best = f64::MAX;
    let mut frames = 0;
    for _ in 0..10 {
        let t = Instant::now();
        frames = 0;
        for x in &x16 {
            let mut fx = FeatureExtractor::new();
            let mut out = Vec::with_capacity(64);
            for b in x.chunks(8192) {
                out.clear();
                fx.push(b, &mut out);
                frames += out.len();
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let secs = x16[0].len() as f64 / 16000.0;
    println!(
        "{frames} frames, {:.0} ns/frame, {:.0}x real time (stereo)",
        best * 1e9 / frames as f64,
        secs / best
    );
    Ok(())
}
