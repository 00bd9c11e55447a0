//! Times the YIN pitch tracker per frame (a profiling aid).
use hearken::annotate::pitch::{PitchConfig, PitchTracker};
use hearken::audio::{ChannelResampler, wav};
use std::path::Path;
use std::time::Instant;
fn main() -> anyhow::Result<()> {
    let (info, ch) = wav::read_all(Path::new("samples/demo-call.wav"))?;
    let mut r = ChannelResampler::new(info.sample_rate)?;
    let mut x = Vec::new();
    r.process(&ch[0], &mut x)?;
    r.finish(&mut x)?;
    let mut best = f64::MAX;
    let mut n = 0;
    let mut voiced = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let mut pt = PitchTracker::new(PitchConfig::default())?;
        let mut out = Vec::new();
        for b in x.chunks(8192) {
            pt.push(b, &mut out);
        }
        pt.finish(&mut out);
        n = out.len();
        voiced = out.iter().filter(|f| f.hz.is_some()).count();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{n} frames ({voiced} voiced): {:.0} ns/frame",
        best * 1e9 / n as f64
    );
    Ok(())
}
