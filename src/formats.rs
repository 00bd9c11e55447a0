//! The standard annotation formats researchers exchange: RTTM (who spoke
//! when), UEM (which regions are scored) and STM (reference transcripts), as
//! NIST's scoring tools define them. Reading reports errors with the line
//! they occur on; writing is what `hearken analyze` and `hearken eval` emit.

use crate::time::Time;
use crate::timeline::{Annotation, Span, Timeline};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A malformed line in an annotation file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct FormatError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> FormatError {
    FormatError {
        line,
        message: message.into(),
    }
}

fn number(field: &str, what: &str, line: usize) -> Result<f64, FormatError> {
    let v: f64 = field
        .parse()
        .map_err(|_| err(line, format!("{what} {field:?} is not a number")))?;
    if !v.is_finite() {
        return Err(err(line, format!("{what} {field:?} is not finite")));
    }
    Ok(v)
}

fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with(";;") && !l.starts_with('#'))
}

/// One RTTM `SPEAKER` line.
#[derive(Clone, Debug, PartialEq)]
pub struct RttmLine {
    /// File id (the recording's stem).
    pub file: String,
    /// 1-based channel.
    pub channel: u32,
    /// Where the speaker speaks.
    pub span: Span,
    /// Speaker name.
    pub speaker: String,
}

/// Parses RTTM text: `SPEAKER <file> <chan> <onset> <dur> <NA> <NA> <speaker> <NA> <NA>`.
/// Lines of other types (`SPKR-INFO`, `LEXEME`, ...) are skipped.
pub fn parse_rttm(text: &str) -> Result<Vec<RttmLine>, FormatError> {
    let mut out = Vec::new();
    for (n, line) in content_lines(text) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f[0] != "SPEAKER" {
            if f[0].chars().all(|c| c.is_ascii_uppercase() || c == '-') {
                continue;
            }
            return Err(err(n, format!("expected a SPEAKER line, found {:?}", f[0])));
        }
        if f.len() < 8 {
            return Err(err(
                n,
                format!("a SPEAKER line needs at least 8 fields, found {}", f.len()),
            ));
        }
        let channel = f[2]
            .parse::<u32>()
            .map_err(|_| err(n, format!("channel {:?} is not a positive integer", f[2])))?;
        let onset = number(f[3], "onset", n)?;
        let dur = number(f[4], "duration", n)?;
        if onset < 0.0 {
            return Err(err(n, format!("negative onset {onset}")));
        }
        if dur < 0.0 {
            return Err(err(n, format!("negative duration {dur}")));
        }
        out.push(RttmLine {
            file: f[1].to_string(),
            channel,
            span: Span::from_secs(onset, onset + dur),
            speaker: f[7].to_string(),
        });
    }
    Ok(out)
}

/// Groups RTTM lines into one annotation per file id (labels in order of
/// first appearance).
pub fn rttm_annotations(lines: &[RttmLine]) -> BTreeMap<String, Annotation> {
    let mut out: BTreeMap<String, Annotation> = BTreeMap::new();
    for l in lines {
        out.entry(l.file.clone())
            .or_default()
            .add(&l.speaker, l.span);
    }
    out
}

/// Writes the speech of each speaker as RTTM lines; `channels` gives the
/// 1-based channel of each label.
pub fn write_rttm(file: &str, speech: &Annotation, channel_of: impl Fn(&str) -> u32) -> String {
    let mut lines: Vec<(Span, String)> = Vec::new();
    for (label, tl) in speech.tracks() {
        for s in tl.iter() {
            lines.push((
                *s,
                format!(
                    "SPEAKER {file} {} {:.3} {:.3} <NA> <NA> {label} <NA> <NA>",
                    channel_of(label),
                    s.start.secs(),
                    s.duration().secs()
                ),
            ));
        }
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut out = String::new();
    for (_, l) in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Parses UEM text (`<file> <chan> <start> <end>`) into a scored timeline
/// per file id.
pub fn parse_uem(text: &str) -> Result<BTreeMap<String, Timeline>, FormatError> {
    let mut out: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for (n, line) in content_lines(text) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            return Err(err(
                n,
                format!("a UEM line needs 4 fields, found {}", f.len()),
            ));
        }
        let start = number(f[2], "start", n)?;
        let end = number(f[3], "end", n)?;
        if start < 0.0 || end < start {
            return Err(err(n, format!("bad region {start}–{end}")));
        }
        out.entry(f[0].to_string())
            .or_default()
            .push(Span::from_secs(start, end));
    }
    Ok(out
        .into_iter()
        .map(|(k, v)| (k, Timeline::from_spans(v)))
        .collect())
}

