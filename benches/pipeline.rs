//! Stage benchmarks, reported as real-time factors.
//!
//! Criterion's throughput is set to the audio's duration in seconds, so the
//! "elem/s" it prints is seconds of audio per second of computing: the
//! real-time factor. Everything runs on one thread (the pipeline spreads the
//! stages over threads; these figures are per core).
//!
//! The audio is the bundled sample call (real recorded speech), repeated to
//! the length each figure is defined for:
//! * `decode_resample_frame/10min_8k_stereo`: WAV decode + resampling to
//!   16 kHz + framing and spectra of a 10-minute 8 kHz 16-bit stereo call
//!   (target: 300× real time);
//! * `vad_metrics/16k_stereo`: frame features, the voice detector (both
//!   channels, echo model included) and the conversation metrics of a 16 kHz
//!   stereo call (target: 3,000× real time);
//! * `resample/*`, `features/*`, `vad/*`, `metrics/*`: the stages alone;
//! * `annotate/pitch_16k_mono`: the YIN tracker on every other 10 ms frame
//!   of one channel, as the pipeline's default `pitch_stride` asks (the
//!   pipeline analyses only the periodic speech frames among them, about a
//!   quarter, so this is its worst case).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hearken::annotate::pitch::{PitchConfig, PitchTracker};
use hearken::audio::{self, ChannelResampler, wav};
use hearken::conversation::{self, ConversationConfig};
use hearken::dsp::features::{FeatureExtractor, FrameFeatures};
use hearken::time::Time;
use hearken::timeline::{Annotation, Timeline};
use hearken::vad::{self, VadConfig};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn sample() -> (u32, Vec<Vec<f32>>) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo-call.wav");
    let (info, ch) = wav::read_all(&p).expect("the sample call is readable");
    (info.sample_rate, ch)
}

fn repeat(ch: &[Vec<f32>], frames: usize) -> Vec<Vec<f32>> {
    ch.iter()
        .map(|c| c.iter().copied().cycle().take(frames).collect())
        .collect()
}

/// A 10-minute 8 kHz 16-bit stereo WAV in a temporary directory.
fn ten_minute_wav(dir: &Path) -> PathBuf {
    let (rate, ch) = sample();
    let long = repeat(&ch, rate as usize * 600);
    let path = dir.join("ten-minutes.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).expect("temp file");
    for i in 0..long[0].len() {
        for c in &long {
            w.write_sample((c[i] * 32767.0) as i16).expect("write");
        }
    }
    w.finalize().expect("finalize");
    path
}

fn to_16k(rate: u32, ch: &[Vec<f32>]) -> Vec<Vec<f32>> {
    ch.iter()
        .map(|c| {
            let mut r = ChannelResampler::new(rate).expect("rate");
            let mut out = Vec::new();
            r.process(c, &mut out).expect("resample");
            r.finish(&mut out).expect("resample");
            out
        })
        .collect()
}

/// Features of a whole channel, fed in the pipeline's block size (4096
/// frames of 8 kHz audio become 8192 samples at 16 kHz).
fn features(x: &[f32]) -> Vec<FrameFeatures> {
    let mut fx = FeatureExtractor::new();
    let mut out = Vec::with_capacity(x.len() / 160 + 1);
    for block in x.chunks(8192) {
        fx.push(block, &mut out);
    }
    fx.finish(&mut out);
    out
}

fn decode_resample_frame(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = ten_minute_wav(dir.path());
    let mut g = c.benchmark_group("decode_resample_frame");
    g.sample_size(10);
    g.throughput(Throughput::Elements(600));
    g.bench_function("10min_8k_stereo", |b| {
        b.iter(|| {
            let mut src = audio::open(&path).expect("open");
            let rate = src.info().sample_rate;
            let mut rs: Vec<ChannelResampler> = (0..2)
                .map(|_| ChannelResampler::new(rate).expect("rate"))
                .collect();
            let mut fx: Vec<FeatureExtractor> = (0..2).map(|_| FeatureExtractor::new()).collect();
            let mut block: Vec<Vec<f32>> = (0..2).map(|_| Vec::with_capacity(4096)).collect();
            let mut x = Vec::with_capacity(8192);
            let mut frames = Vec::with_capacity(64);
            let mut n = 0usize;
            loop {
                block.iter_mut().for_each(Vec::clear);
                if src.read(&mut block, 4096).expect("read") == 0 {
                    break;
                }
                for ch in 0..2 {
                    x.clear();
                    rs[ch].process(&block[ch], &mut x).expect("resample");
                    frames.clear();
                    fx[ch].push(&x, &mut frames);
                    n += frames.len();
                }
            }
            black_box(n)
        })
    });
    g.finish();
}

fn vad_and_metrics(c: &mut Criterion) {
    let (rate, ch) = sample();
    let x16 = to_16k(rate, &ch);
    let secs = x16[0].len() as f64 / 16_000.0;
    let cfg = VadConfig::default();
    let conv_cfg = ConversationConfig::default();

    let mut g = c.benchmark_group("vad_metrics");
    g.throughput(Throughput::Elements(secs.round() as u64));
    g.bench_function("16k_stereo", |b| {
        b.iter(|| {
            let f: Vec<Vec<FrameFeatures>> = x16.iter().map(|x| features(x)).collect();
            let spans = vad::detect(&f, &cfg);
            let mut ann = Annotation::new();
            for (id, s) in ["agent", "customer"].iter().zip(spans) {
                ann.insert(id, Timeline::from_spans(s));
            }
            black_box(conversation::analyze(
                &ann,
                Time(x16[0].len() as i64),
                &conv_cfg,
            ))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(secs.round() as u64));
    g.bench_function("resample_8k_to_16k_stereo", |b| {
        b.iter(|| black_box(to_16k(rate, &ch)))
    });
    g.bench_function("features_16k_stereo", |b| {
        b.iter(|| black_box(x16.iter().map(|x| features(x)).collect::<Vec<_>>()))
    });
    let f: Vec<Vec<FrameFeatures>> = x16.iter().map(|x| features(x)).collect();
    g.bench_function("vad_stereo", |b| {
        b.iter(|| black_box(vad::detect(&f, &cfg)))
    });
    let spans = vad::detect(&f, &cfg);
    let mut ann = Annotation::new();
    for (id, s) in ["agent", "customer"].iter().zip(spans) {
        ann.insert(id, Timeline::from_spans(s));
    }
    let dur = Time(x16[0].len() as i64);
    g.bench_function("metrics", |b| {
        b.iter(|| black_box(conversation::analyze(&ann, dur, &conv_cfg)))
    });
    g.finish();
}

fn pitch(c: &mut Criterion) {
    let (rate, ch) = sample();
    let x16 = to_16k(rate, &ch);
    let secs = x16[0].len() as f64 / 16_000.0;
    let mut tracker = PitchTracker::new(PitchConfig::default()).expect("default config");
    let mut out = Vec::with_capacity(x16[0].len() / 160 + 2);
    let mut g = c.benchmark_group("annotate");
    g.throughput(Throughput::Elements(secs.round() as u64));
    g.bench_function("pitch_16k_mono", |b| {
        b.iter(|| {
            out.clear();
            for block in x16[0].chunks(8192) {
                tracker.push_selected(block, &mut out, |i| i % 2 == 0);
            }
            tracker.finish(&mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, decode_resample_frame, vad_and_metrics, pitch);
criterion_main!(benches);
