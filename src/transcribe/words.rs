//! From Whisper's tokens to words, and from words to utterances.
//!
//! Whisper emits sub-word tokens with times in window time. A token whose
//! text begins with a space starts a new word; other tokens continue the
//! word before them (a suffix, an apostrophe, punctuation). Words are mapped
//! to call time through the window's pieces, and then grouped into
//! utterances along the speaker's speech timeline: consecutive speech
//! segments closer than `utterance_gap` belong to one utterance, the same
//! definition the conversation metrics use.

use super::pack::Window;
use crate::time::Time;
use crate::timeline::{Span, Timeline};

/// One token as the recogniser returns it, in window time.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The token's text, leading space included.
    pub text: String,
    /// Start in the window.
    pub start: Time,
    /// End in the window.
    pub end: Time,
    /// Probability the model gave it.
    pub p: f32,
    /// Which of the window's decoded segments (Whisper's sentences, in
    /// order) it belongs to.
    pub segment: u32,
}

/// One word in call time.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedWord {
    /// The word as written (punctuation attached).
    pub text: String,
    /// Where it is in the call.
    pub span: Span,
    /// Mean probability of its tokens.
    pub p: f32,
}

/// Removes decoding loops: where a segment repeats, word for word (case and
/// punctuation aside, three words or more), an earlier segment of the same
/// piece, that segment and every segment between the two are dropped.
///
/// Why: a small model that loses its place can cycle through the window's
/// sentences again after the speech they belong to. On the demo call one
/// piece holding "he was not an ill-disposed young man" came back as that
/// sentence, the previous piece's sentence, and the first sentence again.
/// Whisper's own fallback catches loops of one short phrase (low entropy),
/// not loops over whole sentences. Repeats across pieces are kept: a call
/// may really say the same sentence twice (and the development set's
/// speakers do), but one stretch of speech rarely holds the same sentence
/// twice with other sentences between.
pub fn drop_loops(window: &Window, tokens: &mut Vec<Token>) {
    // (piece offset, normalised text, segment) of the segments kept so far.
    let mut seen: Vec<(Time, String, u32)> = Vec::new();
    let mut dropped: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let seg = tokens[i].segment;
        let n = tokens[i..].iter().take_while(|t| t.segment == seg).count();
        let part = &tokens[i..i + n];
        i += n;
        let mid = Time((part[0].start.0 + part[n - 1].end.0) / 2);
        let Some(piece) = window.piece_at(mid).map(|p| p.offset) else {
            continue;
        };
        let text: String = part.iter().map(|t| t.text.as_str()).collect();
        let words: Vec<String> = text
            .split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        let norm = words.join(" ");
        let first = (words.len() >= 3)
            .then(|| seen.iter().position(|(p, t, _)| *p == piece && *t == norm))
            .flatten();
        match first {
            Some(j) => {
                // The loop: everything after the first saying, and this.
                dropped.extend(seen.drain(j + 1..).map(|(_, _, s)| s));
                dropped.push(seg);
            }
            None => seen.push((piece, norm, seg)),
        }
    }
    if !dropped.is_empty() {
        tokens.retain(|t| !dropped.contains(&t.segment));
    }
}

/// Joins a window's tokens into words and maps them to call time.
pub fn window_words(window: &Window, tokens: &[Token]) -> Vec<TimedWord> {
    let mut words: Vec<(String, Time, Time, f32, u32)> = Vec::new();
    for t in tokens {
        let text = t.text.as_str();
        if text.trim().is_empty() {
            continue;
        }
        // Punctuation ends the word before it, even when Whisper puts a
        // space in front of it or times it after a joint.
        let punctuation = text.trim().chars().all(|c| c.is_ascii_punctuation());
        if punctuation {
            if let Some(w) = words.last_mut() {
                w.0.push_str(text.trim());
            }
            continue;
        }
        let starts_word = text.starts_with(' ') || words.is_empty();
        // A token does not continue a word across the silence between two
        // packed pieces: the pieces are different moments of the call.
        let same_piece = words.last().is_some_and(|w| {
            window.piece_at(w.2.max(w.1)).map(|p| p.offset)
                == window.piece_at(t.start).map(|p| p.offset)
        });
        if starts_word || !same_piece {
            words.push((text.trim_start().to_string(), t.start, t.end, t.p, 1));
        } else if let Some(w) = words.last_mut() {
            w.0.push_str(text);
            w.2 = w.2.max(t.end);
            w.3 += t.p;
            w.4 += 1;
        }
    }
    let mapped: Vec<(usize, TimedWord)> = words
        .into_iter()
        .filter_map(|(text, s, e, p, n)| {
            // A word belongs to one piece: the one its window span overlaps
            // most (Whisper may stretch a word over the silence between two
            // pieces); both ends are mapped inside that piece.
            let span = Span::new(s, e.max(s));
            let (index, piece) = window.pieces.iter().enumerate().max_by_key(|(_, p)| {
                (
                    p.in_window().overlap(&span),
                    std::cmp::Reverse(distance(p.in_window(), s)),
                )
            })?;
            let w = piece.in_window();
            let clamp = |t: Time| piece.call.start + (t.max(w.start).min(w.end) - w.start);
            Some((
                index,
                TimedWord {
                    text,
                    span: Span::new(clamp(span.start), clamp(span.end)),
                    p: p / n as f32,
                },
            ))
        })
        .collect();
    drop_runaway_pieces(window, mapped)
}

