//! Reports people look at: a self-contained HTML page per call and a batch
//! dashboard (`index.html`).
//!
//! **The call page** is static HTML, inline CSS and inline JavaScript. The
//! report is embedded, as it is, in a `<script type="application/json">`
//! block and the page's script draws everything from it with `textContent`
//! and `createElementNS`, never `innerHTML`: words from a transcript, speaker
//! names and file names end up as text, whatever they contain. The report is
//! taken as a [`serde_json::Value`] rather than a [`Report`](super::Report)
//! so that sections other stages add (transcript, pace, tone, scorecard)
//! are drawn when present and simply not drawn when absent; nothing is
//! filled in. Keys the page does not know are listed raw at the end.
//!
//! **The dashboard** is rendered here, in Rust: its table, histograms and
//! per-agent aggregates are static markup escaped by [`escape_html`]; its
//! script only sorts the tables.
//!
//! Both pages load nothing: no fonts, no CDN, no requests. A
//! Content-Security-Policy says so to the browser and lists the SHA-256 of
//! each inline script and style, so that even markup that slipped through
//! escaping could not run a script of its own. Pages work opened from disk.
//!
//! The scripts and styles live in `src/report/html/` and are compiled in.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const GUARD_JS: &str = include_str!("html/guard.js");
const CALL_JS: &str = include_str!("html/call.js");
const INDEX_JS: &str = include_str!("html/index.js");
const BASE_CSS: &str = include_str!("html/base.css");
const CALL_CSS: &str = include_str!("html/call.css");
const INDEX_CSS: &str = include_str!("html/index.css");

/// How a call page is made.
#[derive(Clone, Debug, Default)]
pub struct HtmlOptions {
    /// Page title (usually the input file).
    pub title: String,
    /// Path of the audio relative to the HTML file, `/`-separated, when the
    /// page can reach it; the page then has a player that seeks to what is
    /// clicked. Percent-encoded here, so give the plain path.
    pub audio_src: Option<String>,
}

/// One call of the dashboard.
#[derive(Clone, Debug)]
pub struct IndexEntry {
    /// The call's report.
    pub report: Value,
    /// Relative link to the call's page (`<stem>.html`).
    pub page: String,
    /// The agent on the call (`--agent-from`, `--manifest`), when known.
    pub agent: Option<String>,
}

/// Escapes text for HTML content and (quoted) attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// JSON for a `<script type="application/json">` block: compact, with `<`,
/// `>` and `&` written as `\u00XX` escapes. Those characters can only occur
/// inside JSON strings, where the escapes mean the same, so the block parses
/// to the same value while no `</script` (or `<!--`) can appear in it.
pub fn embed_json(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its map keys are strings.
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

/// A relative path as a URL path: each segment percent-encoded (so `#`,
/// `?`, `%` and `:` in file names stay part of the name, and no segment can
/// read as a scheme), `\` taken as a separator.
pub fn path_to_url(path: &str) -> String {
    path.split(['/', '\\'])
        .map(|seg| {
            let mut s = String::with_capacity(seg.len());
            for b in seg.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~!$'()*+,;=@".contains(&b) {
                    s.push(b as char);
                } else {
                    let _ = write!(s, "%{b:02X}");
                }
            }
            s
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | ((b as u32) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The CSP source expression allowing one inline script or style.
fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(text.as_bytes())))
}

/// `<head>` up to and including `<body>`, with a policy that allows exactly
/// the given inline scripts and style, and media only when asked.
fn head(out: &mut String, title: &str, css: &str, scripts: &[&str], media: bool) {
    let script_hashes: Vec<String> = scripts.iter().map(|s| csp_hash(s)).collect();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         script-src {}; style-src {}; img-src data:; media-src {}; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"hearken {}\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        script_hashes.join(" "),
        csp_hash(css),
        if media {
            "'self' file: blob:"
        } else {
            "'none'"
        },
        env!("CARGO_PKG_VERSION"),
        escape_html(title),
        css,
    );
}

fn script(out: &mut String, js: &str) {
    out.push_str("<script>");
    out.push_str(js);
    out.push_str("</script>\n");
}

