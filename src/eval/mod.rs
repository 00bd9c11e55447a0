//! `hearken eval`: scores hypotheses against reference annotations.
//!
//! References are RTTM files (speech per speaker), optionally UEM files (the
//! scored regions) and STM files (transcripts). Hypotheses are RTTM files,
//! hearken report JSON, or STM files for text; or audio, analysed on the
//! spot. Files are matched by stem (the RTTM file id).
//!
//! Reference interruptions, backchannels, silences and talk shares are
//! derived from the reference RTTM with the very code and thresholds of the
//! analysis ([`crate::conversation`]), so both sides follow one definition.
//!
//! Pooled figures sum counts over files (seconds, events, words) and divide
//! once; the talk-share error and JER are means over speakers.

pub mod metrics;
pub mod text;

use crate::conversation::{self, ConversationConfig, OverlapKind};
use crate::formats::{self, StmLine};
use crate::report::Report;
use crate::time::Time;
use crate::timeline::{Annotation, Span, Timeline};
use metrics::{Detection, Diarization, ErrorRate, Ratio};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use text::Edits;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A malformed line.
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The line and problem.
        #[source]
        source: formats::FormatError,
    },
    /// A reference names a file no hypothesis has.
    #[error(
        "{path}: line {line}: unknown file id {id:?} (no hypothesis or audio with that stem; --missing-as-empty scores it as empty)"
    )]
    UnknownFileId {
        /// The reference file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The id.
        id: String,
    },
    /// A report JSON that does not parse.
    #[error("{path}: not a hearken report: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Nothing matched.
    #[error("no reference file id matches a hypothesis")]
    NothingToScore,
}

/// Evaluation settings.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Collar removed around reference boundaries, s (0 = none).
    pub collar_s: f64,
    /// Onset tolerance for interruption matching, s.
    pub tolerance_s: f64,
    /// Thresholds used to derive events from both sides.
    pub conversation: ConversationConfig,
    /// Minimum IoU for a silence or overlap segment to match as an event.
    pub min_iou: f64,
    /// Score a reference file without a hypothesis as an empty hypothesis
    /// (as md-eval and pyannote.metrics do) instead of rejecting it.
    pub missing_as_empty: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            collar_s: 0.0,
            tolerance_s: 0.5,
            conversation: ConversationConfig::default(),
            min_iou: 0.5,
            missing_as_empty: false,
        }
    }
}

/// Everything known about one file's reference.
#[derive(Clone, Debug, Default)]
pub struct RefFile {
    /// Speech per speaker.
    pub speech: Annotation,
    /// Scored region, when a UEM was given.
    pub uem: Option<Timeline>,
    /// Reference transcript lines.
    pub text: Vec<StmLine>,
}

/// One file's hypothesis.
#[derive(Clone, Debug, Default)]
pub struct HypFile {
    /// Speech per speaker.
    pub speech: Annotation,
    /// Duration when known (from a report).
    pub duration: Option<Time>,
    /// Transcript lines, when any.
    pub text: Option<Vec<StmLine>>,
}

/// Counts for one file (or pooled).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Per-speaker detection (summed over speakers).
    pub per_speaker: ErrorRate,
    /// Per-speaker detection, per speaker id.
    pub per_speaker_by_id: BTreeMap<String, ErrorRate>,
    /// Speaker-agnostic detection.
    pub agnostic: ErrorRate,
    /// Speech precision/recall (per speaker, summed).
    pub speech: Detection,
    /// Overlap, time based.
    pub overlap: Detection,
    /// Overlap, as events.
    pub overlap_events: Detection,
    /// Interruptions by onset and interrupter.
    pub interruptions: Detection,
    /// Backchannels by onset and speaker.
    pub backchannels: Detection,
    /// Silences ≥ threshold, as events.
    pub silences: Detection,
    /// Silences ≥ threshold, time based.
    pub silence_time: Detection,
    /// Talk-share absolute error, points (sum, speakers).
    pub talk_share: Ratio,
    /// Diarization error with optimal mapping.
    pub diarization: Diarization,
    /// Jaccard error (sum, speakers).
    pub jaccard: Ratio,
    /// Word edits, when there is text.
    pub words: Option<Edits>,
    /// Word edits per speaker.
    pub words_by_id: BTreeMap<String, Edits>,
    /// Character edits.
    pub chars: Option<Edits>,
    /// Every event of the file and whether it was matched (empty when
    /// pooled: [`EvalResult::events_tsv`] lists them per file).
    #[serde(skip)]
    pub events: Vec<metrics::EventMatch>,
}

