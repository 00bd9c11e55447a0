//! The meter on one line, for a terminal that is not a terminal (a log, a
//! pipe) or `--no-tui`: printed once a second to standard error.

use super::events::AlertKind;
use super::meter::Snapshot;

/// `mm:ss` of a number of seconds.
pub fn clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// A short name of an alert.
pub fn alert_name(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::AgentShare => "agent talks too much",
        AlertKind::Monologue => "agent monologue",
        AlertKind::DeadAir => "dead air",
        AlertKind::Interruption => "agent interrupted",
    }
}

/// One line with the essentials of `s`.
pub fn line(s: &Snapshot) -> String {
    let mut parts = vec![clock(s.t)];
    let speaking: Vec<&str> = s
        .speakers
        .iter()
        .filter(|p| p.speaking)
        .map(|p| p.id.as_str())
        .collect();
    parts.push(if speaking.is_empty() {
        format!("silence {:.1}s", s.silence_now_s)
    } else {
        format!("speaking: {}", speaking.join("+"))
    });
    let window = (s.recent_window_s / 60.0).round();
    let talk: Vec<String> = s
        .speakers
        .iter()
        .map(|p| {
            format!(
                "{} {:.0}% ({:.0}% last {window:.0} min)",
                p.id,
                p.share * 100.0,
                p.share_recent * 100.0
            )
        })
        .collect();
    parts.push(format!("talk {}", talk.join(" / ")));
    if let Some(a) = s.speaker("agent") {
        parts.push(format!("agent interruptions {}", a.interruptions_made));
    }
    parts.push(format!("overlap {:.1}s", s.overlap_s));
    if s.capture.overruns > 0 {
        parts.push(format!(
            "overruns {} ({:.2}s lost)",
            s.capture.overruns, s.capture.dropped_s
        ));
    }
    for d in &s.capture.devices {
        if let Some(p) = &d.problem {
            parts.push(format!("{}: {p}", d.name));
        }
    }
    if !s.alerts.is_empty() {
        let names: Vec<String> = s
            .alerts
            .iter()
            .map(|a| alert_name(*a).to_uppercase())
            .collect();
        parts.push(format!("ALERT {}", names.join(", ")));
    }
    parts.join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::meter::SpeakerNow;

    #[test]
    fn one_line_with_the_essentials() {
        let s = Snapshot {
            t: 75.4,
            recent_window_s: 120.0,
            speakers: vec![
                SpeakerNow {
                    id: "agent".into(),
                    speaking: true,
                    share: 0.62,
                    share_recent: 0.7,
                    interruptions_made: 2,
                    ..SpeakerNow::default()
                },
                SpeakerNow {
                    id: "customer".into(),
                    share: 0.38,
                    share_recent: 0.3,
                    ..SpeakerNow::default()
                },
            ],
            overlap_s: 3.25,
            alerts: vec![AlertKind::AgentShare],
            ..Snapshot::default()
        };
        assert_eq!(
            line(&s),
            "01:15  speaking: agent  talk agent 62% (70% last 2 min) / customer 38% (30% last 2 min)  agent interruptions 2  overlap 3.2s  ALERT AGENT TALKS TOO MUCH"
        );
    }
}
