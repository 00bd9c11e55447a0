//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled sample call.
pub fn sample(name: &str) -> PathBuf {
    root().join("samples").join(name)
}

/// Runs the hearken binary with `args`.
pub fn hearken(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearken"))
        .args(args)
        .output()
        .expect("the hearken binary runs")
}

/// Like [`hearken`], with paths.
pub fn hearken_os(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearken"))
        .args(args)
        .output()
        .expect("the hearken binary runs")
}

/// Runs `hearken eval --json` with `args` (references, hypotheses,
/// options), asserts it succeeds, and returns its pooled figures.
pub fn eval_pooled(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let mut all: Vec<&std::ffi::OsStr> = vec!["eval".as_ref()];
    all.extend_from_slice(args);
    all.push("--json".as_ref());
    let eval = hearken_os(&all);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let scores: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    scores["pooled"].clone()
}

/// Validates a report file against `schemas/report.schema.json`; panics with
/// every violation listed.
pub fn validate_report(path: &Path) -> serde_json::Value {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} violates the schema:\n{}",
        path.display(),
        errors.join("\n")
    );
    report
}

/// Validates every `*.json` report in `dir`.
pub fn validate_dir(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            validate_report(&p);
            n += 1;
        }
    }
    n
}

/// Compares `actual` with the golden file `tests/golden/<name>`; with
/// `HEARKEN_BLESS=1` rewrites the golden file instead.
pub fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var("HEARKEN_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with HEARKEN_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(20)
            .map(|(i, (a, b))| format!("line {}:\n  golden: {a}\n  actual: {b}", i + 1))
            .collect();
        panic!(
            "{} differs from its golden file ({} vs {} lines); first differences:\n{}\n(re-bless with HEARKEN_BLESS=1 if the change is intended)",
            name,
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// Writes a 16-bit WAV of `channels` planar signals.
pub fn write_wav(path: &Path, rate: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = channels[0].len();
    for i in 0..n {
        for c in channels {
            w.write_sample((c[i].clamp(-1.0, 1.0) * 32767.0) as i16)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

/// True when `sox` is installed (the set-up installs it).
pub fn have_sox() -> bool {
    Command::new("sox")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Whisper model the transcription tests use: `HEARKEN_MODEL`, or the
/// one `scripts/fetch-model.sh` installs. `None` (the caller skips, saying
/// so) when it is missing, unless `HEARKEN_REQUIRE_MODEL` is set, as in CI:
/// then a missing model fails the test.
pub fn whisper_model() -> Option<PathBuf> {
    let p = std::env::var_os("HEARKEN_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            root()
                .join("models")
                .join(hearken::transcribe::DEFAULT_MODEL)
        });
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("HEARKEN_REQUIRE_MODEL").is_err(),
        "{} is missing: run scripts/fetch-model.sh",
        p.display()
    );
    eprintln!(
        "no Whisper model at {}: test skipped (scripts/fetch-model.sh installs it)",
        p.display()
    );
    None
}

/// `hearken analyze --quiet --model MODEL [extra...] --out DIR samples/NAME`
/// with the Whisper model, asserting success; returns the validated
/// report. `None` (the test skips) without a model or without the
/// `transcribe` feature.
pub fn transcribe_sample(name: &str, extra: &[&str], out: &Path) -> Option<serde_json::Value> {
    let model = whisper_model()?;
    if !cfg!(feature = "transcribe") {
        return None;
    }
    let mut args: Vec<&std::ffi::OsStr> = vec!["analyze".as_ref(), "--quiet".as_ref()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let wav = sample(name);
    args.extend([
        "--model".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        wav.as_os_str(),
    ]);
    let run = hearken_os(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stem = Path::new(name).file_stem().expect("a file name");
    Some(validate_report(&out.join(stem).with_extension("json")))
}