impl Counts {
    /// Adds another file's counts.
    pub fn add(&mut self, o: &Counts) {
        self.per_speaker.add(o.per_speaker);
        for (k, v) in &o.per_speaker_by_id {
            self.per_speaker_by_id.entry(k.clone()).or_default().add(*v);
        }
        self.agnostic.add(o.agnostic);
        self.speech.add(o.speech);
        self.overlap.add(o.overlap);
        self.overlap_events.add(o.overlap_events);
        self.interruptions.add(o.interruptions);
        self.backchannels.add(o.backchannels);
        self.silences.add(o.silences);
        self.silence_time.add(o.silence_time);
        self.talk_share.add(o.talk_share);
        self.diarization.add(o.diarization);
        self.jaccard.add(o.jaccard);
        for (mine, theirs) in [(&mut self.words, &o.words), (&mut self.chars, &o.chars)] {
            if let Some(t) = theirs {
                mine.get_or_insert_with(Edits::default).add(*t);
            }
        }
        for (k, v) in &o.words_by_id {
            self.words_by_id.entry(k.clone()).or_default().add(*v);
        }
    }

    /// The figures under their plain names (rates as fractions 0..1, the
    /// talk-share error in percentage points).
    pub fn figures(&self) -> BTreeMap<String, Option<f64>> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Option<f64>| {
            m.insert(k.to_string(), v);
        };
        put("per_speaker_detection_error_rate", self.per_speaker.rate());
        put("per_speaker_miss_rate", self.per_speaker.miss_rate());
        put(
            "per_speaker_false_alarm_rate",
            self.per_speaker.false_alarm_rate(),
        );
        put("detection_error_rate", self.agnostic.rate());
        put("miss_rate", self.agnostic.miss_rate());
        put("false_alarm_rate", self.agnostic.false_alarm_rate());
        put("speech_precision", self.speech.precision());
        put("speech_recall", self.speech.recall());
        put("speech_f1", self.speech.f1());
        put("overlap_precision", self.overlap.precision());
        put("overlap_recall", self.overlap.recall());
        put("overlap_f1", self.overlap.f1());
        put("overlap_event_precision", self.overlap_events.precision());
        put("overlap_event_recall", self.overlap_events.recall());
        put("overlap_event_f1", self.overlap_events.f1());
        put("interruption_precision", self.interruptions.precision());
        put("interruption_recall", self.interruptions.recall());
        put("interruption_f1", self.interruptions.f1());
        put("backchannel_precision", self.backchannels.precision());
        put("backchannel_recall", self.backchannels.recall());
        put("silence_precision", self.silences.precision());
        put("silence_recall", self.silences.recall());
        put("silence_f1", self.silences.f1());
        put("silence_time_precision", self.silence_time.precision());
        put("silence_time_recall", self.silence_time.recall());
        put("talk_share_abs_error", self.talk_share.value());
        put("der", self.diarization.rate());
        let d = &self.diarization;
        let part = |x: f64| (d.total > 0.0).then(|| x / d.total);
        put("der_miss", part(d.miss));
        put("der_false_alarm", part(d.false_alarm));
        put("der_confusion", part(d.confusion));
        put("jer", self.jaccard.value());
        put(
            "wer",
            self.words.and_then(|e| rate(e.errors(), e.reference)),
        );
        put(
            "cer",
            self.chars.and_then(|e| rate(e.errors(), e.reference)),
        );
        for (id, e) in &self.per_speaker_by_id {
            put(&format!("detection_error_rate_{id}"), e.rate());
        }
        for (id, e) in &self.words_by_id {
            put(&format!("wer_{id}"), rate(e.errors(), e.reference));
        }
        put("reference_speech_s", Some(self.per_speaker.total));
        put(
            "reference_interruptions",
            Some(self.interruptions.reference),
        );
        put("reference_overlap_s", Some(self.overlap.reference));
        put("reference_silences", Some(self.silences.reference));
        m
    }
}

