//! Language markers of active listening in an utterance's text: questions
//! (open or closed), empathy, paraphrase, clarifying questions, apologies,
//! politeness, fillers, and a customer's frustration.
//!
//! The phrases live in a [`Lexicon`], TOML that a user can replace
//! (`config/lexicon.toml` is the default, embedded in the binary; its header
//! documents the entry syntax). Matching is on words, not characters: the
//! text is split into sentences and words, lower-cased, and contractions are
//! expanded, so `"I'm sorry to hear"` and `"i am sorry to hear"` are the same
//! to an entry, with or without Whisper's punctuation and casing.
//!
//! **Questions** are decided per sentence by form, not by the question mark
//! alone (the rules are in the lexicon's `[questions]` table): a sentence
//! ending in "?" counts only if it starts (after lead-ins like "so",
//! "okay") with a question word, an auxiliary ("do you", "is it") or a
//! request to tell or describe, or ends in a tag ("…, right?"). So
//! "I'd like to cancel my account?" (a statement with rising tone) is no
//! question, nor is "So what you're saying is…" (a question word followed
//! by a subject starts a statement). Without any end mark (unpunctuated
//! transcripts) form alone decides. Each question is *open* or *closed*,
//! never both; the other markers are independent of each other (a
//! clarifying "Do you mean the savings account?" is also a closed question).
//!
//! Every [`Marker`] carries its evidence: the lexicon entry, the words as
//! they appear in the text and their byte range, and the sentence.

use super::AnnotateError;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// The lexicon hearken ships (`config/lexicon.toml`).
pub const DEFAULT_LEXICON: &str = include_str!("../../config/lexicon.toml");

/// The kinds of marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    /// A question inviting an answer in the speaker's own words (what, how,
    /// why…, "tell me", "walk me through").
    OpenQuestion,
    /// A yes/no or choice question ("do you…", "is it…", "which…", tags).
    ClosedQuestion,
    /// Acknowledging the other's feelings ("I understand", "that must be
    /// frustrating").
    Empathy,
    /// Summarising or restating the other's words ("so what you're
    /// saying", "just to confirm").
    Paraphrase,
    /// Asking what the other meant ("do you mean", "could you clarify").
    ClarifyingQuestion,
    /// Apologising.
    Apology,
    /// Please, thank you, and the like.
    Politeness,
    /// Hesitations and empty discourse words ("um", filler "like").
    Filler,
    /// Cues of an unhappy customer ("this is ridiculous", "third time").
    Frustration,
}

impl MarkerKind {
    /// Every kind, in report order.
    pub const ALL: [MarkerKind; 9] = [
        MarkerKind::OpenQuestion,
        MarkerKind::ClosedQuestion,
        MarkerKind::Empathy,
        MarkerKind::Paraphrase,
        MarkerKind::ClarifyingQuestion,
        MarkerKind::Apology,
        MarkerKind::Politeness,
        MarkerKind::Filler,
        MarkerKind::Frustration,
    ];

    /// The name used in reports and in the lexicon (`open_question`…).
    pub fn name(self) -> &'static str {
        match self {
            MarkerKind::OpenQuestion => "open_question",
            MarkerKind::ClosedQuestion => "closed_question",
            MarkerKind::Empathy => "empathy",
            MarkerKind::Paraphrase => "paraphrase",
            MarkerKind::ClarifyingQuestion => "clarifying_question",
            MarkerKind::Apology => "apology",
            MarkerKind::Politeness => "politeness",
            MarkerKind::Filler => "filler",
            MarkerKind::Frustration => "frustration",
        }
    }
}

/// One marker found in a text, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// What it is.
    pub kind: MarkerKind,
    /// The lexicon entry (or question rule) that matched, as written.
    pub entry: String,
    /// The matched words as they appear in the text.
    pub matched: String,
    /// Byte range of `matched` in the text.
    pub start: usize,
    /// End of that range (exclusive).
    pub end: usize,
    /// Index of the sentence (0-based) in the text.
    pub sentence: usize,
}

/// Number of markers of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerCounts {
    /// Open questions.
    pub open_question: usize,
    /// Closed questions.
    pub closed_question: usize,
    /// Empathy statements.
    pub empathy: usize,
    /// Paraphrases.
    pub paraphrase: usize,
    /// Clarifying questions.
    pub clarifying_question: usize,
    /// Apologies.
    pub apology: usize,
    /// Politeness markers.
    pub politeness: usize,
    /// Fillers.
    pub filler: usize,
    /// Frustration cues.
    pub frustration: usize,
}

impl MarkerCounts {
    /// The count of one kind.
    pub fn get(&self, kind: MarkerKind) -> usize {
        match kind {
            MarkerKind::OpenQuestion => self.open_question,
            MarkerKind::ClosedQuestion => self.closed_question,
            MarkerKind::Empathy => self.empathy,
            MarkerKind::Paraphrase => self.paraphrase,
            MarkerKind::ClarifyingQuestion => self.clarifying_question,
            MarkerKind::Apology => self.apology,
            MarkerKind::Politeness => self.politeness,
            MarkerKind::Filler => self.filler,
            MarkerKind::Frustration => self.frustration,
        }
    }