/// Renders the page of one call.
///
/// The page shows the sections present in `report`: the timeline (speech
/// per speaker, overlaps, interruptions and backchannels, silences, pace
/// and pitch when present; zoom and pan), talk share and listening share,
/// silence and overlap totals, per-speaker figures, the scorecard with
/// links to its evidence, and the transcript with its markers.
pub fn render_call(report: &Value, opts: &HtmlOptions) -> String {
    let json = embed_json(report);
    let css = format!("{BASE_CSS}{CALL_CSS}");
    let mut out = String::with_capacity(json.len() + CALL_JS.len() + css.len() + 4096);
    head(
        &mut out,
        &opts.title,
        &css,
        &[GUARD_JS, CALL_JS],
        opts.audio_src.is_some(),
    );
    script(&mut out, GUARD_JS);
    let _ = write!(
        out,
        "<header class=\"top\"><h1>{}</h1><p class=\"sub\" id=\"sub\"></p></header>\n\
         <noscript><p class=\"notice\">This page draws the report with JavaScript, which is off. \
         The data is in the call's JSON report (and embedded in this page's source).</p></noscript>\n",
        escape_html(&opts.title)
    );
    if let Some(src) = &opts.audio_src {
        let _ = writeln!(
            out,
            "<audio id=\"audio\" controls preload=\"metadata\" src=\"{}\"></audio>",
            escape_html(&path_to_url(src))
        );
    }
    out.push_str("<main id=\"app\"></main>\n<script type=\"application/json\" id=\"report\">");
    out.push_str(&json);
    out.push_str("</script>\n");
    script(&mut out, CALL_JS);
    let _ = write!(
        out,
        "<footer>hearken {}</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// The figures of one dashboard row, read from a report that may lack any
/// of them.
struct Row<'a> {
    file: String,
    page: &'a str,
    agent: Option<&'a str>,
    duration: Option<f64>,
    /// `(share_of_speech, share_of_call)` of the agent and of the customer.
    agent_share: Option<(f64, f64)>,
    customer_share: Option<(f64, f64)>,
    /// Other speakers' shares of speech (mono calls).
    others: Vec<(String, f64)>,
    interruptions_by_agent: Option<u64>,
    backchannels_by_agent: Option<u64>,
    dead_air: Option<(f64, Option<f64>)>,
    listening: Option<(f64, Option<f64>, Option<bool>)>,
    /// `(met, lines, labels not met)`.
    scorecard: Option<(usize, usize, Vec<String>)>,
    warnings: usize,
    /// A mono call whose speaker split is uncertain
    /// (`diarization.uncertain`): its per-speaker figures are shown marked
    /// and left out of the histograms and per-agent means.
    uncertain: bool,
}

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
}

