//! Prints the conversation events an RTTM implies (interruptions,
//! backchannels, silences), with hearken's definitions: a debugging aid for
//! comparing hypotheses with references.
//! `cargo run --example events -- ref.rttm [duration_s]`

use hearken::conversation::{ConversationConfig, analyze};
use hearken::formats::{parse_rttm, rttm_annotations};
use hearken::time::Time;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: events FILE.rttm [DURATION_S]"))?;
    let lines = parse_rttm(&std::fs::read_to_string(&path)?)?;
    for (file, ann) in rttm_annotations(&lines) {
        let end = ann.support().extent().map_or(0.0, |s| s.end.secs());
        let dur: f64 = std::env::args()
            .nth(2)
            .and_then(|d| d.parse().ok())
            .unwrap_or(end);
        let c = analyze(&ann, Time::from_secs(dur), &ConversationConfig::default());
        println!("{file}");
        for e in &c.events {
            println!(
                "  {:?} at {:.2} {} -> {} overlap {:.2} utt {:.2}-{:.2}",
                e.kind,
                e.at.secs(),
                e.interrupter,
                e.interrupted,
                e.overlap.secs(),
                e.utterance.start.secs(),
                e.utterance.end.secs()
            );
        }
        for s in c.silences.iter() {
            println!(
                "  silence {:.2}-{:.2} ({:.2})",
                s.start.secs(),
                s.end.secs(),
                s.duration().secs()
            );
        }
    }
    Ok(())
}