    fn slot(&mut self, kind: MarkerKind) -> &mut usize {
        match kind {
            MarkerKind::OpenQuestion => &mut self.open_question,
            MarkerKind::ClosedQuestion => &mut self.closed_question,
            MarkerKind::Empathy => &mut self.empathy,
            MarkerKind::Paraphrase => &mut self.paraphrase,
            MarkerKind::ClarifyingQuestion => &mut self.clarifying_question,
            MarkerKind::Apology => &mut self.apology,
            MarkerKind::Politeness => &mut self.politeness,
            MarkerKind::Filler => &mut self.filler,
            MarkerKind::Frustration => &mut self.frustration,
        }
    }

    /// Questions of either kind.
    pub fn questions(&self) -> usize {
        self.open_question + self.closed_question
    }
}

impl std::ops::AddAssign for MarkerCounts {
    fn add_assign(&mut self, o: MarkerCounts) {
        for k in MarkerKind::ALL {
            *self.slot(k) += o.get(k);
        }
    }
}

/// What [`Lexicon::classify`] found in one text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextMarkers {
    /// Every marker, in text order.
    pub markers: Vec<Marker>,
    /// Sentences in the text.
    pub sentences: usize,
    /// Words in the text (before contractions are expanded).
    pub words: usize,
}

impl TextMarkers {
    /// The markers of one kind.
    pub fn of(&self, kind: MarkerKind) -> impl Iterator<Item = &Marker> {
        self.markers.iter().filter(move |m| m.kind == kind)
    }

    /// How many markers of one kind.
    pub fn count(&self, kind: MarkerKind) -> usize {
        self.of(kind).count()
    }

    /// All counts.
    pub fn counts(&self) -> MarkerCounts {
        let mut c = MarkerCounts::default();
        for m in &self.markers {
            *c.slot(m.kind) += 1;
        }
        c
    }
}

// ---------------------------------------------------------------------------
// Text → sentences → words.

/// A normalised word with where it came from.
#[derive(Clone, Debug, PartialEq)]
struct Token {
    norm: String,
    /// Byte range of the written word it came from (an expanded contraction
    /// gives several tokens with the same range).
    start: usize,
    end: usize,
    /// A pause mark or a sentence start lies just before this token.
    pause_before: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct Sentence {
    tokens: Vec<Token>,
    /// Ends in "?".
    question_mark: bool,
    /// Ends in ".", "!" or "?" (false: unpunctuated, or the text ran out).
    terminated: bool,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}')
}

/// Expands a lower-cased word with straight apostrophes into tokens.
fn expand(word: &str, out: &mut Vec<String>) {
    let w = word.trim_matches('\'');
    if w.is_empty() {
        return;
    }
    let whole: Option<&[&str]> = match w {
        "can't" | "cannot" => Some(&["can", "not"]),
        "won't" => Some(&["will", "not"]),
        "shan't" => Some(&["shall", "not"]),
        "ain't" => Some(&["is", "not"]),
        "let's" => Some(&["let", "us"]),
        "gonna" => Some(&["going", "to"]),
        "wanna" => Some(&["want", "to"]),
        "gotta" => Some(&["got", "to"]),
        "ok" => Some(&["okay"]),
        _ => None,
    };
    if let Some(parts) = whole {
        out.extend(parts.iter().map(|s| s.to_string()));
        return;
    }
    if let Some(stem) = w.strip_suffix("n't") {
        out.push(stem.to_string());
        out.push("not".into());
        return;
    }
    for (suffix, full) in [
        ("'re", "are"),
        ("'ve", "have"),
        ("'m", "am"),
        ("'ll", "will"),
        ("'d", "would"),
    ] {
        if let Some(stem) = w.strip_suffix(suffix)
            && !stem.is_empty()
        {
            out.push(stem.to_string());
            out.push(full.into());
            return;
        }
    }
    if let Some(stem) = w.strip_suffix("'s") {
        const IS: [&str; 17] = [
            "it",
            "that",
            "what",
            "there",
            "here",
            "who",
            "where",
            "how",
            "when",
            "why",
            "he",
            "she",
            "this",
            "everything",
            "nothing",
            "something",
            "everyone",
        ];
        if IS.contains(&stem) {
            out.push(stem.to_string());
            out.push("is".into());
            return;
        }
    }
    out.push(w.to_string());
}

/// Words that end in "." without ending a sentence.
const ABBREVIATIONS: [&str; 6] = ["mr", "mrs", "ms", "dr", "st", "vs"];

