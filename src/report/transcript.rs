//! The transcript in the formats people and tools read: SubRip (`.srt`),
//! WebVTT with voice tags (`.vtt`), plain text (`.txt`) and NIST STM
//! (`.stm`, for sclite-style scoring).

use super::Utterance;
use std::fmt::Write as _;

/// `agent` → `Agent`: the speaker label shown to people.
pub fn display_name(id: &str) -> String {
    let mut c = id.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn clock(secs: f64, sep: char) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}{sep}{ms:03}")
}

/// SubRip: one numbered cue per utterance, the speaker before the text.
pub fn srt(utterances: &[Utterance]) -> String {
    let mut out = String::new();
    for (i, u) in utterances.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}\n{} --> {}\n{}: {}\n",
            i + 1,
            clock(u.start_s, ','),
            clock(u.end_s, ','),
            display_name(&u.speaker),
            u.text
        );
    }
    out
}

/// Escapes text for a WebVTT cue payload.
fn vtt_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// WebVTT with voice tags (`<v Agent>`), which players show as the speaker.
pub fn vtt(utterances: &[Utterance]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for u in utterances {
        let _ = writeln!(
            out,
            "{} --> {}\n<v {}>{}\n",
            clock(u.start_s, '.'),
            clock(u.end_s, '.'),
            vtt_escape(&display_name(&u.speaker)),
            vtt_escape(&u.text)
        );
    }
    out
}

/// Plain text: `[mm:ss.s] Agent: text`, one utterance per line.
pub fn txt(utterances: &[Utterance]) -> String {
    let mut out = String::new();
    for u in utterances {
        let m = (u.start_s / 60.0).floor();
        let _ = writeln!(
            out,
            "[{:02}:{:04.1}] {}: {}",
            m as u64,
            u.start_s - m * 60.0,
            display_name(&u.speaker),
            u.text
        );
    }
    out
}

/// NIST STM: `<file> <channel> <speaker> <start> <end> <text>`;
/// `channel_of` gives the 1-based channel of a speaker id.
pub fn stm(file: &str, utterances: &[Utterance], channel_of: impl Fn(&str) -> u32) -> String {
    let mut out = String::new();
    for u in utterances {
        let _ = writeln!(
            out,
            "{file} {} {} {:.3} {:.3} {}",
            channel_of(&u.speaker),
            u.speaker,
            u.start_s,
            u.end_s,
            u.text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utt(speaker: &str, s: f64, e: f64, text: &str) -> Utterance {
        Utterance {
            speaker: speaker.into(),
            start_s: s,
            end_s: e,
            text: text.into(),
            words: Vec::new(),
            tone: Default::default(),
            wpm: None,
            articulation_wpm: None,
            pauses: None,
            markers: Vec::new(),
            marker_phrases: Vec::new(),
        }
    }

    #[test]
    fn formats() {
        let u = vec![
            utt("agent", 1.5, 3.25, "Hello <there> & welcome."),
            utt("customer", 3661.0, 3662.5, "Hi."),
        ];
        let s = srt(&u);
        assert!(
            s.starts_with("1\n00:00:01,500 --> 00:00:03,250\nAgent: Hello <there> & welcome.\n"),
            "{s}"
        );
        assert!(s.contains("01:01:01,000 --> 01:01:02,500\nCustomer: Hi."));
        let v = vtt(&u);
        assert!(v.starts_with("WEBVTT\n\n00:00:01.500 --> 00:00:03.250\n<v Agent>Hello &lt;there&gt; &amp; welcome.\n"), "{v}");
        assert_eq!(
            txt(&u).lines().next(),
            Some("[00:01.5] Agent: Hello <there> & welcome.")
        );
        let st = stm("call", &u, |s| if s == "agent" { 1 } else { 2 });
        assert_eq!(
            st.lines().nth(1),
            Some("call 2 customer 3661.000 3662.500 Hi.")
        );
        let parsed = crate::formats::parse_stm(&st).unwrap();
        assert_eq!(parsed.len(), 2);
    }
}