/// One STM segment.
#[derive(Clone, Debug, PartialEq)]
pub struct StmLine {
    /// File id.
    pub file: String,
    /// Channel field as written.
    pub channel: String,
    /// Speaker.
    pub speaker: String,
    /// Time span.
    pub span: Span,
    /// Transcript (empty for `ignore_time_segment_in_scoring`).
    pub text: String,
    /// True when the segment is excluded from scoring.
    pub ignore: bool,
}

/// Parses STM text: `<file> <chan> <speaker> <start> <end> [<label>] text...`.
pub fn parse_stm(text: &str) -> Result<Vec<StmLine>, FormatError> {
    let mut out = Vec::new();
    for (n, line) in content_lines(text) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            return Err(err(
                n,
                format!("an STM line needs at least 5 fields, found {}", f.len()),
            ));
        }
        let start = number(f[3], "start", n)?;
        let end = number(f[4], "end", n)?;
        if start < 0.0 || end < start {
            return Err(err(n, format!("bad segment {start}–{end}")));
        }
        let mut rest = &f[5..];
        if rest
            .first()
            .is_some_and(|w| w.starts_with('<') && w.ends_with('>'))
        {
            rest = &rest[1..];
        }
        let text = rest.join(" ");
        let ignore = text.eq_ignore_ascii_case("ignore_time_segment_in_scoring");
        out.push(StmLine {
            file: f[0].to_string(),
            channel: f[1].to_string(),
            speaker: f[2].to_string(),
            span: Span::from_secs(start, end),
            text: if ignore { String::new() } else { text },
            ignore,
        });
    }
    Ok(out)
}

/// Writes STM lines (sorted by start time).
pub fn write_stm(lines: &[StmLine]) -> String {
    let mut sorted: Vec<&StmLine> = lines.iter().collect();
    sorted.sort_by_key(|l| (l.span.start, l.speaker.clone()));
    let mut out = String::new();
    for l in sorted {
        let text = if l.ignore {
            "ignore_time_segment_in_scoring"
        } else {
            &l.text
        };
        let _ = writeln!(
            out,
            "{} {} {} {:.3} {:.3} {}",
            l.file,
            l.channel,
            l.speaker,
            l.span.start.secs(),
            l.span.end.secs(),
            text
        );
    }
    out
}

/// The UEM line covering a whole file.
pub fn whole_file_uem(file: &str, duration: Time) -> String {
    format!("{file} 1 0.000 {:.3}\n", duration.secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rttm_round_trip() {
        let mut ann = Annotation::new();
        ann.insert(
            "agent",
            Timeline::from_spans([Span::from_secs(0.5, 1.25), Span::from_secs(3.0, 4.0)]),
        );
        ann.insert(
            "customer",
            Timeline::from_spans([Span::from_secs(1.0, 2.0)]),
        );
        let text = write_rttm("call1", &ann, |l| if l == "agent" { 1 } else { 2 });
        assert!(text.starts_with("SPEAKER call1 1 0.500 0.750 <NA> <NA> agent <NA> <NA>\n"));
        let lines = parse_rttm(&text).unwrap();
        assert_eq!(lines[1].channel, 2);
        let back = rttm_annotations(&lines);
        assert_eq!(back["call1"].get("agent"), ann.get("agent"));
        assert_eq!(back["call1"].get("customer"), ann.get("customer"));
    }

    #[test]
    fn rttm_errors_name_the_line() {
        let e = parse_rttm(
            "SPEAKER a 1 0.0 1.0 <NA> <NA> x <NA> <NA>\nSPEAKER a 1 2.0 -1 <NA> <NA> x <NA> <NA>\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("negative duration"));
        let e = parse_rttm("SPEAKER a 1 zero 1.0 <NA> <NA> x\n").unwrap_err();
        assert!(e.to_string().contains("line 1: onset \"zero\""), "{e}");
        let e = parse_rttm("SPEAKER a 1\n").unwrap_err();
        assert!(e.message.contains("at least 8 fields"));
        let e = parse_rttm("hello there\n").unwrap_err();
        assert!(e.message.contains("expected a SPEAKER line"));
        assert!(
            parse_rttm(";; comment\nSPKR-INFO a 1 <NA> <NA> <NA> unknown x <NA>\n")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn uem_and_stm() {
        let u = parse_uem("a 1 0.0 10.0\na 1 20 30\n").unwrap();
        assert_eq!(u["a"].total(), Time::from_secs(20.0));
        assert!(parse_uem("a 1 5 2\n").is_err());
        let s = parse_stm(";; x\ncall 1 agent 0.5 2.0 <o,f0,male> hello there\ncall 2 customer 3 4 ignore_time_segment_in_scoring\n").unwrap();
        assert_eq!(s[0].text, "hello there");
        assert!(s[1].ignore && s[1].text.is_empty());
        let text = write_stm(&s);
        assert_eq!(parse_stm(&text).unwrap(), s);
    }
}