/// Splits text into sentences of normalised tokens.
fn tokenize(text: &str) -> (Vec<Sentence>, usize) {
    let mut sentences = Vec::new();
    let mut cur = Sentence {
        tokens: Vec::new(),
        question_mark: false,
        terminated: false,
    };
    let mut words = 0;
    let mut pause = true;
    let mut parts = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, c)| c);
        if c.is_alphanumeric() {
            // A word: letters, digits, inner apostrophes and hyphens, and a
            // point between digits (3.5).
            let start = pos;
            let mut j = i + 1;
            while j < chars.len() {
                let c = chars[j].1;
                let after = chars.get(j + 1).map(|&(_, c)| c);
                let inner = |a: Option<char>| a.is_some_and(char::is_alphanumeric);
                let keep = c.is_alphanumeric()
                    || ((is_apostrophe(c) || c == '-') && inner(after))
                    || (c == '.'
                        && chars[j - 1].1.is_ascii_digit()
                        && after.is_some_and(|a| a.is_ascii_digit()));
                if !keep {
                    break;
                }
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |&(p, _)| p);
            let written = &text[start..end];
            let lower: String = written
                .chars()
                .map(|c| if is_apostrophe(c) { '\'' } else { c })
                .flat_map(char::to_lowercase)
                .collect();
            parts.clear();
            expand(&lower, &mut parts);
            words += 1;
            for p in parts.drain(..) {
                cur.tokens.push(Token {
                    norm: p,
                    start,
                    end,
                    pause_before: pause,
                });
                pause = false;
            }
            i = j;
            continue;
        }
        match c {
            '.' if next == Some('.') => {
                // An ellipsis: a pause, not a sentence end.
                pause = true;
                while chars.get(i + 1).is_some_and(|&(_, c)| c == '.') {
                    i += 1;
                }
            }
            '.' if cur
                .tokens
                .last()
                .is_some_and(|t| ABBREVIATIONS.contains(&t.norm.as_str())) => {}
            '.' | '!' | '?' => {
                // "?!" or "!?" still asks.
                cur.question_mark |= c == '?';
                cur.terminated = true;
                let more_marks = next.is_some_and(|n| matches!(n, '.' | '!' | '?'));
                if !more_marks {
                    if !cur.tokens.is_empty() {
                        sentences.push(std::mem::replace(
                            &mut cur,
                            Sentence {
                                tokens: Vec::new(),
                                question_mark: false,
                                terminated: false,
                            },
                        ));
                    } else {
                        cur.question_mark = false;
                        cur.terminated = false;
                    }
                    pause = true;
                }
            }
            ',' | ';' | ':' | '\u{2026}' | '\u{2014}' | '\u{2013}' | '(' | ')' => pause = true,
            '-' if next.is_some_and(char::is_whitespace) => pause = true,
            _ => {}
        }
        i += 1;
    }
    if !cur.tokens.is_empty() {
        sentences.push(cur);
    }
    (sentences, words)
}

