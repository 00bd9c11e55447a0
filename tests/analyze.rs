//! `hearken analyze` end to end: golden outputs, the report schema, bad
//! input, the format matrix, atomic outputs and cancellation.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// `hearken analyze --no-transcribe` (transcription has its own tests in
/// `tests/transcribe.rs`; these need no model and stay deterministic).
fn analyze_into(out: &Path, inputs: &[&Path], extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "analyze".as_ref(),
        "--no-transcribe".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ];
    args.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    hearken_os(&args)
}

#[test]
fn demo_call_matches_its_golden_report_and_rttm() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze_into(dir.path(), &[&sample("demo-call.wav")], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut report = validate_report(&dir.path().join("demo-call.json"));
    // The path is as given on the command line: make it machine-independent.
    report["input"]["path"] = "samples/demo-call.wav".into();
    golden(
        "demo-call.json",
        &(serde_json::to_string_pretty(&report).unwrap() + "\n"),
    );
    golden(
        "demo-call.rttm",
        &fs::read_to_string(dir.path().join("demo-call.rttm")).unwrap(),
    );
    let summary = fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 2, "{summary}");
    assert!(summary.lines().nth(1).unwrap().contains(",ok,"));
}

#[test]
fn reports_validate_and_mono_is_split_into_agent_and_customer() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze_into(
        dir.path(),
        &[&sample("demo-call.wav"), &sample("demo-mono.wav")],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(validate_dir(dir.path()), 2);
    let mono: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("demo-mono.json")).unwrap())
            .unwrap();
    assert_eq!(mono["input"]["format"], "wav/mulaw");
    assert_eq!(mono["speakers"][0]["id"], "agent");
    assert_eq!(mono["speakers"][1]["id"], "customer");
    assert_eq!(mono["speakers"][1]["channel"], 0);
    assert_eq!(mono["speakers"][1]["diarized"], true);
    assert_eq!(mono["diarization"]["speakers"], 2);
    assert_eq!(mono["diarization"]["agent_rule"], "first-speaker-is-agent");
    let stereo: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("demo-call.json")).unwrap())
            .unwrap();
    assert!(
        stereo.get("diarization").is_none(),
        "stereo is not diarized"
    );
    assert!(stereo["speakers"][0].get("diarized").is_none());
}

#[test]
fn no_diarize_keeps_one_speaker_agnostic_mono_speaker() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze_into(dir.path(), &[&sample("demo-mono.wav")], &["--no-diarize"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mono = validate_report(&dir.path().join("demo-mono.json"));
    assert_eq!(mono["speakers"].as_array().unwrap().len(), 1);
    assert_eq!(mono["speakers"][0]["id"], "speaker");
    assert!(mono.get("diarization").is_none());
    assert!(
        mono.get("listening").is_none(),
        "no agent/customer: no listening figure"
    );
    // --speakers 1 is the same switch.
    let dir1 = tempfile::tempdir().unwrap();
    let out = analyze_into(
        dir1.path(),
        &[&sample("demo-mono.wav")],
        &["--speakers", "1"],
    );
    assert!(out.status.success());
    let one = validate_report(&dir1.path().join("demo-mono.json"));
    assert_eq!(one["speakers"][0]["id"], "speaker");
}

#[test]
fn an_impossible_speaker_count_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze_into(
        dir.path(),
        &[&sample("demo-mono.wav")],
        &["--speakers", "9"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("speakers") && err.contains("1 to 8"), "{err}");
}

#[test]
fn roles_swap_channels() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze_into(
        dir.path(),
        &[&sample("demo-call.wav")],
        &["--roles", "customer,agent", "--format", "json"],
    );
    assert!(out.status.success());
    let r: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("demo-call.json")).unwrap())
            .unwrap();
    assert_eq!(r["speakers"][0]["id"], "customer");
    assert_eq!(r["speakers"][0]["channel"], 0);
    assert!(
        !dir.path().join("demo-call.rttm").exists(),
        "only json was asked for"
    );
    assert!(!dir.path().join("summary.csv").exists());
}

/// Writes the bad inputs of the pipeline issue into `dir`.
fn bad_inputs(dir: &Path) -> Vec<(&'static str, &'static str)> {
    use hearken::audio::wav::canonical_header;
    fs::write(dir.join("empty.wav"), b"").unwrap();
    let mut h = canonical_header(1, 2, 8000, 16, 64000);
    h.truncate(30);
    fs::write(dir.join("truncated.wav"), &h).unwrap();
    fs::write(dir.join("text.wav"), b"this is not audio, just a note\n").unwrap();
    fs::write(dir.join("adpcm.wav"), canonical_header(2, 1, 8000, 4, 0)).unwrap();
    fs::write(
        dir.join("nochannels.wav"),
        canonical_header(1, 0, 8000, 16, 0),
    )
    .unwrap();
    fs::write(dir.join("rate0.wav"), canonical_header(1, 1, 0, 16, 0)).unwrap();
    fs::write(
        dir.join("rate10m.wav"),
        canonical_header(1, 1, 10_000_000, 16, 0),
    )
    .unwrap();
    fs::create_dir(dir.join("no-audio-here")).unwrap();
    fs::write(dir.join("no-audio-here").join("notes.txt"), b"x").unwrap();
    vec![
        ("empty.wav", "empty file"),
        ("truncated.wav", "truncated header"),
        ("text.wav", "looks like text"),
        ("adpcm.wav", "unsupported codec"),
        ("nochannels.wav", "0 channels"),
        ("rate0.wav", "sample rate 0 Hz"),
        ("rate10m.wav", "sample rate 10000000 Hz"),
        ("no-audio-here", "directory without audio"),
    ]
}