fn rate(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Scores one file.
pub fn score_file(reference: &RefFile, hyp: &HypFile, opts: &EvalOptions) -> Counts {
    let end_of = |a: &Annotation| a.support().extent().map_or(Time::ZERO, |s| s.end);
    let duration = hyp
        .duration
        .or_else(|| {
            reference
                .uem
                .as_ref()
                .and_then(|u| u.extent())
                .map(|s| s.end)
        })
        .unwrap_or_else(|| end_of(&reference.speech).max(end_of(&hyp.speech)));
    let uem = reference
        .uem
        .clone()
        .unwrap_or_else(|| Timeline::from_spans([Span::new(Time::ZERO, duration)]));
    let collar = Time::from_secs(opts.collar_s);
    let mut c = Counts::default();

    // Per-speaker detection: each reference speaker against the hypothesis
    // track of the same id; speech of hypothesis ids absent from the
    // reference is all false alarm.
    for (id, rtl) in reference.speech.tracks() {
        let region = metrics::scored_region(&uem, &[rtl], collar);
        let empty = Timeline::new();
        let htl = hyp.speech.get(id).unwrap_or(&empty);
        let e = metrics::detection_error(rtl, htl, &region);
        c.per_speaker.add(e);
        c.per_speaker_by_id.insert(id.to_string(), e);
        c.speech.add(metrics::time_detection(rtl, htl, &region));
    }
    for (id, htl) in hyp.speech.tracks() {
        if reference.speech.get(id).is_none() {
            let fa = htl.intersection(&uem).total().secs();
            c.per_speaker.false_alarm += fa;
            c.speech.hyp += fa;
        }
    }
    // Collars go around every boundary of every reference speaker (also
    // those inside overlaps), as pyannote.metrics places them; the same
    // region serves detection, DER and JER.
    let tracks: Vec<&Timeline> = reference.speech.tracks().map(|(_, t)| t).collect();
    let region_d = metrics::scored_region(&uem, &tracks, collar);
    let rsup = reference.speech.support();
    c.agnostic = metrics::detection_error(&rsup, &hyp.speech.support(), &region_d);

    c.diarization = metrics::diarization_error(&reference.speech, &hyp.speech, &region_d);
    c.jaccard = metrics::jaccard_error(&reference.speech, &hyp.speech, &region_d);

    // Conversation events, derived with one definition from both sides, over
    // the scored region's extent.
    let rconv = conversation::analyze(&reference.speech.crop(&uem), duration, &opts.conversation);
    let hconv = conversation::analyze(&hyp.speech.crop(&uem), duration, &opts.conversation);
    c.overlap = metrics::time_detection(&rconv.overlaps, &hconv.overlaps, &uem);
    let log = &mut c.events;
    c.overlap_events = metrics::segment_events(
        &rconv.overlaps,
        &hconv.overlaps,
        &uem,
        f64::MIN_POSITIVE,
        "overlap",
        log,
    );
    let tol = Time::from_secs(opts.tolerance_s);
    c.interruptions =
        metrics::event_detection(&rconv, &hconv, OverlapKind::Interruption, &uem, tol, log);
    c.backchannels =
        metrics::event_detection(&rconv, &hconv, OverlapKind::Backchannel, &uem, tol, log);
    let rs = rconv.silences.intersection(&uem);
    let hs = hconv.silences.intersection(&uem);
    c.silences = metrics::segment_events(&rs, &hs, &uem, opts.min_iou, "silence", log);
    c.silence_time = metrics::time_detection(&rs, &hs, &uem);
    c.talk_share = metrics::talk_share_error(&rconv, &hconv);

    if let Some(htext) = &hyp.text
        && !reference.text.is_empty()
    {
        let (words, by_id, chars) = score_text(&reference.text, htext);
        c.words = Some(words);
        c.words_by_id = by_id;
        c.chars = Some(chars);
    }
    c
}

/// WER per speaker: reference lines of a speaker in time order against the
/// hypothesis lines of the same speaker in time order, leaving out
/// hypothesis lines centred in a reference `ignore_time_segment_in_scoring`
/// region of that speaker. A single-speaker hypothesis (a mono transcript)
/// is scored against all reference speakers merged.
fn score_text(reference: &[StmLine], hyp: &[StmLine]) -> (Edits, BTreeMap<String, Edits>, Edits) {
    let ref_ids: Vec<String> = {
        let mut v: Vec<String> = reference.iter().map(|l| l.speaker.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let hyp_ids: Vec<&str> = hyp.iter().map(|l| l.speaker.as_str()).collect();
    let merged = !ref_ids.iter().any(|id| hyp_ids.contains(&id.as_str()));
    let join = |lines: Vec<&StmLine>| -> String {
        let mut l = lines;
        l.sort_by_key(|x| x.span.start);
        l.iter()
            .map(|x| x.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ignored = |l: &StmLine, speaker: Option<&str>| {
        let mid = Time((l.span.start.0 + l.span.end.0) / 2);
        reference
            .iter()
            .any(|r| r.ignore && speaker.is_none_or(|s| r.speaker == s) && r.span.contains(mid))
    };
    let groups: Vec<(String, String, String)> = if merged {
        vec![(
            "all".to_string(),
            join(reference.iter().filter(|l| !l.ignore).collect()),
            join(hyp.iter().filter(|l| !ignored(l, None)).collect()),
        )]
    } else {
        ref_ids
            .iter()
            .map(|id| {
                (
                    id.clone(),
                    join(
                        reference
                            .iter()
                            .filter(|l| !l.ignore && &l.speaker == id)
                            .collect(),
                    ),
                    join(
                        hyp.iter()
                            .filter(|l| &l.speaker == id && !ignored(l, Some(id)))
                            .collect(),
                    ),
                )
            })
            .collect()
    };
    let mut total = Edits::default();
    let mut chars = Edits::default();
    let mut by_id = BTreeMap::new();
    for (id, r, h) in groups {
        let e = text::word_edits(&r, &h);
        total.add(e);
        chars.add(text::char_edits(&r, &h));
        by_id.insert(id, e);
    }
    (total, by_id, chars)
}

/// A file's scores with its name.
#[derive(Clone, Debug, Serialize)]
pub struct FileResult {
    /// Stem.
    pub file: String,
    /// Counts.
    pub counts: Counts,
}

/// The result of an evaluation run.
#[derive(Clone, Debug, Serialize)]
pub struct EvalResult {
    /// Per file.
    pub files: Vec<FileResult>,
    /// Pooled.
    pub pooled: Counts,
}

impl EvalResult {
    /// Every event of every file, matched or not, as tab-separated lines
    /// with a header: `file kind side speaker start_s end_s matched`. The
    /// missed reference events and the unmatched hypothesis events are the
    /// evidence behind each event recall and precision.
    pub fn events_tsv(&self) -> String {
        let mut out = String::from("file\tkind\tside\tspeaker\tstart_s\tend_s\tmatched\n");
        for f in &self.files {
            for e in &f.counts.events {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{:.2}\t{:.2}\t{}\n",
                    f.file, e.kind, e.side, e.speaker, e.start_s, e.end_s, e.matched
                ));
            }
        }
        out
    }

    /// Builds the result from per-file counts.
    pub fn new(files: Vec<FileResult>) -> EvalResult {
        let mut pooled = Counts::default();
        for f in &files {
            pooled.add(&f.counts);
        }
        EvalResult { files, pooled }
    }

    /// `{"files": {stem: {figure: value}}, "pooled": {...}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let files: serde_json::Map<String, serde_json::Value> = self
            .files
            .iter()
            .map(|f| (f.file.clone(), figures_json(&f.counts)))
            .collect();
        serde_json::json!({ "files": files, "pooled": figures_json(&self.pooled) })
    }

    /// An aligned text table (or Markdown with `markdown`).
    pub fn table(&self, markdown: bool) -> String {
        let cols: [(&str, &str, bool); 11] = [
            ("per_speaker_detection_error_rate", "spk DER*", true),
            ("per_speaker_miss_rate", "miss", true),
            ("per_speaker_false_alarm_rate", "FA", true),
            ("overlap_f1", "ovl F1", true),
            ("interruption_precision", "int P", true),
            ("interruption_recall", "int R", true),
            ("talk_share_abs_error", "share err", false),
            ("silence_precision", "sil P", true),
            ("silence_recall", "sil R", true),
            ("der", "DER", true),
            ("wer", "WER", true),
        ];
        let mut rows: Vec<(String, BTreeMap<String, Option<f64>>)> = self
            .files
            .iter()
            .map(|f| (f.file.clone(), f.counts.figures()))
            .collect();
        rows.push(("POOLED".into(), self.pooled.figures()));
        let cell = |v: Option<f64>, pct: bool| match v {
            None => "-".to_string(),
            Some(x) if pct => format!("{:.1}%", x * 100.0),
            Some(x) => format!("{x:.2}"),
        };
        let name_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
        let mut out = String::new();
        let header: Vec<String> = cols.iter().map(|c| c.1.to_string()).collect();
        if markdown {
            out.push_str(&format!("| file | {} |\n", header.join(" | ")));
            out.push_str(&format!("|---|{}\n", "---:|".repeat(cols.len())));
        } else {
            out.push_str(&format!("{:<name_w$}", "file"));
            for h in &header {
                out.push_str(&format!(" {h:>9}"));
            }
            out.push('\n');
        }
        for (name, figs) in &rows {
            let cells: Vec<String> = cols
                .iter()
                .map(|c| cell(figs.get(c.0).copied().flatten(), c.2))
                .collect();
            if markdown {
                out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
            } else {
                out.push_str(&format!("{name:<name_w$}"));
                for c in &cells {
                    out.push_str(&format!(" {c:>9}"));
                }
                out.push('\n');
            }
        }
        if !markdown {
            out.push_str("spk DER*: per-speaker detection error (miss + false alarm) / reference speech; rates pooled over files\n");
        }
        out
    }
}

fn figures_json(c: &Counts) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = c
        .figures()
        .into_iter()
        .map(|(k, v)| {
            let v = v.map_or(serde_json::Value::Null, |x| {
                serde_json::json!((x * 1e6).round() / 1e6)
            });
            (k, v)
        })
        .collect();
    serde_json::Value::Object(map)
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Files with extension `ext` under `path` (a directory, searched
/// recursively), or `path` itself, or, with `siblings`, the file beside it
/// with the same stem with the same stem (a reference `call.rttm` brings `call.uem`, `call.stm`).
fn files_with(path: &Path, ext: &str, siblings: bool) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = walkdir::WalkDir::new(path)
            .follow_links(true)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
            .collect();
        v.sort();
        v
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    {
        vec![path.to_path_buf()]
    } else {
        let sibling = path.with_extension(ext);
        if siblings && sibling.is_file() {
            vec![sibling]
        } else {
            Vec::new()
        }
    }
}

/// Reads references from a file or directory: `*.rttm`, `*.uem`, `*.stm`.
/// `known` lists the hypothesis stems; a reference line naming another file
/// is an error with its line number (pass `None` to accept any file id).
pub fn load_references(
    path: &Path,
    uem: Option<&Path>,
    known: Option<&[String]>,
) -> Result<BTreeMap<String, RefFile>, EvalError> {
    let mut out: BTreeMap<String, RefFile> = BTreeMap::new();
    for f in files_with(path, "rttm", true) {
        let text = read(&f)?;
        let lines = formats::parse_rttm(&text).map_err(|source| EvalError::Format {
            path: f.clone(),
            source,
        })?;
        // Find the line of any unknown id for the error message.
        for (n, line) in text.lines().enumerate() {
            let mut fields = line.split_whitespace();
            if fields.next() == Some("SPEAKER")
                && let Some(id) = fields.next()
                && let Some(known) = known
                && !known.iter().any(|k| k == id)
            {
                return Err(EvalError::UnknownFileId {
                    path: f.clone(),
                    line: n + 1,
                    id: id.to_string(),
                });
            }
        }
        for (id, ann) in formats::rttm_annotations(&lines) {
            let entry = out.entry(id).or_default();
            for (label, tl) in ann.tracks() {
                let merged = entry.speech.get(label).map_or(tl.clone(), |t| t.union(tl));
                entry.speech.insert(label, merged);
            }
        }
        // A reference file whose stem is known but which has no lines (a
        // call where nobody speaks) still defines a file.
        if let Some(stem) = f.file_stem().map(|s| s.to_string_lossy().into_owned())
            && known.is_none_or(|k| k.contains(&stem))
        {
            out.entry(stem).or_default();
        }
    }
    let uem_src = uem.unwrap_or(path);
    for f in files_with(uem_src, "uem", true) {
        let text = read(&f)?;
        let u = formats::parse_uem(&text).map_err(|source| EvalError::Format {
            path: f.clone(),
            source,
        })?;
        for (id, tl) in u {
            if let Some(e) = out.get_mut(&id) {
                e.uem = Some(tl);
            }
        }
    }
    for f in files_with(path, "stm", true) {
        let text = read(&f)?;
        let lines = formats::parse_stm(&text).map_err(|source| EvalError::Format {
            path: f.clone(),
            source,
        })?;
        for l in lines {
            if let Some(e) = out.get_mut(&l.file) {
                e.text.push(l);
            }
        }
    }
    Ok(out)
}

/// Reads hypotheses from a file or directory: hearken report `*.json`,
/// `*.rttm`, and `*.stm` for text.
pub fn load_hypotheses(path: &Path) -> Result<BTreeMap<String, HypFile>, EvalError> {
    let mut out: BTreeMap<String, HypFile> = BTreeMap::new();
    let mut from_stm = std::collections::BTreeSet::new();
    for f in files_with(path, "json", false) {
        let text = read(&f)?;
        // Other JSON files beside the reports (timings, parameters) are not
        // hypotheses; a file that claims to be a report must parse as one.
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) if path.is_dir() => continue,
            Err(e) => {
                return Err(EvalError::Json {
                    path: f.clone(),
                    message: e.to_string(),
                });
            }
        };
        if value.get("schema_version").is_none() {
            if path.is_dir() {
                continue;
            }
            return Err(EvalError::Json {
                path: f.clone(),
                message: "no schema_version field".into(),
            });
        }
        let report: Report = serde_json::from_value(value).map_err(|e| EvalError::Json {
            path: f.clone(),
            message: e.to_string(),
        })?;
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.insert(stem.clone(), hyp_from_report(&stem, &report));
    }
    for f in files_with(path, "rttm", false) {
        let text = read(&f)?;
        let lines = formats::parse_rttm(&text).map_err(|source| EvalError::Format {
            path: f.clone(),
            source,
        })?;
        for (id, ann) in formats::rttm_annotations(&lines) {
            out.entry(id).or_default().speech = ann;
        }
        // An empty hypothesis RTTM still names its file.
        if let Some(stem) = f.file_stem().map(|s| s.to_string_lossy().into_owned()) {
            out.entry(stem).or_default();
        }
    }
    for f in files_with(path, "stm", false) {
        let text = read(&f)?;
        let lines = formats::parse_stm(&text).map_err(|source| EvalError::Format {
            path: f.clone(),
            source,
        })?;
        for l in lines {
            let entry = out.entry(l.file.clone()).or_default();
            // A report beside its own STM carries the same transcript: the
            // STM, the explicit transcript file, replaces it rather than
            // doubling every word.
            if from_stm.insert(l.file.clone()) {
                entry.text = Some(Vec::new());
            }
            entry.text.get_or_insert_with(Vec::new).push(l);
        }
    }
    Ok(out)
}

