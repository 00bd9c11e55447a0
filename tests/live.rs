//! `hearken live` end to end, on replays (no sound card needed): the final
//! report equals `analyze`'s, the events, the recording, the options, and
//! the meter on screen (golden text from ratatui's TestBackend, and the
//! real terminal through tmux when it is installed).

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};

fn live(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let mut all: Vec<&std::ffi::OsStr> = vec!["live".as_ref()];
    all.extend_from_slice(args);
    hearken_os(&all)
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// The figures the issue names, within 1% (relative; 10 ms absolute for
/// times near zero).
fn assert_same_figures(live: &serde_json::Value, batch: &serde_json::Value) {
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 0.01 * a.abs().max(b.abs()).max(1.0),
            "{what}: live {a} vs analyze {b}"
        );
    };
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    for id in ["agent", "customer"] {
        close(
            f(&live["talk"][id]["share_of_speech"]),
            f(&batch["talk"][id]["share_of_speech"]),
            &format!("{id} talk share"),
        );
        close(
            f(&live["talk"][id]["time_s"]),
            f(&batch["talk"][id]["time_s"]),
            &format!("{id} talk time"),
        );
        close(
            f(&live["speaker_metrics"][id]["interruptions_made"]),
            f(&batch["speaker_metrics"][id]["interruptions_made"]),
            &format!("{id} interruptions"),
        );
    }
    close(
        f(&live["silence"]["total_s"]),
        f(&batch["silence"]["total_s"]),
        "silence",
    );
    close(
        f(&live["overlap"]["total_s"]),
        f(&batch["overlap"]["total_s"]),
        "overlap",
    );
    assert_eq!(
        live["interruptions"].as_array().unwrap().len(),
        batch["interruptions"].as_array().unwrap().len()
    );
}

fn analyze(input: &Path, out: &Path) -> serde_json::Value {
    let o = hearken_os(&[
        os("analyze"),
        os("--no-transcribe"),
        os("--quiet"),
        os("--out"),
        out.as_os_str(),
        input.as_os_str(),
    ]);
    ok(&o);
    let stem = input.file_stem().unwrap().to_string_lossy().to_string();
    json(&out.join(format!("{stem}.json")))
}

/// The demo call at 48 kHz (linear interpolation: a different rate takes
/// the low-latency resampler path).
fn demo_48k(dir: &Path) -> PathBuf {
    let (_, ch) = hearken::audio::wav::read_all(&sample("demo-call.wav")).unwrap();
    let up: Vec<Vec<f32>> = ch
        .iter()
        .map(|c| {
            (0..c.len() * 6)
                .map(|i| {
                    let (k, r) = (i / 6, (i % 6) as f32 / 6.0);
                    let next = c.get(k + 1).copied().unwrap_or(0.0);
                    c[k] * (1.0 - r) + next * r
                })
                .collect()
        })
        .collect();
    let path = dir.join("demo48k.wav");
    write_wav(&path, 48_000, &up);
    path
}

#[test]
fn a_replay_ends_with_the_report_analyze_makes() {
    let dir = tempfile::tempdir().unwrap();
    let d48 = demo_48k(dir.path());
    for input in [sample("demo-call.wav"), d48] {
        let (lo, bo) = (dir.path().join("live"), dir.path().join("batch"));
        let out = live(&[
            os("--input"),
            input.as_os_str(),
            os("--speed"),
            os("50"),
            os("--out"),
            lo.as_os_str(),
        ]);
        ok(&out);
        let stem = input.file_stem().unwrap().to_string_lossy().to_string();
        let l = validate_report(&lo.join(format!("{stem}.json")));
        let b = analyze(&input, &bo);
        assert_same_figures(&l, &b);
        // In fact the whole report is the same: one path makes both.
        assert_eq!(l, b, "{}", input.display());
        assert_eq!(
            fs::read_to_string(lo.join(format!("{stem}.rttm"))).unwrap(),
            fs::read_to_string(bo.join(format!("{stem}.rttm"))).unwrap()
        );
    }
}