#[test]
fn bad_inputs_get_one_line_each_and_the_batch_goes_on() {
    let inputs = tempfile::tempdir().unwrap();
    let cases = bad_inputs(inputs.path());
    let good = inputs.path().join("good.wav");
    fs::copy(sample("demo-call.wav"), &good).unwrap();
    let before = fs::read(&good).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let mut paths: Vec<std::path::PathBuf> =
        cases.iter().map(|(n, _)| inputs.path().join(n)).collect();
    paths.push(good.clone());
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let out = analyze_into(out_dir.path(), &refs, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for (name, cause) in &cases {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error: ") && l.contains(name))
            .unwrap_or_else(|| panic!("no error line for {name} in:\n{stderr}"));
        assert!(
            line.contains(cause),
            "{name}: expected {cause:?} in {line:?}"
        );
    }
    assert!(
        stderr.contains(&format!("{} input(s) failed", cases.len())),
        "{stderr}"
    );
    // The good call was analysed and written; the input is untouched.
    validate_report(&out_dir.path().join("good.json"));
    assert_eq!(fs::read(&good).unwrap(), before);
    let summary = fs::read_to_string(out_dir.path().join("summary.csv")).unwrap();
    assert_eq!(
        summary
            .lines()
            .skip(1)
            .filter(|l| l.contains(",error,"))
            .count(),
        cases.len(),
        "{summary}"
    );
    // No temporary files are left behind.
    for e in fs::read_dir(out_dir.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp-"), "left over: {name}");
    }
}

#[test]
fn unwritable_output_directory_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, b"x").unwrap();
    let out = analyze_into(&blocker.join("out"), &[&sample("demo-call.wav")], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("output directory") && stderr.contains("a-file"),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_names_its_cause_once() {
    // Regression: the cause was printed twice ("...: No such file or
    // directory (os error 2): No such file or directory (os error 2)").
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hearken"))
        .args([
            "eval",
            "--ref",
            "no-such-ref.rttm",
            "--hyp",
            "no-such-hyp.rttm",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
}

#[test]
fn truncated_data_is_read_to_its_end_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = fs::read(sample("demo-call.wav")).unwrap();
    let keep = bytes.len() / 2;
    bytes.truncate(keep);
    let p = dir.path().join("cut.wav");
    fs::write(&p, &bytes).unwrap();
    let out_dir = dir.path().join("out");
    let out = analyze_into(&out_dir, &[&p], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("claims"),
        "{stderr}"
    );
    let r = validate_report(&out_dir.join("cut.json"));
    let d = r["input"]["duration_s"].as_f64().unwrap();
    assert!((d - 17.5).abs() < 0.1, "duration {d}");
    assert!(r["warnings"][0].as_str().unwrap().contains("real end"));
}

#[test]
fn output_never_overwrites_an_input() {
    // --out pointing at the input directory, which holds a reference RTTM
    // with the very name the output would take.
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("demo-call.wav");
    fs::copy(sample("demo-call.wav"), &wav).unwrap();
    let rttm = dir.path().join("demo-call.rttm");
    fs::copy(sample("demo-call.rttm"), &rttm).unwrap();
    let before = fs::read(&rttm).unwrap();
    let out = analyze_into(dir.path(), &[dir.path()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        fs::read(&rttm).unwrap(),
        before,
        "the reference RTTM was overwritten"
    );
    assert!(
        !dir.path().join("demo-call.json").exists(),
        "a refused call writes nothing"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite input"));
}

/// Every supported encoding and rate gives (nearly) the same speech as the
/// 16-bit original. Fixtures are made with sox, which the set-up installs.
#[test]
fn format_and_rate_matrix() {
    if !have_sox() {
        eprintln!("sox not installed: skipping (scripts/setup.sh installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = sample("demo-call.wav");
    let variants: &[(&str, &[&str])] = &[
        ("pcm8.wav", &["-b", "8", "-e", "unsigned-integer"]),
        ("pcm24.wav", &["-b", "24"]),
        ("pcm32.wav", &["-b", "32", "-e", "signed-integer"]),
        ("float32.wav", &["-b", "32", "-e", "floating-point"]),
        ("mulaw.wav", &["-e", "u-law"]),
        ("alaw.wav", &["-e", "a-law"]),
        ("r11k.wav", &["-r", "11025"]),
        ("r16k.wav", &["-r", "16000"]),
        ("r22k.wav", &["-r", "22050"]),
        ("r44k.wav", &["-r", "44100"]),
        ("r48k.wav", &["-r", "48000"]),
        ("r96k.wav", &["-r", "96000"]),
        ("flac.flac", &[]),
        ("mp3.mp3", &["-C", "192"]),
    ];
    let mut made = Vec::new();
    for (name, opts) in variants {
        let dst = dir.path().join(name);
        let mut cmd = std::process::Command::new("sox");
        cmd.arg(&src);
        let (fmt_opts, effects): (Vec<&str>, Vec<&str>) = match opts.first() {
            Some(&"-r") => (vec![], vec!["rate", "-v", opts[1]]),
            _ => (opts.to_vec(), vec![]),
        };
        cmd.args(&fmt_opts).arg(&dst).args(&effects);
        let ok = cmd.output().is_ok_and(|o| o.status.success());
        if ok {
            made.push(dst);
        } else {
            assert!(name.ends_with(".mp3"), "sox could not make {name}");
            eprintln!("sox cannot write MP3 here: MP3 not covered by this run");
        }
    }
    let out_dir = dir.path().join("out");
    let refs: Vec<&Path> = made
        .iter()
        .map(|p| p.as_path())
        .chain([src.as_path()])
        .collect();
    let out = analyze_into(&out_dir, &refs, &["--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let original = validate_report(&out_dir.join("demo-call.json"));
    let speech =
        |r: &serde_json::Value, who: &str| -> f64 { r["talk"][who]["time_s"].as_f64().unwrap() };
    for p in &made {
        let stem = p.file_stem().unwrap().to_string_lossy();
        let r = validate_report(&out_dir.join(format!("{stem}.json")));
        // 8-bit PCM keeps 48 dB of range: speech more than ~25 dB below the
        // speaker's level falls under the quantisation step and is lost.
        let tolerance = if stem == "pcm8" { 0.2 } else { 0.05 };
        for who in ["agent", "customer"] {
            let (a, b) = (speech(&original, who), speech(&r, who));
            assert!(
                (a - b).abs() / a < tolerance,
                "{stem}: {who} talk {b:.2} s vs {a:.2} s in the original"
            );
        }
        let d = r["input"]["duration_s"].as_f64().unwrap();
        let tolerance = if stem == "mp3" { 0.25 } else { 0.01 }; // MP3 frames pad the end (soxi agrees)
        assert!((d - 35.04).abs() < tolerance, "{stem}: duration {d}");
    }
}

#[test]
fn ctrl_c_stops_cleanly_without_half_written_outputs() {
    // Many copies of the sample, one job: the run is long enough to be
    // interrupted in the middle.
    let inputs = tempfile::tempdir().unwrap();
    for i in 0..200 {
        let p = inputs.path().join(format!("c{i:03}.wav"));
        fs::hard_link(sample("demo-call.wav"), &p)
            .or_else(|_| fs::copy(sample("demo-call.wav"), &p).map(|_| ()))
            .unwrap();
    }
    let out_dir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hearken"))
        .args([
            "analyze",
            "--quiet",
            "--no-transcribe",
            "--jobs",
            "1",
            "--out",
        ])
        .arg(out_dir.path())
        .arg(inputs.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let names: Vec<String> = fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    let reports = names.iter().filter(|n| n.ends_with(".json")).count();
    assert!(reports < 200, "the run was not interrupted");
    // Every report that exists is complete and valid.
    assert_eq!(validate_dir(out_dir.path()), reports);
}

#[test]
fn an_unknown_output_format_is_one_line_naming_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hearken"))
        .args([
            "analyze",
            "--no-transcribe",
            "--format",
            "json,nope",
            "--out",
        ])
        .arg(dir.path())
        .arg(sample("demo-call.wav"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("\"nope\"") && stderr.contains("json, rttm"),
        "{stderr}"
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

/// Regression: summary.csv listed calls in the order they finished, which
/// changed from run to run.
#[test]
fn the_summary_lists_calls_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    // The first file is long, the next ones short: with two workers the
    // short ones finish first.
    let demo = hound::WavReader::open(sample("demo-call.wav")).unwrap();
    let spec = demo.spec();
    let samples: Vec<f32> = demo
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    let ch = usize::from(spec.channels);
    let channels: Vec<Vec<f32>> = (0..ch)
        .map(|c| samples.iter().skip(c).step_by(ch).copied().collect())
        .collect();
    let long: Vec<Vec<f32>> = channels
        .iter()
        .map(|c| c.iter().cycle().take(c.len() * 3).copied().collect())
        .collect();
    let short: Vec<Vec<f32>> = channels.iter().map(|c| c[..c.len() / 4].to_vec()).collect();
    write_wav(&input.join("a-long.wav"), spec.sample_rate, &long);
    for name in ["b-short.wav", "c-short.wav", "d-short.wav"] {
        write_wav(&input.join(name), spec.sample_rate, &short);
    }
    let out = dir.path().join("out");
    let o = analyze_into(&out, &[&input], &["--no-annotate", "--jobs", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let files: Vec<&str> = summary
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(|f| f.rsplit('/').next().unwrap_or(f))
        .collect();
    assert_eq!(
        files,
        ["a-long.wav", "b-short.wav", "c-short.wav", "d-short.wav"]
    );
}