/// Most words a piece of speech can hold: [`MAX_WORDS_PER_S`] per second
/// plus [`WORD_SLACK`].
const MAX_WORDS_PER_S: f64 = 6.0;
/// Words allowed above the rate limit (a short piece may hold a quick
/// "yes, yes, that's right").
const WORD_SLACK: f64 = 4.0;

/// Drops the words of any piece that holds more words than anyone can say
/// in it.
///
/// Why: Whisper sometimes runs away on a short or noisy piece, repeating a
/// word or phrase until the window's token budget is spent ("five five
/// five ..." 170 times over a one-second piece of an A-law call). Its
/// temperature fallback does not always catch this, and whisper.cpp keeps
/// the last attempt when every temperature fails. Such a piece is text that
/// was never spoken, and one of them can more than double a call's word
/// error rate; dropping it loses at most the few real words of that piece.
/// The limit, 6 words per second plus 4, is far above fast speech (about
/// 4 words per second).
fn drop_runaway_pieces(window: &Window, mapped: Vec<(usize, TimedWord)>) -> Vec<TimedWord> {
    let mut counts = vec![0usize; window.pieces.len()];
    for (i, _) in &mapped {
        counts[*i] += 1;
    }
    let runaway: Vec<bool> = window
        .pieces
        .iter()
        .zip(&counts)
        .map(|(p, &n)| n as f64 > MAX_WORDS_PER_S * p.call.duration().secs() + WORD_SLACK)
        .collect();
    mapped
        .into_iter()
        .filter(|(i, _)| !runaway[*i])
        .map(|(_, w)| w)
        .collect()
}

/// How far `t` is from `w` (zero inside).
fn distance(w: Span, t: Time) -> Time {
    if w.contains(t) {
        Time::ZERO
    } else if t < w.start {
        w.start - t
    } else {
        t - w.end
    }
}

/// An utterance: a stretch of one speaker's speech and its words.
#[derive(Clone, Debug, PartialEq)]
pub struct UtteranceWords {
    /// From the first to the last speech segment of the utterance.
    pub span: Span,
    /// Words whose middle falls in it, in time order.
    pub words: Vec<TimedWord>,
}