#[test]
fn events_are_json_lines_from_start_to_report() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let out = live(&[
        os("--input"),
        sample("demo-call.wav").as_os_str(),
        os("--speed"),
        os("50"),
        os("--out"),
        dir.path().as_os_str(),
        os("--events"),
        events.as_os_str(),
    ]);
    ok(&out);
    let lines: Vec<serde_json::Value> = fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kind = |v: &serde_json::Value| v["event"].as_str().unwrap().to_string();
    assert_eq!(kind(&lines[0]), "start");
    assert_eq!(
        lines[0]["speakers"],
        serde_json::json!(["agent", "customer"])
    );
    assert_eq!(kind(lines.last().unwrap()), "report");
    let end = lines.iter().find(|v| kind(v) == "end").unwrap();
    assert_eq!(end["finished"], true);
    let report = json(&dir.path().join("demo-call.json"));
    for (i, id) in ["agent", "customer"].iter().enumerate() {
        // The report rounds shares to 6 decimals; the event does not.
        let (a, b) = (
            end["speakers"][i]["share"].as_f64().unwrap(),
            report["talk"][*id]["share_of_speech"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-6, "{id}: event {a} vs report {b}");
        assert_eq!(
            end["speakers"][i]["interruptions_made"],
            report["speaker_metrics"][*id]["interruptions_made"]
        );
    }
    for id in ["agent", "customer"] {
        for k in ["speech_start", "speech_end"] {
            let n = lines
                .iter()
                .filter(|v| kind(v) == k && v["speaker"] == id)
                .count();
            assert!(n >= 3, "{n} {k} of {id}");
        }
    }
    // Starts and ends alternate per speaker, in time order, and every
    // event is stamped no earlier than what it reports.
    for id in ["agent", "customer"] {
        let mut speaking = false;
        let mut last = -1.0;
        for v in lines.iter().filter(|v| v["speaker"] == id) {
            let t = v["t"].as_f64().unwrap();
            assert!(t >= last, "{v}");
            last = t;
            assert!(v["emitted"].as_f64().unwrap() >= t, "{v}");
            match kind(v).as_str() {
                "speech_start" => assert!(!speaking, "{v}"),
                _ => assert!(speaking, "{v}"),
            }
            speaking = !speaking;
        }
        assert!(!speaking);
    }
    assert!(lines.iter().any(|v| kind(v) == "snapshot"));
    assert!(lines.iter().any(|v| kind(v) == "alert"));
}

