//! `summary.csv`: one row per call of a batch, failures included.
//!
//! Columns are fixed (a spreadsheet or a BI tool imports them without a
//! schema) and named after the report fields they come from. Agent and
//! customer columns are empty for calls without those roles (mono calls
//! analysed with `--no-diarize`); `speech_s` is the time anyone speaks,
//! whatever the roles. `speaker_split_uncertain` is `true` for a mono call
//! whose speaker split is uncertain (its per-speaker columns are likely
//! wrong), `false` for other diarized calls and empty for stereo calls.

use super::Report;

/// Header of `summary.csv`.
pub const COLUMNS: &[&str] = &[
    "file",
    "status",
    "error",
    "format",
    "sample_rate",
    "channels",
    "duration_s",
    "speech_s",
    "agent_talk_s",
    "customer_talk_s",
    "agent_share_of_speech",
    "customer_share_of_speech",
    "agent_share_of_call",
    "customer_share_of_call",
    "agent_listening_share",
    "meets_listening_target",
    "overlap_s",
    "overlap_count",
    "interruptions_by_agent",
    "interruptions_by_customer",
    "backchannels_by_agent",
    "backchannels_by_customer",
    "silence_s",
    "silence_share_of_call",
    "silence_count",
    "long_silence_count",
    "agent_longest_monologue_s",
    "customer_longest_monologue_s",
    "agent_response_latency_median_s",
    "customer_response_latency_median_s",
    "warnings",
    "speaker_split_uncertain",
];

/// One row of the summary.
#[derive(Clone, Debug)]
pub enum Row<'a> {
    /// A call that was analysed.
    Ok(&'a Report),
    /// A call that failed, with its one-line error.
    Failed {
        /// The input path.
        file: &'a str,
        /// Why.
        error: &'a str,
    },
}

fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn cells(row: &Row<'_>) -> Vec<String> {
    let r = match row {
        Row::Ok(r) => r,
        Row::Failed { file, error } => {
            let mut v = vec![file.to_string(), "error".into(), error.to_string()];
            v.resize(COLUMNS.len(), String::new());
            return v;
        }
    };
    let talk = |id: &str, f: fn(&super::TalkOut) -> f64| {
        r.talk.get(id).map(|t| num(f(t))).unwrap_or_default()
    };
    let metric = |id: &str, f: fn(&super::SpeakerMetrics) -> String| {
        r.speaker_metrics.get(id).map(f).unwrap_or_default()
    };
    let speech_s: f64 = r.speech_annotation().support().total().secs();
    vec![
        r.input.path.clone(),
        "ok".into(),
        String::new(),
        r.input.format.clone(),
        r.input.sample_rate.to_string(),
        r.input.channels.to_string(),
        num(r.input.duration_s),
        num(speech_s),
        talk("agent", |t| t.time_s),
        talk("customer", |t| t.time_s),
        talk("agent", |t| t.share_of_speech),
        talk("customer", |t| t.share_of_speech),
        talk("agent", |t| t.share_of_call),
        talk("customer", |t| t.share_of_call),
        r.listening
            .as_ref()
            .map(|l| num(l.agent_listening_share))
            .unwrap_or_default(),
        r.listening
            .as_ref()
            .map(|l| l.meets_target.to_string())
            .unwrap_or_default(),
        num(r.overlap.total_s),
        r.overlap.count.to_string(),
        metric("agent", |m| m.interruptions_made.to_string()),
        metric("customer", |m| m.interruptions_made.to_string()),
        metric("agent", |m| m.backchannels_made.to_string()),
        metric("customer", |m| m.backchannels_made.to_string()),
        num(r.silence.total_s),
        num(r.silence.share_of_call),
        r.silence.count.to_string(),
        r.silence.long.len().to_string(),
        metric("agent", |m| {
            m.longest_monologue
                .as_ref()
                .map(|x| num(x.duration_s))
                .unwrap_or_default()
        }),
        metric("customer", |m| {
            m.longest_monologue
                .as_ref()
                .map(|x| num(x.duration_s))
                .unwrap_or_default()
        }),
        metric("agent", |m| {
            m.response_latency.median_s.map(num).unwrap_or_default()
        }),
        metric("customer", |m| {
            m.response_latency.median_s.map(num).unwrap_or_default()
        }),
        r.warnings.join("; "),
        r.diarization
            .as_ref()
            .map(|d| d.uncertain.to_string())
            .unwrap_or_default(),
    ]
}

/// Renders the whole summary.
pub fn render(rows: &[Row<'_>]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for row in rows {
        w.write_record(cells(row))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_rows_keep_the_column_count() {
        let out = render(&[Row::Failed {
            file: "a, b.wav",
            error: "empty file",
        }])
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let rec = rdr.records().next().unwrap().unwrap();
        assert_eq!(rec.len(), COLUMNS.len());
        assert_eq!(&rec[0], "a, b.wav");
        assert_eq!(&rec[1], "error");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.1234), "0.123");
    }
}