impl UtteranceWords {
    /// The words joined with single spaces.
    pub fn text(&self) -> String {
        self.words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Groups a speaker's words into utterances along their speech timeline.
/// Words outside every utterance (the recogniser placed them in a pause)
/// join the nearest one; utterances without words are dropped.
pub fn group_utterances(
    speech: &Timeline,
    mut words: Vec<TimedWord>,
    utterance_gap: Time,
) -> Vec<UtteranceWords> {
    words.sort_by_key(|w| (w.span.start, w.span.end));
    let utts = speech.fill_gaps(utterance_gap);
    let mut out: Vec<UtteranceWords> = utts
        .iter()
        .map(|&span| UtteranceWords {
            span,
            words: Vec::new(),
        })
        .collect();
    if out.is_empty() {
        // No speech timeline (never the case in the pipeline): one utterance
        // per run of words.
        if let (Some(first), Some(last)) = (words.first(), words.last()) {
            let span = Span::new(first.span.start, last.span.end);
            return vec![UtteranceWords { span, words }];
        }
        return Vec::new();
    }
    for w in words {
        let mid = Time((w.span.start.0 + w.span.end.0) / 2);
        let i = out.partition_point(|u| u.span.end <= mid);
        let idx = if i < out.len() && out[i].span.contains(mid) {
            i
        } else {
            // Between two utterances (or outside all): the nearer one.
            let before = i.checked_sub(1).map(|j| (mid - out[j].span.end, j));
            let after = (i < out.len()).then(|| (out[i].span.start - mid, i));
            match (before, after) {
                (Some(b), Some(a)) => {
                    if b.0 <= a.0 {
                        b.1
                    } else {
                        a.1
                    }
                }
                (Some(b), None) => b.1,
                (None, Some(a)) => a.1,
                (None, None) => continue,
            }
        };
        out[idx].words.push(w);
    }
    out.retain(|u| !u.words.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::pack::Packer;

    fn tok(text: &str, s: f64, e: f64) -> Token {
        Token {
            text: text.into(),
            start: Time::from_secs(s),
            end: Time::from_secs(e),
            p: 0.9,
            segment: 0,
        }
    }

    fn seg(text: &str, s: f64, e: f64, segment: u32) -> Token {
        Token {
            segment,
            ..tok(text, s, e)
        }
    }

    /// Regression (demo call): one piece decoded as its sentence, the
    /// previous piece's sentence, and its own sentence again.
    #[test]
    fn a_loop_over_sentences_within_a_piece_is_dropped() {
        let w = window();
        let mut tokens = vec![
            seg(" He might be made.", 0.2, 1.5, 0),
            seg(" He was not ill-disposed.", 2.6, 3.5, 1),
            seg(" He might be made.", 3.5, 4.0, 2),
            seg(" he was not ill-disposed", 4.0, 4.4, 3),
        ];
        drop_loops(&w, &mut tokens);
        let kept: Vec<u32> = tokens.iter().map(|t| t.segment).collect();
        assert_eq!(kept, [0, 1]);
        // The same sentence in two pieces is two sayings.
        let mut twice = vec![
            seg(" He might be made.", 0.2, 1.5, 0),
            seg(" He might be made.", 2.6, 3.5, 1),
        ];
        drop_loops(&w, &mut twice);
        assert_eq!(twice.len(), 2);
    }

    fn window() -> Window {
        let mut p = Packer::new(0, Time::from_secs(30.0), Time::from_secs(0.5));
        let mut out = Vec::new();
        p.push(Span::from_secs(10.0, 12.0), &vec![0.1; 32_000], &mut out);
        p.push(Span::from_secs(40.0, 42.0), &vec![0.1; 32_000], &mut out);
        p.finish(&mut out);
        out.remove(0)
    }

    #[test]
    fn tokens_join_into_words_in_call_time() {
        let w = window();
        let tokens = vec![
            tok(" Hello", 0.1, 0.4),
            tok(",", 0.4, 0.45),
            tok(" I", 0.5, 0.6),
            tok("'m", 0.6, 0.7),
            tok(" call", 0.8, 1.0),
            tok("ing", 1.0, 1.2),
            tok(" Yes", 2.6, 2.9),
            tok(" .", 2.9, 3.0),
        ];
        let words = window_words(&w, &tokens);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["Hello,", "I'm", "calling", "Yes."]);
        // Punctuation joins the word's text, not its time.
        assert_eq!(words[0].span, Span::from_secs(10.1, 10.4));
        assert_eq!(words[3].span, Span::from_secs(40.1, 40.4));
    }

    /// Regression: a one-second piece of an A-law call decoded to "five"
    /// 170 times and put the call's word error rate above 100%.
    #[test]
    fn a_piece_with_more_words_than_anyone_can_say_is_dropped() {
        let w = window();
        // Piece 1 (window 0–2 s) says 3 words; piece 2 (2.5–4.5 s, two
        // seconds: at most 16 words) runs away with 40.
        let mut tokens = vec![
            tok(" One", 0.1, 0.4),
            tok(" two", 0.5, 0.8),
            tok(" three", 0.9, 1.2),
        ];
        for i in 0..40 {
            let t = 2.6 + i as f64 * 0.04;
            tokens.push(tok(" five", t, t + 0.04));
        }
        let texts: Vec<String> = window_words(&w, &tokens)
            .into_iter()
            .map(|w| w.text)
            .collect();
        assert_eq!(texts, ["One", "two", "three"]);
        // Sixteen words in two seconds stay.
        let fast: Vec<Token> = (0..16)
            .map(|i| tok(" word", 2.6 + i as f64 * 0.1, 2.7 + i as f64 * 0.1))
            .collect();
        assert_eq!(window_words(&w, &fast).len(), 16);
    }

    #[test]
    fn punctuation_never_starts_a_word() {
        let w = window();
        // A comma timed after the joint between two pieces stays with the
        // word before it.
        let words = window_words(
            &w,
            &[
                tok(" away", 1.5, 1.9),
                tok(",", 2.55, 2.6),
                tok(" to", 2.6, 2.8),
            ],
        );
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["away,", "to"]);
        assert!(window_words(&w, &[tok(".", 0.1, 0.2)]).is_empty());
    }

    #[test]
    fn a_word_stretched_over_a_joint_stays_in_one_piece() {
        let w = window();
        // Starts 0.1 s before the end of the first piece, ends 1 s into the
        // second: most of it is in the second.
        let words = window_words(&w, &[tok(" thee", 1.9, 3.5)]);
        assert_eq!(words[0].span, Span::from_secs(40.0, 41.0));
    }

    #[test]
    fn a_token_never_glues_words_across_pieces() {
        let w = window();
        let words = window_words(&w, &[tok(" go", 1.8, 2.0), tok("od", 2.6, 2.7)]);
        assert_eq!(words.len(), 2);
    }

    #[test]
    fn words_group_into_utterances_along_speech() {
        let speech = Timeline::from_spans([
            Span::from_secs(1.0, 2.0),
            Span::from_secs(2.3, 3.0),
            Span::from_secs(6.0, 7.0),
        ]);
        let w = |t: &str, s: f64, e: f64| TimedWord {
            text: t.into(),
            span: Span::from_secs(s, e),
            p: 1.0,
        };
        let words = vec![
            w("b", 2.4, 2.6),
            w("a", 1.1, 1.5),
            w("c", 6.1, 6.5),
            w("stray", 4.0, 4.2),
        ];
        let u = group_utterances(&speech, words, Time::from_secs(0.5));
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].span, Span::from_secs(1.0, 3.0));
        assert_eq!(u[0].text(), "a b stray");
        assert_eq!(u[1].text(), "c");
    }
}