#[test]
fn duration_and_record_keep_what_was_heard() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("call.wav");
    let out = live(&[
        os("--input"),
        sample("demo-call.wav").as_os_str(),
        os("--speed"),
        os("50"),
        os("--duration"),
        os("12"),
        os("--record"),
        rec.as_os_str(),
        os("--name"),
        os("first"),
        os("--out"),
        dir.path().as_os_str(),
    ]);
    ok(&out);
    let report = json(&dir.path().join("first.json"));
    assert_eq!(report["input"]["duration_s"], 12.0);
    let r = hound::WavReader::open(&rec).unwrap();
    assert_eq!((r.spec().channels, r.spec().sample_rate), (2, 16_000));
    assert_eq!(r.duration(), 12 * 16_000);
    // The recording analysed again gives the same figures (16-bit samples
    // of the same 16 kHz audio).
    let again = analyze(&rec, &dir.path().join("again"));
    assert_same_figures(&again, &report);
    // An existing recording is never overwritten.
    let out = live(&[
        os("--input"),
        sample("demo-call.wav").as_os_str(),
        os("--speed"),
        os("50"),
        os("--record"),
        rec.as_os_str(),
        os("--out"),
        dir.path().as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to overwrite"), "{err}");
}

#[test]
fn bad_options_and_inputs_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.wav");
    fs::write(&text, "hello\n").unwrap();
    let demo = sample("demo-call.wav");
    let cases: Vec<(Vec<&std::ffi::OsStr>, &str)> = vec![
        (
            vec![os("--input"), text.as_os_str()],
            "notes.wav: not an audio file",
        ),
        (
            vec![os("--input"), demo.as_os_str(), os("--speed"), os("0")],
            "--speed must be a positive number",
        ),
        (vec![os("--speed"), os("2")], "--speed applies to --input"),
        (
            vec![os("--input"), demo.as_os_str(), os("--duration"), os("-1")],
            "--duration must be a positive",
        ),
    ];
    for (args, want) in cases {
        let out = live(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// The meter of a replayed call, rendered by ratatui's TestBackend.
#[cfg(feature = "live")]
#[test]
fn the_meter_draws_a_replayed_call() {
    use hearken::batch::CallSetup;
    use hearken::config::Config;
    use hearken::live::clock::StreamClock;
    use hearken::live::replay::ReplaySource;
    use hearken::live::ring::FeedStatus;
    use hearken::live::session::{self, LiveInput, LiveOptions, Screen};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    let dir = tempfile::tempdir().unwrap();
    let path = sample("demo-call.wav");
    let clock = Arc::new(StreamClock::new(100.0));
    let stop = Arc::new(AtomicBool::new(false));
    let input = LiveInput {
        source: Box::new(ReplaySource::new(
            hearken::audio::open(&path).unwrap(),
            clock.clone(),
            stop.clone(),
            None,
        )),
        clock,
        feed: Arc::new(FeedStatus::default()),
        description: "replay samples/demo-call.wav".into(),
        display: "samples/demo-call.wav".into(),
        stem: "demo-call".into(),
        audio: None,
    };
    let opts = LiveOptions {
        setup: CallSetup::new(Config::default()).unwrap(),
        out_dir: dir.path().to_path_buf(),
        formats: Default::default(),
        events: None,
        record: None,
        screen: Screen::Quiet,
    };
    let outcome = session::run(input, &opts, &stop).unwrap();
    let snap = outcome.last;
    assert!(snap.finished);
    let mut t = Terminal::new(TestBackend::new(86, 20)).unwrap();
    t.draw(|f| hearken::live::ui::draw(f, &snap, "replay samples/demo-call.wav", false))
        .unwrap();
    let buf = t.backend().buffer();
    let text: String = (0..buf.area.height)
        .map(|y| {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            line.trim_end().to_string() + "\n"
        })
        .collect();
    golden("live-meter.txt", &text);
    // The figures on screen are the report's.
    let r = &outcome.result.report;
    let agent = format!("{:.0}%", r.talk["agent"].share_of_speech * 100.0);
    assert!(
        text.lines()
            .any(|l| l.starts_with("│ agent") && l.contains(&agent)),
        "{text}"
    );
}

/// The real thing in a real terminal: tmux runs the meter, its screen is
/// captured, `q` ends the call, and the report is written.
#[cfg(feature = "live")]
#[test]
fn the_meter_runs_in_a_terminal_and_q_ends_the_call() {
    use std::process::Command;
    if !Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("tmux not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let session = format!("hearken-live-{}", std::process::id());
    let cmd = format!(
        "{} live --input {} --out {}; sleep 30",
        env!("CARGO_BIN_EXE_hearken"),
        sample("demo-call.wav").display(),
        dir.path().display()
    );
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().unwrap();
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "100",
        "-y",
        "24",
        &cmd,
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let capture = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).to_string()
    };
    let mut screen = String::new();
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        screen = capture();
        if screen.contains("AGENT speaking") {
            break;
        }
    }
    let _ = tmux(&["send-keys", "-t", &session, "q"]);
    let report = dir.path().join("demo-call.json");
    for _ in 0..50 {
        if report.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let after = capture();
    let _ = tmux(&["kill-session", "-t", &session]);
    assert!(screen.contains("hearken live · replay"), "{screen}");
    assert!(
        screen.contains("whole call") && screen.contains("last 2 min"),
        "{screen}"
    );
    assert!(screen.contains("AGENT speaking"), "{screen}");
    assert!(report.exists(), "no report after q:\n{after}");
    let r = json(&report);
    // Ended early, by the key: a part of the 35 s call.
    let d = r["input"]["duration_s"].as_f64().unwrap();
    assert!(d > 0.5 && d < 30.0, "{d}");
    assert!(after.contains("report:"), "{after}");
}

/// Without a sound card (CI has none; an ALSA without its configuration
/// stands for one here) listing devices and capturing end with one clear
/// line, never a panic.
#[cfg(feature = "live")]
#[test]
fn no_sound_card_is_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hearken"))
            .args(args)
            .env("ALSA_CONFIG_PATH", dir.path().join("no-alsa.conf"))
            .output()
            .unwrap()
    };
    let out = run(&["live", "--list-devices"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    match out.status.code() {
        Some(0) => assert!(!stdout.trim().is_empty(), "{stderr}"),
        code => {
            assert_eq!(code, Some(2), "{stderr}");
            assert!(
                stderr.lines().last().unwrap().starts_with("error: "),
                "{stderr}"
            );
        }
    }
    let o = dir.path().join("out");
    let out = run(&["live", "--duration", "0.5", "--out", o.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if out.status.code() != Some(0) {
        // ALSA prints its own diagnostics first; ours is the last line.
        let last = stderr.lines().last().unwrap();
        assert!(
            last.starts_with("error: ") && last.contains("sound card"),
            "{stderr}"
        );
    }
}

/// A real cpal stream where ALSA's `null` device exists (it captures
/// zeros): the stream opens, the callback feeds the ring, and `--duration`
/// ends the call with a report of that length. Skipped without it.
#[cfg(feature = "live")]
#[test]
fn capture_from_the_alsa_null_device_when_present() {
    let list = hearken(&["live", "--list-devices"]);
    if !String::from_utf8_lossy(&list.stdout)
        .lines()
        .any(|l| l.starts_with("null "))
    {
        eprintln!("no ALSA null device: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = live(&[
        os("--device"),
        os("null"),
        os("--duration"),
        os("1"),
        os("--no-tui"),
        os("--name"),
        os("null"),
        os("--out"),
        dir.path().as_os_str(),
    ]);
    ok(&out);
    let report = validate_report(&dir.path().join("null.json"));
    assert_eq!(report["input"]["duration_s"], 1.0);
    assert_eq!(report["talk"]["agent"]["time_s"], 0.0);
}