impl<'a> Row<'a> {
    fn new(e: &'a IndexEntry) -> Row<'a> {
        let r = &e.report;
        let file = r
            .pointer("/input/path")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| e.page.trim_end_matches(".html").to_owned());
        let share = |id: &str| {
            Some((
                f(r, &["talk", id, "share_of_speech"])?,
                f(r, &["talk", id, "share_of_call"]).unwrap_or(f64::NAN),
            ))
        };
        let others = r
            .get("talk")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| *k != "agent" && *k != "customer")
                    .filter_map(|(k, t)| Some((k.clone(), t.get("share_of_speech")?.as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let events = r.get("interruptions").and_then(Value::as_array);
        let count_events = |kind: &str| {
            events.map(|a| {
                a.iter()
                    .filter(|e| e["interrupter"] == "agent" && e["kind"] == kind)
                    .count() as u64
            })
        };
        let has_agent =
            r.pointer("/talk/agent").is_some() || r.pointer("/speaker_metrics/agent").is_some();
        let (interruptions_by_agent, backchannels_by_agent) = if has_agent {
            (
                r.pointer("/speaker_metrics/agent/interruptions_made")
                    .and_then(Value::as_u64)
                    .or_else(|| count_events("interruption")),
                r.pointer("/speaker_metrics/agent/backchannels_made")
                    .and_then(Value::as_u64)
                    .or_else(|| count_events("backchannel")),
            )
        } else {
            (None, None)
        };
        let scorecard = r
            .pointer("/scorecard/lines")
            .and_then(Value::as_array)
            .map(|lines| {
                let met = lines.iter().filter(|l| l["meets"] == true).count();
                let missed = lines
                    .iter()
                    .filter(|l| l["meets"] == false)
                    .map(|l| {
                        l["label"]
                            .as_str()
                            .or(l["id"].as_str())
                            .unwrap_or("?")
                            .to_owned()
                    })
                    .collect();
                (met, lines.len(), missed)
            });
        Row {
            file,
            page: &e.page,
            agent: e.agent.as_deref(),
            duration: f(r, &["input", "duration_s"]),
            agent_share: share("agent"),
            customer_share: share("customer"),
            others,
            interruptions_by_agent,
            backchannels_by_agent,
            dead_air: f(r, &["silence", "total_s"])
                .map(|t| (t, f(r, &["silence", "share_of_call"]))),
            listening: f(r, &["listening", "agent_listening_share"]).map(|s| {
                (
                    s,
                    f(r, &["listening", "target"]),
                    r.pointer("/listening/meets_target")
                        .and_then(Value::as_bool),
                )
            }),
            scorecard,
            warnings: r
                .get("warnings")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            uncertain: r.pointer("/diarization/uncertain") == Some(&Value::Bool(true)),
        }
    }

    /// The per-speaker figures, when they can be trusted.
    fn sure(&self) -> Option<&Self> {
        (!self.uncertain).then_some(self)
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// `m:ss` or `h:mm:ss`.
fn clock(s: f64) -> String {
    let t = s.max(0.0).round() as u64;
    if t >= 3600 {
        format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
    } else {
        format!("{}:{:02}", t / 60, t % 60)
    }
}

/// A table cell with a sort key (`data-v`) and escaped text.
fn cell(out: &mut String, key: Option<f64>, text: &str, class: &str, title: Option<&str>) {
    out.push_str("<td");
    if let Some(k) = key.filter(|k| k.is_finite()) {
        let _ = write!(out, " data-v=\"{k}\"");
    }
    if !class.is_empty() {
        let _ = write!(out, " class=\"{class}\"");
    }
    if let Some(t) = title {
        let _ = write!(out, " title=\"{}\"", escape_html(t));
    }
    let _ = write!(out, ">{}</td>", escape_html(text));
}

const DASH: &str = "—";

fn share_cell(out: &mut String, share: Option<(f64, f64)>, uncertain: bool) {
    match share {
        Some((sp, call)) => {
            let mut title = if call.is_finite() {
                format!("{} of speech, {} of the call", pct(sp), pct(call))
            } else {
                format!("{} of speech", pct(sp))
            };
            if uncertain {
                title.push_str("; speaker split uncertain (similar voices)");
                cell(
                    out,
                    Some(sp),
                    &format!("{}?", pct(sp)),
                    "num muted",
                    Some(&title),
                )
            } else {
                cell(out, Some(sp), &pct(sp), "num", Some(&title))
            }
        }
        None => cell(out, None, DASH, "num", None),
    }
}

/// An inline SVG bar chart of `bins` (`(label, count)`).
fn histogram(out: &mut String, id: &str, title: &str, x_label: &str, bins: &[(String, usize)]) {
    let (w, h, left, bottom, top) = (440.0, 190.0, 34.0, 40.0, 14.0);
    let max = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let plot_h = h - bottom - top;
    let bw = (w - left - 8.0) / bins.len().max(1) as f64;
    let _ = write!(
        out,
        "<figure class=\"hist\" id=\"{id}\"><figcaption>{}</figcaption>\
         <svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape_html(title),
        escape_html(title)
    );
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\"/>\
         <text class=\"tick\" x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{max}</text>\
         <text class=\"tick\" x=\"{lx}\" y=\"{y}\" text-anchor=\"end\">0</text>",
        y = h - bottom,
        x2 = w - 8.0,
        lx = left - 4.0,
        ty = top + 4.0,
    );
    for (i, (label, n)) in bins.iter().enumerate() {
        let x = left + i as f64 * bw;
        let bh = plot_h * *n as f64 / max as f64;
        let _ = write!(
            out,
            "<g class=\"bin\"><rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\">\
             <title>{}: {n} call(s)</title></rect>",
            x + 1.0,
            h - bottom - bh,
            (bw - 2.0).max(1.0),
            bh,
            escape_html(label)
        );
        if *n > 0 {
            let _ = write!(
                out,
                "<text class=\"count\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>",
                x + bw / 2.0,
                h - bottom - bh - 3.0
            );
        }
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
            x + bw / 2.0,
            h - bottom + 13.0,
            escape_html(label)
        );
    }
    let _ = writeln!(
        out,
        "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></svg></figure>",
        left + (w - left) / 2.0,
        h - 6.0,
        escape_html(x_label)
    );
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, sum) = xs.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    (n > 0).then(|| sum / n as f64)
}

/// Renders the batch dashboard: a sortable table of the calls with links to
/// their pages, the failures, histograms of the agent's talk share and of
/// interruptions by the agent, and per-agent aggregates when entries carry
/// an agent id.
pub fn render_index(entries: &[IndexEntry], failures: &[(String, String)]) -> String {
    let rows: Vec<Row<'_>> = entries.iter().map(Row::new).collect();
    let any_agent = rows.iter().any(|r| r.agent.is_some());
    let css = format!("{BASE_CSS}{INDEX_CSS}");
    let mut out = String::with_capacity(4096 + rows.len() * 600);
    head(
        &mut out,
        "hearken: calls",
        &css,
        &[GUARD_JS, INDEX_JS],
        false,
    );
    script(&mut out, GUARD_JS);
    let audio: f64 = rows.iter().filter_map(|r| r.duration).sum();
    let _ = write!(
        out,
        "<header class=\"top\"><h1>Calls</h1><p class=\"sub\">{} call(s) analysed, {} failed; {} of audio</p></header>\n<main>\n",
        rows.len(),
        failures.len(),
        clock(audio)
    );

    // The calls.
    out.push_str("<section><h2>Calls</h2>");
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">No call was analysed.</p>");
    } else {
        out.push_str("<p class=\"hint\">Click a column heading to sort.</p><div class=\"scroll\"><table class=\"sortable\" id=\"calls\"><thead><tr>");
        let mut heads: Vec<(&str, &str)> = vec![("file", "File")];
        if any_agent {
            heads.push(("agent", "Agent"));
        }
        heads.extend([
            ("duration", "Duration"),
            ("agent_share", "Agent talk"),
            ("customer_share", "Customer talk"),
            ("interruptions", "Interruptions by agent"),
            ("dead_air", "Dead air"),
            ("listening", "Listening share"),
            ("scorecard", "Scorecard"),
            ("warnings", "Warnings"),
        ]);
        for (key, label) in &heads {
            let class = if matches!(*key, "file" | "agent") {
                ""
            } else {
                " class=\"num\""
            };
            let _ = write!(
                out,
                "<th data-key=\"{key}\"{class}><button type=\"button\">{label}</button></th>"
            );
        }
        out.push_str("</tr></thead><tbody>");
        for r in &rows {
            out.push_str("<tr>");
            let title = if r.others.is_empty() {
                r.file.clone()
            } else {
                let o: Vec<String> = r
                    .others
                    .iter()
                    .map(|(k, s)| format!("{k} {}", pct(*s)))
                    .collect();
                format!("{}: {}", r.file, o.join(", "))
            };
            let _ = write!(
                out,
                "<td class=\"file\" title=\"{}\"><a href=\"{}\">{}</a></td>",
                escape_html(&title),
                escape_html(&path_to_url(r.page)),
                escape_html(&r.file)
            );
            if any_agent {
                cell(&mut out, None, r.agent.unwrap_or(DASH), "", None);
            }
            match r.duration {
                Some(d) => cell(&mut out, Some(d), &clock(d), "num", None),
                None => cell(&mut out, None, DASH, "num", None),
            }
            share_cell(&mut out, r.agent_share, r.uncertain);
            share_cell(&mut out, r.customer_share, r.uncertain);
            match r.interruptions_by_agent {
                Some(n) => {
                    let title = r
                        .backchannels_by_agent
                        .map(|b| format!("{n} interruption(s), {b} backchannel(s)"));
                    cell(
                        &mut out,
                        Some(n as f64),
                        &n.to_string(),
                        "num",
                        title.as_deref(),
                    )
                }
                None => cell(&mut out, None, DASH, "num", None),
            }
            match r.dead_air {
                Some((t, share)) => cell(
                    &mut out,
                    Some(t),
                    &format!("{t:.1} s"),
                    "num",
                    share
                        .map(|s| format!("{} of the call in silences", pct(s)))
                        .as_deref(),
                ),
                None => cell(&mut out, None, DASH, "num", None),
            }
            match r.listening {
                Some((s, target, meets)) => {
                    let (mark, class) = match meets {
                        Some(true) => (" ✓", "num ok"),
                        Some(false) => (" ✗", "num bad"),
                        None => ("", "num"),
                    };
                    let title = target.map(|t| format!("target {}", pct(t)));
                    cell(
                        &mut out,
                        Some(s),
                        &format!("{}{mark}", pct(s)),
                        class,
                        title.as_deref(),
                    )
                }
                None => cell(&mut out, None, DASH, "num", None),
            }
            match &r.scorecard {
                Some((met, n, missed)) => {
                    let title = if missed.is_empty() {
                        "every line met".to_owned()
                    } else {
                        format!("not met: {}", missed.join("; "))
                    };
                    let key = if *n > 0 { *met as f64 / *n as f64 } else { 0.0 };
                    let class = if missed.is_empty() {
                        "num ok"
                    } else {
                        "num bad"
                    };
                    cell(
                        &mut out,
                        Some(key),
                        &format!("{met}/{n} met"),
                        class,
                        Some(&title),
                    )
                }
                None => cell(&mut out, None, DASH, "num", None),
            }
            cell(
                &mut out,
                Some(r.warnings as f64),
                &r.warnings.to_string(),
                "num",
                None,
            );
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</section>\n");

    // Failures.
    if !failures.is_empty() {
        let _ = write!(
            out,
            "<section><h2>Failed ({})</h2><table class=\"failures\" id=\"failures\"><thead><tr><th>Input</th><th>Error</th></tr></thead><tbody>",
            failures.len()
        );
        for (file, err) in failures {
            let _ = write!(
                out,
                "<tr><td class=\"file\">{}</td><td>{}</td></tr>",
                escape_html(file),
                escape_html(err)
            );
        }
        out.push_str("</tbody></table></section>\n");
    }

    // Histograms: per-speaker figures of calls whose split is uncertain are
    // left out, and the count of them said.
    let unsure = rows.iter().filter(|r| r.uncertain).count();
    if !rows.is_empty() {
        out.push_str("<section><h2>Distributions</h2>");
        if unsure > 0 {
            let _ = write!(
                out,
                "<p class=\"hint\" id=\"unsure\">{unsure} mono call(s) with an uncertain speaker split \
                 (similar voices) are left out of the talk-share and interruption figures below.</p>"
            );
        }
        out.push_str("<div class=\"hists\">");
        let shares: Vec<f64> = rows
            .iter()
            .filter_map(Row::sure)
            .filter_map(|r| r.agent_share.map(|s| s.0))
            .collect();
        if shares.is_empty() {
            out.push_str("<p class=\"empty\">No call has an agent: no talk-share histogram.</p>");
        } else {
            let mut bins: Vec<(String, usize)> = (0..10)
                .map(|i| (format!("{}–{}", i * 10, i * 10 + 10), 0))
                .collect();
            for s in &shares {
                bins[((s * 10.0).floor() as usize).min(9)].1 += 1;
            }
            histogram(
                &mut out,
                "hist-share",
                &format!("Agent talk share, {} call(s)", shares.len()),
                "agent share of speech, %",
                &bins,
            );
        }
        let ints: Vec<u64> = rows
            .iter()
            .filter_map(Row::sure)
            .filter_map(|r| r.interruptions_by_agent)
            .collect();
        if !ints.is_empty() {
            // At least 0..=5, at most 0..=9 and "10+".
            let top = ints.iter().copied().max().unwrap_or(0).clamp(5, 10) as usize;
            let mut bins: Vec<(String, usize)> = (0..=top).map(|i| (i.to_string(), 0)).collect();
            if ints.iter().any(|&n| n >= 10) {
                bins[top].0 = "10+".into();
            }
            for &n in &ints {
                bins[(n as usize).min(top)].1 += 1;
            }
            histogram(
                &mut out,
                "hist-interruptions",
                &format!("Interruptions by the agent, {} call(s)", ints.len()),
                "interruptions per call",
                &bins,
            );
        }
        out.push_str("</div></section>\n");
    }

    // Per agent.
    if any_agent {
        let mut groups: BTreeMap<Option<&str>, Vec<&Row<'_>>> = BTreeMap::new();
        for r in &rows {
            groups.entry(r.agent).or_default().push(r);
        }
        out.push_str(
            "<section><h2>Per agent</h2><div class=\"scroll\"><table class=\"sortable\" id=\"agents\"><thead><tr>",
        );
        for (key, label) in [
            ("agent", "Agent"),
            ("calls", "Calls"),
            ("share", "Mean agent talk"),
            ("interruptions", "Interruptions per call"),
            ("dead_air", "Mean dead air"),
            ("listening", "Listening target met"),
        ] {
            let class = if key == "agent" { "" } else { " class=\"num\"" };
            let _ = write!(
                out,
                "<th data-key=\"{key}\"{class}><button type=\"button\">{label}</button></th>"
            );
        }
        out.push_str("</tr></thead><tbody>");
        for (agent, rs) in &groups {
            out.push_str("<tr>");
            match agent {
                Some(a) => cell(&mut out, None, a, "", None),
                None => cell(&mut out, None, "(no agent id)", "muted", None),
            }
            cell(
                &mut out,
                Some(rs.len() as f64),
                &rs.len().to_string(),
                "num",
                None,
            );
            match mean(
                rs.iter()
                    .filter_map(|r| r.sure())
                    .filter_map(|r| r.agent_share.map(|s| s.0)),
            ) {
                Some(m) => cell(&mut out, Some(m), &pct(m), "num", Some("of speech")),
                None => cell(&mut out, None, DASH, "num", None),
            }
            match mean(
                rs.iter()
                    .filter_map(|r| r.sure())
                    .filter_map(|r| r.interruptions_by_agent.map(|n| n as f64)),
            ) {
                Some(m) => cell(&mut out, Some(m), &format!("{m:.2}"), "num", None),
                None => cell(&mut out, None, DASH, "num", None),
            }
            match mean(rs.iter().filter_map(|r| r.dead_air.map(|d| d.0))) {
                Some(m) => cell(&mut out, Some(m), &format!("{m:.1} s"), "num", None),
                None => cell(&mut out, None, DASH, "num", None),
            }
            let judged: Vec<bool> = rs
                .iter()
                .filter_map(|r| r.sure())
                .filter_map(|r| r.listening.and_then(|l| l.2))
                .collect();
            if judged.is_empty() {
                cell(&mut out, None, DASH, "num", None);
            } else {
                let met = judged.iter().filter(|&&m| m).count();
                cell(
                    &mut out,
                    Some(met as f64 / judged.len() as f64),
                    &format!("{met}/{}", judged.len()),
                    "num",
                    None,
                );
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div></section>\n");
    }
    out.push_str("</main>\n");
    script(&mut out, INDEX_JS);
    let _ = write!(
        out,
        "<footer>hearken {}</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn demo() -> Value {
        json!({
            "schema_version": "1.0",
            "input": {"path": "calls/a\"b<c>.wav", "format": "wav/pcm_s16", "sample_rate": 8000, "channels": 2, "duration_s": 10.0},
            "speakers": [{"id": "agent", "channel": 0}, {"id": "customer", "channel": 1}],
            "speech": {"agent": [[0.5, 3.0]], "customer": [[2.5, 8.0]]},
            "overlaps": [[2.5, 3.0]],
            "interruptions": [{"at_s": 2.5, "interrupter": "customer", "interrupted": "agent", "overlap_s": 0.5, "kind": "interruption", "utterance": [2.5, 8.0]}],
            "silences": [],
            "talk": {
                "agent": {"time_s": 2.5, "share_of_speech": 0.3125, "share_of_call": 0.25},
                "customer": {"time_s": 5.5, "share_of_speech": 0.6875, "share_of_call": 0.55}
            },
            "silence": {"min_s": 2.0, "count": 0, "total_s": 0.0, "share_of_call": 0.0, "long_min_s": 5.0, "long": [], "long_total_s": 0.0},
            "overlap": {"count": 1, "total_s": 0.5, "share_of_call": 0.05},
            "turns": [],
            "speaker_metrics": {
                "agent": {"interruptions_made": 0, "interruptions_suffered": 1, "backchannels_made": 0, "turns": 1, "response_latency": {"count": 0}},
                "customer": {"interruptions_made": 1, "interruptions_suffered": 0, "backchannels_made": 0, "turns": 1, "response_latency": {"count": 0}}
            },
            "listening": {"agent_listening_share": 0.6875, "target": 0.55, "meets_target": true},
            "transcript": [{
                "speaker": "customer", "start_s": 2.5, "end_s": 8.0,
                "text": "</script><script>alert(1)</script> \"quoted\" & 'single' <!-- x",
                "words": []
            }]
        })
    }

    /// The text of the embedded report block.
    fn embedded(page: &str) -> &str {
        let open = "<script type=\"application/json\" id=\"report\">";
        let start = page.find(open).expect("the report block") + open.len();
        let len = page[start..].find("</script>").expect("the block ends");
        &page[start..start + len]
    }

    #[test]
    fn transcript_text_cannot_end_the_json_block() {
        let report = demo();
        let page = render_call(&report, &HtmlOptions::default());
        let block = embedded(&page);
        assert!(!block.to_ascii_lowercase().contains("</script"));
        assert!(!block.contains('<') && !block.contains('>'));
        assert!(!block.contains("<!--"));
        // The block is the report, unchanged.
        let back: Value = serde_json::from_str(block).unwrap();
        assert_eq!(back, report);
        // The only scripts on the page are hearken's own three blocks.
        assert_eq!(page.matches("<script").count(), 3, "{page}");
        assert!(!page.contains("alert(1)</script>"));
    }

    #[test]
    fn title_and_audio_path_are_escaped() {
        let opts = HtmlOptions {
            title: "a <b> & \"c\" 'd'".into(),
            audio_src: Some("../in put/x\"y#1?.wav".into()),
        };
        let page = render_call(&demo(), &opts);
        assert!(page.contains("<title>a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;</title>"));
        assert!(!page.contains("<b>"));
        assert!(
            page.contains("src=\"../in%20put/x%22y%231%3F.wav\""),
            "{page}"
        );
        assert!(page.contains("<audio id=\"audio\""));
        let no_audio = render_call(&demo(), &HtmlOptions::default());
        assert!(!no_audio.contains("<audio"));
        assert!(no_audio.contains("media-src 'none'"));
    }

    #[test]
    fn urls_never_carry_a_scheme() {
        assert_eq!(path_to_url("javascript:alert(1)"), "javascript%3Aalert(1)");
        assert_eq!(path_to_url("..\\a b\\c.wav"), "../a%20b/c.wav");
        assert_eq!(path_to_url("ça.wav"), "%C3%A7a.wav");
    }

    #[test]
    fn policy_lists_the_hash_of_each_inline_script() {
        let page = render_call(&demo(), &HtmlOptions::default());
        for js in [GUARD_JS, CALL_JS] {
            assert!(page.contains(&format!("<script>{js}</script>")));
            assert!(page.contains(&csp_hash(js)));
        }
        assert!(page.contains("default-src 'none'"));
        assert!(!page.contains("unsafe-inline"));
        assert!(!page.contains("https://"));
        assert_eq!(
            page.matches("http://").count(),
            page.matches("http://www.w3.org/2000/svg").count(),
            "no URL but the SVG namespace"
        );
    }

    #[test]
    fn inline_code_cannot_close_its_element() {
        for (name, code) in [
            ("guard.js", GUARD_JS),
            ("call.js", CALL_JS),
            ("index.js", INDEX_JS),
            ("base.css", BASE_CSS),
            ("call.css", CALL_CSS),
            ("index.css", INDEX_CSS),
        ] {
            for bad in ["</", "<!--", "<script"] {
                assert!(!code.contains(bad), "{name} contains {bad:?}");
            }
        }
    }

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // SHA-256 of "abc" (FIPS 180-2 example), base64.
        assert_eq!(
            csp_hash("abc"),
            "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='"
        );
    }

    #[test]
    fn index_escapes_and_sorts_by_data() {
        let mut r = demo();
        r["scorecard"] = json!({"lines": [
            {"id": "a", "label": "Lets <them> talk", "figure": 0.6, "target": 0.55, "meets": true, "evidence": []},
            {"id": "b", "label": "No \"cutting\" in", "figure": 2, "target": 0, "meets": false, "evidence": [[2.5, 3.0]]}
        ]});
        let entries = vec![
            IndexEntry {
                report: r.clone(),
                page: "a\"b<c>.html".into(),
                agent: Some("<ann>".into()),
            },
            IndexEntry {
                report: r,
                page: "x.html".into(),
                agent: None,
            },
        ];
        let failures = vec![("bad<1>.wav".to_string(), "truncated <header>".to_string())];
        let page = render_index(&entries, &failures);
        assert!(!page.contains("<ann>") && page.contains("&lt;ann&gt;"));
        assert!(page.contains("calls/a&quot;b&lt;c&gt;.wav"));
        assert!(page.contains("href=\"a%22b%3Cc%3E.html\""));
        assert!(page.contains("bad&lt;1&gt;.wav") && page.contains("truncated &lt;header&gt;"));
        assert!(page.contains("1/2 met"));
        assert!(page.contains("not met: No &quot;cutting&quot; in"));
        assert!(page.contains("id=\"agents\""), "per-agent table");
        assert!(page.contains("(no agent id)"));
        assert!(page.contains("id=\"hist-share\"") && page.contains("id=\"hist-interruptions\""));
        assert_eq!(page.matches("<script").count(), 2);
        // Interruptions by the agent: none (the customer interrupted).
        assert!(page.contains(
            "<td data-v=\"0\" class=\"num\" title=\"0 interruption(s), 0 backchannel(s)\">0</td>"
        ));
    }

    #[test]
    fn index_without_agents_or_calls() {
        let page = render_index(&[], &[("x.wav".into(), "no such file".into())]);
        assert!(page.contains("No call was analysed"));
        assert!(!page.contains("id=\"agents\""));
        assert!(page.contains("Failed (1)"));
        let mut mono = demo();
        mono["speakers"] = json!([{"id": "speaker", "channel": 0}]);
        mono["talk"] =
            json!({"speaker": {"time_s": 8.0, "share_of_speech": 1.0, "share_of_call": 0.8}});
        mono["speaker_metrics"] = json!({"speaker": {"interruptions_made": 0, "interruptions_suffered": 0, "backchannels_made": 0, "turns": 1, "response_latency": {"count": 0}}});
        mono.as_object_mut().unwrap().remove("listening");
        let page = render_index(
            &[IndexEntry {
                report: mono,
                page: "m.html".into(),
                agent: None,
            }],
            &[],
        );
        assert!(page.contains("No call has an agent"));
        assert!(
            !page.contains("hist-interruptions"),
            "no agent: no interruption figure"
        );
        assert!(page.contains("speaker 100.0%"));
    }

    /// A mono call whose speaker split is uncertain: its talk share is shown
    /// marked, and left out of the histograms and the per-agent means (a
    /// likely-wrong split must not move an agent's figures).
    #[test]
    fn an_uncertain_split_is_marked_and_left_out_of_the_aggregates() {
        let sure = demo();
        let mut unsure = demo();
        unsure["talk"]["agent"]["share_of_speech"] = json!(0.9);
        unsure["diarization"] =
            json!({"speakers": 2, "overlap_s": 0.0, "pitch_gap_octaves": 0.02, "uncertain": true});
        let entries: Vec<IndexEntry> = [sure, unsure]
            .into_iter()
            .enumerate()
            .map(|(i, report)| IndexEntry {
                report,
                page: format!("{i}.html"),
                agent: Some("ann".into()),
            })
            .collect();
        let page = render_index(&entries, &[]);
        assert!(page.contains("90.0%?"), "the uncertain share is marked");
        assert!(page.contains("speaker split uncertain"));
        assert!(page.contains("id=\"unsure\""));
        assert!(page.contains("Agent talk share, 1 call(s)"));
        // Ann's mean talk share is the sure call's alone.
        let sure_share = pct(demo()["talk"]["agent"]["share_of_speech"].as_f64().unwrap());
        let agents = &page[page.find("id=\"agents\"").unwrap()..];
        assert!(agents.contains(&sure_share), "{agents}");
        // Both calls would give (31.25 + 90) / 2 = 60.6 %.
        assert!(!agents.contains("90.0%") && !agents.contains("60.6%"));
    }
}