// ---------------------------------------------------------------------------
// The lexicon.

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawEntry {
    Phrase(String),
    Full(RawFull),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFull {
    phrase: String,
    #[serde(default)]
    not_after: Vec<String>,
    #[serde(default)]
    not_before: Vec<String>,
    #[serde(default)]
    set_off: bool,
    #[serde(default)]
    or_before: Vec<String>,
    #[serde(default)]
    question: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestions {
    lead_in: Vec<String>,
    wh_words: Vec<String>,
    auxiliaries: Vec<String>,
    subjects: Vec<String>,
    determiners: Vec<String>,
    imperatives: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpen {
    starts: Vec<RawEntry>,
    prompts: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosed {
    starts: Vec<RawEntry>,
    tags: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhrases {
    phrases: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    questions: RawQuestions,
    open_question: RawOpen,
    closed_question: RawClosed,
    empathy: RawPhrases,
    paraphrase: RawPhrases,
    clarifying_question: RawPhrases,
    apology: RawPhrases,
    politeness: RawPhrases,
    filler: RawPhrases,
    frustration: RawPhrases,
}

/// One word of a pattern.
#[derive(Clone, Debug, PartialEq)]
enum PatWord {
    /// Any one word (`*`).
    Any,
    /// One of these words.
    OneOf(Vec<String>),
}

impl PatWord {
    fn matches(&self, w: &str) -> bool {
        match self {
            PatWord::Any => true,
            PatWord::OneOf(v) => v.iter().any(|x| x == w),
        }
    }
}

/// A compiled entry.
#[derive(Clone, Debug, PartialEq)]
struct Pattern {
    /// As written in the lexicon.
    source: String,
    words: Vec<PatWord>,
    at_start: bool,
    at_end: bool,
    not_after: Vec<Vec<String>>,
    not_before: Vec<Vec<String>>,
    set_off: bool,
    or_before: Vec<Vec<String>>,
    question: Option<bool>,
}

/// The phrase lists behind the markers, compiled for matching.
#[derive(Clone, Debug, PartialEq)]
pub struct Lexicon {
    lead_in: HashSet<String>,
    wh_words: HashSet<String>,
    auxiliaries: HashSet<String>,
    subjects: HashSet<String>,
    determiners: HashSet<String>,
    imperatives: HashSet<String>,
    open_starts: Vec<Pattern>,
    prompts: Vec<Pattern>,
    closed_starts: Vec<Pattern>,
    tags: Vec<Pattern>,
    /// The free-standing markers, one list per kind.
    phrases: Vec<(MarkerKind, Vec<Pattern>)>,
}

impl Default for Lexicon {
    /// The built-in lexicon.
    fn default() -> Self {
        Lexicon::builtin().expect("the built-in lexicon is valid (tested by builtin_lexicon_loads)")
    }
}

/// Normalises a plain phrase (no pattern syntax) into tokens.
fn norm_words(phrase: &str) -> Vec<String> {
    let (sentences, _) = tokenize(phrase);
    sentences
        .into_iter()
        .flat_map(|s| s.tokens)
        .map(|t| t.norm)
        .collect()
}

impl Lexicon {
    /// The built-in lexicon ([`DEFAULT_LEXICON`]).
    pub fn builtin() -> Result<Lexicon, AnnotateError> {
        Lexicon::from_toml(DEFAULT_LEXICON, "built-in")
    }

    /// Reads a lexicon file (the `--lexicon` option).
    pub fn load(path: &Path) -> Result<Lexicon, AnnotateError> {
        let text = std::fs::read_to_string(path).map_err(|source| AnnotateError::LexiconIo {
            path: path.to_path_buf(),
            source,
        })?;
        Lexicon::from_toml(&text, &path.display().to_string())
    }

    /// Parses lexicon TOML; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Lexicon, AnnotateError> {
        let raw: RawLexicon = toml::from_str(text).map_err(|e| AnnotateError::LexiconParse {
            origin: origin.to_string(),
            message: e.message().replace('\n', " "),
        })?;
        let words = |section: &str, v: &[String]| -> Result<HashSet<String>, AnnotateError> {
            v.iter()
                .map(|w| {
                    let n = norm_words(w);
                    if n.len() == 1 {
                        Ok(n[0].clone())
                    } else {
                        Err(AnnotateError::LexiconPattern {
                            section: section.to_string(),
                            pattern: w.clone(),
                            reason: "must be a single word".into(),
                        })
                    }
                })
                .collect()
        };
        let list = |section: &str, v: &[RawEntry]| -> Result<Vec<Pattern>, AnnotateError> {
            v.iter().map(|e| compile(section, e)).collect()
        };
        let q = &raw.questions;
        Ok(Lexicon {
            lead_in: words("questions.lead_in", &q.lead_in)?,
            wh_words: words("questions.wh_words", &q.wh_words)?,
            auxiliaries: words("questions.auxiliaries", &q.auxiliaries)?,
            subjects: words("questions.subjects", &q.subjects)?,
            determiners: words("questions.determiners", &q.determiners)?,
            imperatives: words("questions.imperatives", &q.imperatives)?,
            open_starts: list("open_question.starts", &raw.open_question.starts)?,
            prompts: list("open_question.prompts", &raw.open_question.prompts)?,
            closed_starts: list("closed_question.starts", &raw.closed_question.starts)?,
            tags: list("closed_question.tags", &raw.closed_question.tags)?,
            phrases: vec![
                (MarkerKind::Empathy, list("empathy", &raw.empathy.phrases)?),
                (
                    MarkerKind::Paraphrase,
                    list("paraphrase", &raw.paraphrase.phrases)?,
                ),
                (
                    MarkerKind::ClarifyingQuestion,
                    list("clarifying_question", &raw.clarifying_question.phrases)?,
                ),
                (MarkerKind::Apology, list("apology", &raw.apology.phrases)?),
                (
                    MarkerKind::Politeness,
                    list("politeness", &raw.politeness.phrases)?,
                ),
                (MarkerKind::Filler, list("filler", &raw.filler.phrases)?),
                (
                    MarkerKind::Frustration,
                    list("frustration", &raw.frustration.phrases)?,
                ),
            ],
        })
    }

    /// Finds the markers in one utterance's text.
    pub fn classify(&self, text: &str) -> TextMarkers {
        let (sentences, words) = tokenize(text);
        let mut markers = Vec::new();
        for (si, s) in sentences.iter().enumerate() {
            if let Some((kind, entry, a, b)) = self.question(s) {
                markers.push(self.marker(text, s, si, kind, entry, a, b));
            }
            for (kind, patterns) in &self.phrases {
                let mut found: Vec<(usize, usize, &Pattern)> = Vec::new();
                for p in patterns {
                    for start in 0..s.tokens.len() {
                        if let Some(end) = self.match_at(p, s, start) {
                            found.push((start, end, p));
                        }
                    }
                }
                // Longest first, then earliest: a match overlapping one
                // already kept (of the same kind) is dropped.
                found.sort_by_key(|&(a, b, _)| (std::cmp::Reverse(b - a), a));
                let mut kept: Vec<(usize, usize)> = Vec::new();
                for (a, b, p) in found {
                    if kept.iter().all(|&(c, d)| b <= c || d <= a) {
                        kept.push((a, b));
                        markers.push(self.marker(text, s, si, *kind, p.source.clone(), a, b));
                    }
                }
            }
        }
        markers.sort_by_key(|m| (m.start, m.end, m.kind));
        TextMarkers {
            markers,
            sentences: sentences.len(),
            words,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn marker(
        &self,
        text: &str,
        s: &Sentence,
        si: usize,
        kind: MarkerKind,
        entry: String,
        a: usize,
        b: usize,
    ) -> Marker {
        let (start, end) = (s.tokens[a].start, s.tokens[b - 1].end);
        Marker {
            kind,
            entry,
            matched: text[start..end].to_string(),
            start,
            end,
            sentence: si,
        }
    }

    /// The first token after the lead-in words from `from` (never past the
    /// last token: a sentence that is only lead-ins keeps its last word).
    fn skip_lead_in(&self, s: &Sentence, from: usize) -> usize {
        let mut i = from;
        while i + 1 < s.tokens.len() && self.lead_in.contains(&s.tokens[i].norm) {
            i += 1;
        }
        i
    }

    /// Matches `p` at token `start` of `s`; the end of the match.
    fn match_at(&self, p: &Pattern, s: &Sentence, start: usize) -> Option<usize> {
        let t = &s.tokens;
        let end = start + p.words.len();
        if end > t.len() || p.words.is_empty() {
            return None;
        }
        if p.at_start {
            // At the sentence start, or after lead-ins, or after a pause
            // that follows only lead-ins.
            if self.skip_lead_in(s, 0) != start && start != 0 {
                return None;
            }
        }
        if p.at_end && end != t.len() {
            return None;
        }
        if let Some(q) = p.question
            && q != s.question_mark
        {
            return None;
        }
        for (k, w) in p.words.iter().enumerate() {
            let tok = &t[start + k];
            if !w.matches(&tok.norm) || (k > 0 && tok.pause_before) {
                return None;
            }
        }
        let pause_before = t[start].pause_before;
        let pause_after = end == t.len() || t[end].pause_before;
        if !pause_before && p.not_after.iter().any(|ph| ends_at(t, start, ph)) {
            return None;
        }
        if !pause_after && p.not_before.iter().any(|ph| starts_at(t, end, ph)) {
            return None;
        }
        if p.set_off
            && !(pause_before || pause_after || p.or_before.iter().any(|ph| starts_at(t, end, ph)))
        {
            return None;
        }
        Some(end)
    }

    /// Matches `p`'s words at token `i` (no conditions); the end.
    fn anchored(&self, p: &Pattern, s: &Sentence, i: usize) -> Option<usize> {
        let t = &s.tokens;
        let end = i + p.words.len();
        (end <= t.len()
            && p.words
                .iter()
                .enumerate()
                .all(|(k, w)| w.matches(&t[i + k].norm) && (k == 0 || !t[i + k].pause_before)))
        .then_some(end)
    }

    /// Question form at token `at` (after lead-ins): the kind, the rule and
    /// the matched token range.
    fn question_form(
        &self,
        s: &Sentence,
        at: usize,
        strict: bool,
    ) -> Option<(MarkerKind, String, usize, usize)> {
        let t = &s.tokens;
        let i = self.skip_lead_in(s, at);
        let first = &t.get(i)?.norm;
        let next = t.get(i + 1).filter(|n| !n.pause_before).map(|n| &n.norm);
        // A question word right before a subject starts a statement.
        if self.wh_words.contains(first) && next.is_some_and(|n| self.subjects.contains(n)) {
            return None;
        }
        let anchored = |p: &Pattern| self.anchored(p, s, i);
        // The longest open start wins ("could you tell me what" over an
        // auxiliary "could").
        let open = self
            .open_starts
            .iter()
            .filter_map(|p| anchored(p).map(|e| (e, p)))
            .max_by_key(|(e, _)| *e);
        if let Some((e, p)) = open {
            return Some((MarkerKind::OpenQuestion, p.source.clone(), i, e));
        }
        if self.auxiliaries.contains(first) {
            let mut j = i + 1;
            let negated = t.get(j).is_some_and(|n| n.norm == "not" && !n.pause_before);
            if negated {
                j += 1;
            }
            let after = t.get(j).filter(|n| !n.pause_before).map(|n| &n.norm);
            let subject = after.is_some_and(|n| self.subjects.contains(n));
            // "is the refund…", but not "do the following", "have a nice day".
            let determiner = after.is_some_and(|n| self.determiners.contains(n))
                && !self.imperatives.contains(first);
            // With a "?", an auxiliary first is enough, except a negative
            // imperative ("Don't worry?"); without one it needs a subject.
            if subject || determiner || (!strict && !negated && j < t.len()) {
                return Some((
                    MarkerKind::ClosedQuestion,
                    format!("auxiliary: {first}"),
                    i,
                    (j + usize::from(subject)).min(t.len()),
                ));
            }
            return None;
        }
        let closed = self
            .closed_starts
            .iter()
            .filter_map(|p| anchored(p).map(|e| (e, p)))
            .max_by_key(|(e, _)| *e);
        closed.map(|(e, p)| (MarkerKind::ClosedQuestion, p.source.clone(), i, e))
    }

    /// Whether sentence `s` is a question, and which kind.
    fn question(&self, s: &Sentence) -> Option<(MarkerKind, String, usize, usize)> {
        let i = self.skip_lead_in(s, 0);
        let prompt = self
            .prompts
            .iter()
            .filter_map(|p| self.anchored(p, s, i).map(|e| (e, p)))
            .max_by_key(|(e, _)| *e);
        if let Some((e, p)) = prompt {
            return Some((MarkerKind::OpenQuestion, p.source.clone(), i, e));
        }
        if s.terminated && !s.question_mark {
            return None;
        }
        let strict = !s.question_mark;
        if let Some(q) = self.question_form(s, 0, strict) {
            return Some(q);
        }
        if !s.question_mark {
            return None;
        }
        // The last clause: "Just to confirm, is that your address?"
        let t = &s.tokens;
        if let Some(last) = (1..t.len()).rev().find(|&k| t[k].pause_before)
            && let Some(q) = self.question_form(s, last, false)
        {
            return Some(q);
        }
        // A tag at the end: "It's the blue one, right?"
        let tag = self
            .tags
            .iter()
            .filter_map(|p| {
                let n = p.words.len();
                let start = t.len().checked_sub(n)?;
                let ok = (start > 0 || n > 1)
                    && p.words.iter().enumerate().all(|(k, w)| {
                        w.matches(&t[start + k].norm) && (k == 0 || !t[start + k].pause_before)
                    })
                    && (t[start].pause_before || n > 1);
                ok.then_some((start, p))
            })
            .min_by_key(|(start, _)| *start);
        tag.map(|(start, p)| {
            (
                MarkerKind::ClosedQuestion,
                format!("tag: {}", p.source),
                start,
                t.len(),
            )
        })
    }
}

/// True if the tokens just before `at` (with no pause between) are `phrase`.
fn ends_at(t: &[Token], at: usize, phrase: &[String]) -> bool {
    let n = phrase.len();
    if n == 0 || at < n {
        return false;
    }
    let s = at - n;
    t[s..at]
        .iter()
        .zip(phrase)
        .enumerate()
        .all(|(k, (tok, w))| tok.norm == *w && (k == 0 || !tok.pause_before))
}

/// True if the tokens from `at` (with no pause before them) are `phrase`.
fn starts_at(t: &[Token], at: usize, phrase: &[String]) -> bool {
    let n = phrase.len();
    if n == 0 || at + n > t.len() {
        return false;
    }
    t[at..at + n]
        .iter()
        .zip(phrase)
        .all(|(tok, w)| tok.norm == *w && !tok.pause_before)
}

fn compile(section: &str, e: &RawEntry) -> Result<Pattern, AnnotateError> {
    let (phrase, full) = match e {
        RawEntry::Phrase(p) => (p.as_str(), None),
        RawEntry::Full(f) => (f.phrase.as_str(), Some(f)),
    };
    let err = |reason: &str| AnnotateError::LexiconPattern {
        section: section.to_string(),
        pattern: phrase.to_string(),
        reason: reason.to_string(),
    };
    let mut body = phrase.trim();
    let at_start = body.starts_with('^');
    if at_start {
        body = &body[1..];
    }
    let at_end = body.ends_with('$');
    if at_end {
        body = &body[..body.len() - 1];
    }
    let mut words = Vec::new();
    for w in body.split_whitespace() {
        if w == "*" {
            words.push(PatWord::Any);
            continue;
        }
        if w.contains('|') {
            let mut alts = Vec::new();
            for a in w.split('|') {
                let n = norm_words(a);
                if n.len() != 1 {
                    return Err(err(
                        "each alternative of a|b must be one word (contractions expand to two)",
                    ));
                }
                alts.extend(n);
            }
            words.push(PatWord::OneOf(alts));
            continue;
        }
        let n = norm_words(w);
        if n.is_empty() {
            return Err(err("a word of the phrase has no letters or digits"));
        }
        words.extend(n.into_iter().map(|x| PatWord::OneOf(vec![x])));
    }
    if words.is_empty() {
        return Err(err("the phrase is empty"));
    }
    let phrases = |v: &[String]| -> Result<Vec<Vec<String>>, AnnotateError> {
        v.iter()
            .map(|p| {
                let n = norm_words(p);
                if n.is_empty() {
                    Err(err("an empty phrase in a condition"))
                } else {
                    Ok(n)
                }
            })
            .collect()
    };
    Ok(Pattern {
        source: phrase.to_string(),
        words,
        at_start,
        at_end,
        not_after: full.map_or(Ok(Vec::new()), |f| phrases(&f.not_after))?,
        not_before: full.map_or(Ok(Vec::new()), |f| phrases(&f.not_before))?,
        set_off: full.is_some_and(|f| f.set_off),
        or_before: full.map_or(Ok(Vec::new()), |f| phrases(&f.or_before))?,
        question: full.and_then(|f| f.question),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use MarkerKind::*;

    fn lex() -> Lexicon {
        Lexicon::builtin().unwrap()
    }

    /// The markers of `kind` in `text`, as matched text.
    fn found(l: &Lexicon, text: &str, kind: MarkerKind) -> Vec<String> {
        l.classify(text)
            .of(kind)
            .map(|m| m.matched.clone())
            .collect()
    }

    fn has(l: &Lexicon, text: &str, kind: MarkerKind) -> bool {
        l.classify(text).count(kind) > 0
    }

    /// Asserts every positive sentence has `kind` and no negative one has.
    fn check(kind: MarkerKind, positive: &[&str], negative: &[&str]) {
        let l = lex();
        for p in positive {
            assert!(
                has(&l, p, kind),
                "{kind:?} missed in {p:?}: {:?}",
                l.classify(p).markers
            );
        }
        for n in negative {
            assert!(
                !has(&l, n, kind),
                "{kind:?} wrongly in {n:?}: {:?}",
                l.classify(n).markers
            );
        }
    }

    #[test]
    fn builtin_lexicon_loads() {
        let l = Lexicon::builtin().unwrap();
        assert!(l.open_starts.len() > 5);
        assert_eq!(l.phrases.len(), 7);
        assert_eq!(Lexicon::default(), l);
    }

    #[test]
    fn tokens_expand_contractions_and_keep_offsets() {
        let text = "I'm sorry… you can’t log in?! OK.";
        let (s, words) = tokenize(text);
        assert_eq!(words, 7);
        assert_eq!(s.len(), 2);
        let norms: Vec<&str> = s[0].tokens.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(
            norms,
            ["i", "am", "sorry", "you", "can", "not", "log", "in"]
        );
        assert!(s[0].question_mark && s[0].terminated);
        assert!(s[0].tokens[3].pause_before, "the ellipsis is a pause");
        let t = &s[0].tokens[4];
        assert_eq!(&text[t.start..t.end], "can’t");
        assert_eq!(s[1].tokens[0].norm, "okay");
        // Decimals and abbreviations do not end sentences.
        let (s, _) = tokenize("It was 3.5 pounds, Mr. Smith said. Fine");
        assert_eq!(s.len(), 2);
        assert!(!s[1].terminated);
    }

    #[test]
    fn open_questions() {
        check(
            OpenQuestion,
            &[
                "What happened when you tried to log in?",
                "How can I help you today?",
                "Why do you think that is?",
                "Okay, and when did the problem start?",
                "Tell me more about the issue.",
                "Okay, walk me through what happened.",
                "Describe the error for me.",
                "Could you describe what you saw on the screen?",
                "Can you walk me through what you did?",
                "Sorry, what was the error message?",
                "Just so I know, how long has this been going on?",
                "how can i help you today",
                "so what did the engineer say",
            ],
            &[
                "What I need is a refund.",
                "So what you're saying is the bill is wrong?",
                "what you said makes sense",
                "Do you have your account number?",
                "I know how that feels.",
                "Which account is it?",
                "What a day.",
                "Tell me your account number.",
            ],
        );
    }

    #[test]
    fn closed_questions() {
        check(
            ClosedQuestion,
            &[
                "Do you have your account number?",
                "Is that the right address?",
                "Can I put you on hold for a moment?",
                "Have you tried restarting the router?",
                "Did the engineer come yesterday?",
                "Don't you have a backup?",
                "Which account is it?",
                "It's the blue one, right?",
                "You got the email, didn't you?",
                "Just to confirm, is that your home address?",
                "so is the refund coming today",
                "can i help you with anything else",
            ],
            &[
                "I'd like to cancel my account?",
                "So I called yesterday?",
                "You got the email right?",
                "Do not worry about it.",
                "have a good day",
                "don't worry about it",
                "What happened next?",
                "Could you tell me what happened?",
                "Thanks.",
            ],
        );
        // One question per sentence, open or closed, never both.
        let l = lex();
        let m = l.classify("Could you tell me what happened?");
        assert_eq!(m.count(OpenQuestion), 1);
        assert_eq!(m.count(ClosedQuestion), 0);
    }

    #[test]
    fn statements_with_a_question_mark_are_not_questions() {
        let l = lex();
        for s in [
            "I'd like to cancel my account?",
            "So I called yesterday and nobody answered?",
            "My name is David Miller?",
            "The bill came on Monday?",
        ] {
            assert_eq!(l.classify(s).counts().questions(), 0, "{s}");
        }
    }

    #[test]
    fn empathy() {
        check(
            Empathy,
            &[
                "I understand, that's really annoying.",
                "I completely understand how you feel.",
                "That must be frustrating.",
                "Oh, that must have been really stressful for you.",
                "I'm sorry to hear that.",
                "i'm so sorry to hear about your mum",
                "That sounds really difficult.",
                "I can imagine.",
                "I understand your frustration.",
            ],
            &[
                "If I understand correctly, you were charged twice.",
                "I don't understand what you mean.",
                "Do I understand that you want to cancel?",
                "That must be the wrong account.",
                "I need you to understand the terms.",
                "As I understand it, the fee is fixed.",
            ],
        );
    }

    #[test]
    fn paraphrase() {
        check(
            Paraphrase,
            &[
                "So what you're saying is the router keeps dropping.",
                "If I understand correctly, you were charged twice.",
                "Let me make sure I have this right.",
                "Just to confirm, your address is 12 Oak Street.",
                "To summarise, we'll send a new card and refund the fee.",
                "In other words, it never arrived.",
                "so basically you want the old plan back",
                "It sounds like you've had a rough week.",
            ],
            &[
                "So I called yesterday.",
                "So I'll just check that for you.",
                "so you can log in now",
                "I need to confirm your address.",
                "I said that already.",
                "What you need to do is restart it.",
            ],
        );
    }

    #[test]
    fn clarifying_questions() {
        check(
            ClarifyingQuestion,
            &[
                "Do you mean the savings account?",
                "Could you clarify which payment that was?",
                "When you say it's broken, what happens exactly?",
                "Which one?",
                "Which card did you use?",
                "Sorry?",
                "Could you repeat that, please?",
                "what do you mean by that",
            ],
            &[
                "I mean, it's fine.",
                "The card which you used is expired.",
                "I'm sorry.",
                "That's what I meant.",
                "Say hello to your mum.",
            ],
        );
    }

    #[test]
    fn apology() {
        check(
            Apology,
            &[
                "Sorry about that.",
                "I'm sorry for the wait.",
                "I apologise for the confusion.",
                "My apologies, I misread it.",
                "sorry to keep you waiting",
            ],
            &[
                "I'm sorry to hear that.",
                "I'm sorry you've had so much trouble.",
                "That's fine.",
                "No need to worry.",
            ],
        );
        // Empathy, not an apology.
        let l = lex();
        assert!(has(&l, "I'm so sorry to hear that.", Empathy));
    }

    #[test]
    fn politeness() {
        check(
            Politeness,
            &[
                "Could you please hold?",
                "Thank you for your patience.",
                "Thanks!",
                "You're welcome.",
                "Have a great day.",
                "Would you mind spelling that?",
                "Bear with me one second.",
            ],
            &[
                "Hold on.",
                "Give me your number.",
                "I don't mind either way.",
                "That was a great day for us.",
            ],
        );
        // The longer phrase wins over the shorter one inside it.
        let l = lex();
        assert_eq!(
            found(&l, "Thank you for your patience.", Politeness),
            ["Thank you for your patience"]
        );
    }

    #[test]
    fn fillers() {
        check(
            Filler,
            &[
                "Um, I think so.",
                "It was, uh, Tuesday.",
                "It was, like, completely broken.",
                "It's like really slow.",
                "Like, I don't know.",
                "I just, you know, want it fixed.",
                "I mean, it's not great.",
                "it's kind of slow",
                "the router is erm flashing",
            ],
            &[
                "I'd like to cancel.",
                "It looks like rain.",
                "Like I said, it's broken.",
                "I like the new plan.",
                "Do you know the password?",
                "You know what I mean?",
                "I mean the other account.",
                "What kind of account is it?",
                "Something like that.",
                "Uh-huh.",
            ],
        );
        let l = lex();
        let m = l.classify("Um, so, like, I was, uh, you know, waiting.");
        assert_eq!(m.count(Filler), 4, "{:?}", m.markers);
        assert_eq!(m.counts().filler, 4);
    }

    #[test]
    fn frustration() {
        check(
            Frustration,
            &[
                "This is ridiculous.",
                "I've been waiting for over an hour.",
                "This is the third time I've called.",
                "That's unacceptable.",
                "I want to speak to a manager.",
                "Can I talk to your supervisor?",
                "i am fed up with this",
                "This is so frustrating.",
                "It's still not working.",
            ],
            &[
                "That must be really frustrating.",
                "That sounds so frustrating.",
                "I'll wait for the email.",
                "It's the third of May.",
                "My manager said it's fine.",
                "Thanks, that was quick.",
            ],
        );
    }

    #[test]
    fn evidence_points_into_the_text() {
        let l = lex();
        let text = "Okay. So what you're saying is, um, the bill doubled?";
        let m = l.classify(text);
        assert_eq!(m.sentences, 2);
        for mk in &m.markers {
            assert_eq!(&text[mk.start..mk.end], mk.matched);
        }
        let p: Vec<&Marker> = m.of(Paraphrase).collect();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].matched, "So what you're saying");
        assert_eq!(p[0].entry, "so what you are saying");
        assert_eq!(p[0].sentence, 1);
        assert_eq!(m.count(Filler), 1);
        assert_eq!(m.counts().questions(), 0);
    }

    #[test]
    fn lexicon_can_be_replaced() {
        let mut text = DEFAULT_LEXICON.replace("[frustration]\n", "[frustration]\n# test\n");
        text = text.replace(
            "    \"ridiculous\", \"unacceptable\",",
            "    \"not cool\", \"ridiculous\", \"unacceptable\",",
        );
        let l = Lexicon::from_toml(&text, "test").unwrap();
        assert!(has(&l, "That's not cool.", Frustration));
        assert!(!has(&lex(), "That's not cool.", Frustration));

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lex.toml");
        std::fs::write(&p, &text).unwrap();
        assert_eq!(Lexicon::load(&p).unwrap(), l);
        assert!(matches!(
            Lexicon::load(&dir.path().join("missing.toml")),
            Err(AnnotateError::LexiconIo { .. })
        ));
    }

    #[test]
    fn bad_lexicons_are_rejected() {
        let unknown = DEFAULT_LEXICON.replace("[filler]", "[filler]\nextra = 1");
        assert!(matches!(
            Lexicon::from_toml(&unknown, "t"),
            Err(AnnotateError::LexiconParse { .. })
        ));
        let missing = DEFAULT_LEXICON.replace("[apology]", "[apology_x]");
        assert!(matches!(
            Lexicon::from_toml(&missing, "t"),
            Err(AnnotateError::LexiconParse { .. })
        ));
        let bad_alt = DEFAULT_LEXICON.replace("\"fed up\",", "\"i'm|we're fed up\",");
        let e = Lexicon::from_toml(&bad_alt, "t").unwrap_err();
        assert!(
            matches!(e, AnnotateError::LexiconPattern { ref section, .. } if section == "frustration"),
            "{e}"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_classifies_with_valid_evidence(
            text in "[a-zA-Z’'.,?!… \\-é0-9]{0,80}"
        ) {
            let l = lex();
            let m = l.classify(&text);
            for mk in &m.markers {
                proptest::prop_assert_eq!(&text[mk.start..mk.end], mk.matched.as_str());
                proptest::prop_assert!(mk.sentence < m.sentences);
            }
            proptest::prop_assert!(m.counts().questions() <= m.sentences);
        }
    }

    #[test]
    fn counts_add_up() {
        let l = lex();
        let mut total = MarkerCounts::default();
        total += l.classify("Thanks. How are you?").counts();
        total += l.classify("Um, thanks!").counts();
        assert_eq!(total.politeness, 2);
        assert_eq!(total.open_question, 1);
        assert_eq!(total.filler, 1);
        assert_eq!(total.get(Politeness), 2);
    }
}
