//! The full-screen meter (ratatui): drawn ten times a second from the
//! latest [`Snapshot`]; `q`, Esc or Ctrl-C end the call.
//!
//! ```text
//! ┌ hearken live · replay samples/demo-call.wav ×1 ──────────────── 00:35 ┐
//! │ Now  AGENT speaking                                silence    0.0 s   │
//! │                whole call                 last 2 min                  │
//! │ agent     ████████████░░░░░░░░  58%   ██████████████░░░░░░  70%       │
//! │ customer  ████████░░░░░░░░░░░░  42%   ██████░░░░░░░░░░░░░░  30%       │
//! │ ...                                                                   │
//! ```
//!
//! Colours: the agent's recent share turns red above its threshold, the
//! silence timer red in dead air, and the alerts line shows every alert in
//! force on a red background. Rendering is a pure function of the snapshot
//! ([`draw`]), tested against golden text with ratatui's `TestBackend`.

use super::events::AlertKind;
use super::meter::Snapshot;
use super::status::{alert_name, clock};
use ratatui::Frame;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Redraw period.
const FRAME: Duration = Duration::from_millis(100);

/// Runs the screen until `done`; a key press of `q`, Esc or Ctrl-C sets
/// `stop` (the terminal is in raw mode: Ctrl-C is a key, not a signal).
pub fn run(
    shared: &Mutex<Snapshot>,
    title: &str,
    stop: &AtomicBool,
    done: &AtomicBool,
) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> std::io::Result<()> {
        while !done.load(Ordering::Relaxed) {
            let snap = shared.lock().map(|s| s.clone()).unwrap_or_default();
            let ending = stop.load(Ordering::Relaxed);
            terminal.draw(|f| draw(f, &snap, title, ending))?;
            if event::poll(FRAME)?
                && let TermEvent::Key(k) = event::read()?
                && k.kind == KeyEventKind::Press
            {
                let ctrl_c =
                    k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                if ctrl_c || matches!(k.code, KeyCode::Char('q') | KeyCode::Esc) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result
}

fn bar(share: f64, width: usize) -> String {
    let full = ((share.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("{}{}", "█".repeat(full), "░".repeat(width - full))
}

fn secs(s: f64) -> String {
    format!("{s:.1} s")
}

/// Draws the meter for `snap` over the whole frame; `ending` once the end
/// of the call has been asked for.
pub fn draw(frame: &mut Frame, snap: &Snapshot, title: &str, ending: bool) {
    let area = frame.area();
    let block = Block::bordered()
        .title(format!(" hearken live · {title} "))
        .title_top(Line::from(format!(" {} ", clock(snap.t))).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines(snap, inner, ending)), inner);
}

fn lines(snap: &Snapshot, area: Rect, ending: bool) -> Vec<Line<'static>> {
    let dim = Style::default().add_modifier(Modifier::DIM);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let red = Style::default().fg(Color::Red).add_modifier(Modifier::BOLD);
    let alert = |k: AlertKind| snap.alerts.contains(&k);
    let mut out = Vec::new();

    // Who speaks now, and the silence timer.
    let speaking: Vec<String> = snap
        .speakers
        .iter()
        .filter(|s| s.speaking)
        .map(|s| s.id.to_uppercase())
        .collect();
    let now = if snap.finished {
        Span::styled("call ended", bold)
    } else if speaking.is_empty() {
        Span::styled("nobody speaking", dim)
    } else if speaking.len() > 1 {
        Span::styled(
            format!("{} (overlap)", speaking.join(" + ")),
            bold.fg(Color::Yellow),
        )
    } else {
        Span::styled(format!("{} speaking", speaking[0]), bold.fg(Color::Green))
    };
    let silence_style = if alert(AlertKind::DeadAir) {
        red
    } else {
        Style::default()
    };
    out.push(Line::from(vec![
        Span::raw(" Now  "),
        now,
        Span::raw("    silence "),
        Span::styled(secs(snap.silence_now_s), silence_style),
    ]));
    out.push(Line::from(""));

    // Talk shares: two bars per speaker.
    let name_w = snap
        .speakers
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(5)
        .max(5)
        + 2;
    let bar_w = (usize::from(area.width).saturating_sub(name_w + 16) / 2).clamp(6, 30);
    let window = format!("last {:.0} min", snap.recent_window_s / 60.0);
    out.push(Line::from(vec![
        Span::raw(format!(" {:name_w$}", "")),
        Span::styled(format!("{:<w$}", "whole call", w = bar_w + 7), dim),
        Span::styled(window, dim),
    ]));
    for s in &snap.speakers {
        let recent_style = if s.id == "agent" && alert(AlertKind::AgentShare) {
            red
        } else {
            Style::default()
        };
        let name_style = if s.speaking { bold } else { Style::default() };
        out.push(Line::from(vec![
            Span::styled(format!(" {:name_w$}", s.id), name_style),
            Span::raw(format!(
                "{} {:>3.0}%  ",
                bar(s.share, bar_w),
                s.share * 100.0
            )),
            Span::styled(
                format!(
                    "{} {:>3.0}%",
                    bar(s.share_recent, bar_w),
                    s.share_recent * 100.0
                ),
                recent_style,
            ),
        ]));
    }
    out.push(Line::from(""));

    // Figures.
    let agent = snap.speaker("agent");
    let mut figures = vec![Span::raw(format!(
        " Overlap {} (last {:.0} min {})",
        secs(snap.overlap_s),
        snap.recent_window_s / 60.0,
        secs(snap.overlap_recent_s)
    ))];
    if let Some(a) = agent {
        let style = if alert(AlertKind::Interruption) {
            red
        } else {
            Style::default()
        };
        figures.push(Span::raw("   Agent interruptions "));
        figures.push(Span::styled(a.interruptions_made.to_string(), style));
    }
    out.push(Line::from(figures));
    out.push(Line::from(format!(
        " Silence total {}",
        secs(snap.silence_total_s)
    )));
    let per = |f: &dyn Fn(&super::meter::SpeakerNow) -> String| -> String {
        snap.speakers
            .iter()
            .map(|s| format!("{} {}", s.id, f(s)))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let monologue_style = if alert(AlertKind::Monologue) {
        red
    } else {
        Style::default()
    };
    out.push(Line::from(vec![
        Span::raw(" Longest monologue "),
        Span::styled(per(&|s| secs(s.longest_monologue_s)), monologue_style),
    ]));
    if let Some(turn) = agent.and_then(|a| a.current_turn_s) {
        out.push(Line::from(vec![
            Span::raw(" Agent's current turn "),
            Span::styled(secs(turn), monologue_style),
        ]));
    }
    out.push(Line::from(format!(
        " Pace {}",
        per(&|s| match (s.pace_wpm, s.pace_recent_wpm) {
            (Some(w), Some(r)) => format!("{w:.0} wpm (recent {r:.0})"),
            (Some(w), None) => format!("{w:.0} wpm"),
            _ => "–".into(),
        })
    )));
    out.push(Line::from(""));

    // Alerts.
    if snap.alerts.is_empty() {
        out.push(Line::styled(" No alerts", dim));
    } else {
        let mut spans = vec![Span::raw(" ")];
        for k in &snap.alerts {
            let value = match k {
                AlertKind::AgentShare => agent.map(|a| format!(" {:.0}%", a.share_recent * 100.0)),
                AlertKind::Monologue => agent
                    .and_then(|a| a.current_turn_s)
                    .map(|t| format!(" {t:.0} s")),
                AlertKind::DeadAir => Some(format!(" {:.0} s", snap.silence_now_s)),
                AlertKind::Interruption => None,
            };
            spans.push(Span::styled(
                format!(
                    " {}{} ",
                    alert_name(*k).to_uppercase(),
                    value.unwrap_or_default()
                ),
                Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::raw(" "));
        }
        out.push(Line::from(spans));
    }

    // Capture health and keys, on the last line.
    let mut health = vec![Span::raw(" ")];
    let problems: Vec<String> = snap
        .capture
        .devices
        .iter()
        .filter_map(|d| d.problem.as_ref().map(|p| format!("{}: {p}", d.name)))
        .collect();
    if problems.is_empty() {
        health.push(Span::styled("capture ok", dim));
    } else {
        health.push(Span::styled(problems.join(" · "), red));
    }
    let overrun_style = if snap.capture.overruns > 0 { red } else { dim };
    health.push(Span::styled(
        format!(
            " · overruns {} ({:.2} s lost)",
            snap.capture.overruns, snap.capture.dropped_s
        ),
        overrun_style,
    ));
    let keys = if ending {
        "ending the call…"
    } else if snap.finished {
        ""
    } else {
        "q: end the call"
    };
    let used: usize = health.iter().map(|s| s.content.chars().count()).sum();
    let pad = usize::from(area.width).saturating_sub(used + keys.chars().count() + 1);
    health.push(Span::raw(" ".repeat(pad)));
    health.push(Span::styled(keys, dim));
    let body = out.len();
    for _ in body..usize::from(area.height).saturating_sub(1) {
        out.push(Line::from(""));
    }
    out.push(Line::from(health));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::meter::SpeakerNow;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn text(t: &Terminal<TestBackend>) -> Vec<String> {
        let buf = t.backend().buffer();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect()
    }

    #[test]
    fn alerts_are_red_and_the_layout_fits_a_small_terminal() {
        let snap = Snapshot {
            t: 61.0,
            recent_window_s: 120.0,
            speakers: vec![
                SpeakerNow {
                    id: "agent".into(),
                    speaking: true,
                    share: 0.7,
                    share_recent: 0.8,
                    current_turn_s: Some(65.0),
                    ..SpeakerNow::default()
                },
                SpeakerNow {
                    id: "customer".into(),
                    share: 0.3,
                    share_recent: 0.2,
                    ..SpeakerNow::default()
                },
            ],
            alerts: vec![AlertKind::AgentShare, AlertKind::Monologue],
            ..Snapshot::default()
        };
        let mut t = Terminal::new(TestBackend::new(60, 18)).unwrap();
        t.draw(|f| draw(f, &snap, "test", false)).unwrap();
        let lines = text(&t);
        assert!(
            lines[0].contains("hearken live · test") && lines[0].contains("01:01"),
            "{lines:#?}"
        );
        assert!(lines[1].contains("AGENT speaking"), "{lines:#?}");
        let alerts = lines
            .iter()
            .position(|l| l.contains("AGENT TALKS TOO MUCH 80%"))
            .unwrap();
        assert!(lines[alerts].contains("AGENT MONOLOGUE 65 s"));
        let buf = t.backend().buffer();
        let x = lines[alerts].find("AGENT TALKS").unwrap();
        let x = lines[alerts][..x].chars().count() as u16;
        assert_eq!(buf[(x, alerts as u16)].bg, Color::Red);
        assert!(lines[16].contains("q: end the call"), "{lines:#?}");
    }
}