/// The hypothesis carried by a report.
pub fn hyp_from_report(stem: &str, report: &Report) -> HypFile {
    let text = report.transcript.as_ref().map(|t| {
        t.iter()
            .map(|u| StmLine {
                file: stem.to_string(),
                channel: "1".into(),
                speaker: u.speaker.clone(),
                span: Span::from_secs(u.start_s, u.end_s),
                text: u.text.clone(),
                ignore: false,
            })
            .collect()
    });
    HypFile {
        speech: report.speech_annotation(),
        duration: Some(Time::from_secs(report.input.duration_s)),
        text,
    }
}

/// Scores every reference file that has a hypothesis.
pub fn evaluate(
    refs: &BTreeMap<String, RefFile>,
    hyps: &BTreeMap<String, HypFile>,
    opts: &EvalOptions,
) -> Result<EvalResult, EvalError> {
    let empty = HypFile::default();
    let files: Vec<FileResult> = refs
        .iter()
        .filter_map(|(id, r)| {
            let h = hyps.get(id).or(opts.missing_as_empty.then_some(&empty))?;
            Some(FileResult {
                file: id.clone(),
                counts: score_file(r, h, opts),
            })
        })
        .collect();
    if files.is_empty() {
        return Err(EvalError::NothingToScore);
    }
    Ok(EvalResult::new(files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tl(spans: &[(f64, f64)]) -> Timeline {
        Timeline::from_spans(spans.iter().map(|&(a, b)| Span::from_secs(a, b)))
    }

    fn call(agent: &[(f64, f64)], customer: &[(f64, f64)]) -> Annotation {
        let mut a = Annotation::new();
        a.insert("agent", tl(agent));
        a.insert("customer", tl(customer));
        a
    }

    #[test]
    fn perfect_hypothesis_scores_zero_error() {
        let speech = call(&[(0.0, 4.0), (9.0, 12.0)], &[(3.5, 8.0)]);
        let r = RefFile {
            speech: speech.clone(),
            uem: Some(tl(&[(0.0, 15.0)])),
            text: Vec::new(),
        };
        let h = HypFile {
            speech,
            duration: Some(Time::from_secs(15.0)),
            text: None,
        };
        let c = score_file(&r, &h, &EvalOptions::default());
        let f = c.figures();
        assert_eq!(f["per_speaker_detection_error_rate"], Some(0.0));
        assert_eq!(f["overlap_f1"], Some(1.0));
        assert_eq!(f["interruption_recall"], Some(1.0));
        assert_eq!(f["talk_share_abs_error"], Some(0.0));
        assert_eq!(f["der"], Some(0.0));
        // One silence ≥ 2 s (12–15 s), found exactly.
        assert_eq!(f["silence_precision"], Some(1.0));
    }

    /// The events file names each reference event the hypothesis missed,
    /// with its times.
    #[test]
    fn events_list_what_was_missed() {
        // Reference: the customer cuts in at 3.5 s (an interruption) and a
        // silence runs 8–12 s. The hypothesis hears no overlap, and speech
        // at 9.8–10.2 s leaves no silence of 2 s there.
        let r = RefFile {
            speech: call(&[(0.0, 4.0), (12.0, 15.0)], &[(3.5, 8.0)]),
            uem: Some(tl(&[(0.0, 15.0)])),
            text: Vec::new(),
        };
        let h = HypFile {
            speech: call(&[(0.0, 3.4), (12.0, 15.0)], &[(3.5, 8.0), (9.8, 10.2)]),
            duration: Some(Time::from_secs(15.0)),
            text: None,
        };
        let result = EvalResult::new(vec![FileResult {
            file: "call".into(),
            counts: score_file(&r, &h, &EvalOptions::default()),
        }]);
        let tsv = result.events_tsv();
        let lines: Vec<&str> = tsv.lines().collect();
        assert_eq!(
            lines[0],
            "file\tkind\tside\tspeaker\tstart_s\tend_s\tmatched"
        );
        assert!(
            lines.contains(&"call\tinterruption\tref\tcustomer\t3.50\t4.00\tfalse"),
            "{tsv}"
        );
        assert!(
            lines.contains(&"call\tsilence\tref\t\t8.00\t12.00\tfalse"),
            "{tsv}"
        );
        assert!(
            !lines
                .iter()
                .any(|l| l.ends_with("\ttrue") && l.contains("\tinterruption\t"))
        );
    }

    #[test]
    fn empty_hypothesis_is_all_miss() {
        let r = RefFile {
            speech: call(&[(0.0, 4.0)], &[(5.0, 8.0)]),
            uem: None,
            text: Vec::new(),
        };
        let c = score_file(&r, &HypFile::default(), &EvalOptions::default());
        let f = c.figures();
        assert_eq!(f["per_speaker_detection_error_rate"], Some(1.0));
        assert_eq!(f["per_speaker_miss_rate"], Some(1.0));
        assert_eq!(f["detection_error_rate"], Some(1.0));
    }

    #[test]
    fn report_beside_its_stm_counts_each_word_once() {
        // Regression: `hearken analyze --format json,stm` writes both; the
        // directory as a hypothesis doubled every word (WER ~100 %).
        let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/demo-call.json");
        let mut report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(golden).unwrap()).unwrap();
        report["transcript"] = serde_json::json!([{
            "speaker": "agent", "start_s": 0.5, "end_s": 3.3,
            "text": "hello there", "words": []
        }]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("demo-call.json"), report.to_string()).unwrap();
        std::fs::write(
            dir.path().join("demo-call.stm"),
            "demo-call 1 agent 0.50 3.30 hello there\n",
        )
        .unwrap();
        let hyps = load_hypotheses(dir.path()).unwrap();
        let text = hyps["demo-call"].text.as_ref().unwrap();
        assert_eq!(text.len(), 1);
        assert_eq!(text[0].text, "hello there");
    }

    #[test]
    fn unknown_file_id_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.rttm");
        std::fs::write(
            &p,
            "SPEAKER a 1 0 1 <NA> <NA> x <NA> <NA>\nSPEAKER zz 1 0 1 <NA> <NA> x <NA> <NA>\n",
        )
        .unwrap();
        let e = load_references(&p, None, Some(&["a".to_string()]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("zz"), "{e}");
    }

    #[test]
    fn wer_by_speaker_with_ignored_regions() {
        let line = |spk: &str, s: f64, e: f64, t: &str| StmLine {
            file: "f".into(),
            channel: "1".into(),
            speaker: spk.into(),
            span: Span::from_secs(s, e),
            text: t.into(),
            ignore: t.is_empty(),
        };
        let reference = vec![
            line("agent", 0.0, 2.0, "hello there"),
            line("customer", 2.0, 4.0, ""),
            line("customer", 4.0, 6.0, "yes please"),
        ];
        let hyp = vec![
            line("agent", 0.1, 2.0, "Hello there!"),
            line("customer", 2.1, 3.9, "noise words"),
            line("customer", 4.0, 6.0, "yes"),
        ];
        let (w, by, _) = score_text(&reference, &hyp);
        assert_eq!((w.errors(), w.reference), (1, 4));
        assert_eq!(by["agent"].errors(), 0);
    }
}
