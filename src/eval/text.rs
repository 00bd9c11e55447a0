//! Word and character error rates, with the normalisation stated.
//!
//! Normalisation (applied to reference and hypothesis alike): lower case;
//! digits spelled out as English words ("42" → "forty two", "1990" →
//! "nineteen ninety"; "3.5" → "three point five"); "%" → "percent", "&" →
//! "and"; apostrophes kept inside words ("don't"), every other punctuation
//! mark removed; whitespace collapsed. Bracketed non-speech tags such as
//! `[noise]` or `(laughter)` are dropped.
//!
//! WER = (substitutions + deletions + insertions) / reference words, from a
//! Levenshtein alignment of word sequences; CER is the same over the
//! characters of the normalised text, the single spaces between words
//! included (as jiwer counts them).

/// Normalises a transcript for scoring; returns its words.
pub fn normalize(text: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(text.len());
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '[' | '(' | '<' | '{' => depth += 1,
            ']' | ')' | '>' | '}' => depth = (depth - 1).max(0),
            _ if depth > 0 => {}
            '%' => cleaned.push_str(" percent "),
            '&' => cleaned.push_str(" and "),
            '\'' | '’' => cleaned.push('\''),
            c if c.is_alphanumeric() => cleaned.extend(c.to_lowercase()),
            '.' | ',' => cleaned.push(c),
            _ => cleaned.push(' '),
        }
    }
    let mut words = Vec::new();
    for token in cleaned.split_whitespace() {
        spell_token(token, &mut words);
    }
    words
}

fn spell_token(token: &str, out: &mut Vec<String>) {
    // Split into runs of digits (with inner '.' or ',') and letters.
    let chars: Vec<char> = token.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || ((chars[i] == '.' || chars[i] == ',')
                        && i + 1 < chars.len()
                        && chars[i + 1].is_ascii_digit()))
            {
                i += 1;
            }
            let raw: String = chars[start..i].iter().collect();
            let grouped = raw.contains(',');
            let num: String = raw.chars().filter(|&c| c != ',').collect();
            spell_number(&num, !grouped, out);
        } else if chars[i].is_alphanumeric() || chars[i] == '\'' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() && !chars[i].is_ascii_digit() || chars[i] == '\'')
            {
                i += 1;
            }
            let w: String = chars[start..i].iter().collect();
            let w = w.trim_matches('\'');
            if !w.is_empty() {
                out.push(w.to_string());
            }
        } else {
            i += 1;
        }
    }
}

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

fn spell_number(num: &str, year_like: bool, out: &mut Vec<String>) {
    if let Some((int, frac)) = num.split_once('.') {
        spell_number(int, false, out);
        out.push("point".into());
        for d in frac.chars().filter_map(|c| c.to_digit(10)) {
            out.push(ONES[d as usize].into());
        }
        return;
    }
    // Long digit strings (phone or account numbers) are read digit by digit.
    if num.len() > 9 || (num.len() > 1 && num.starts_with('0')) {
        for d in num.chars().filter_map(|c| c.to_digit(10)) {
            out.push(ONES[d as usize].into());
        }
        return;
    }
    let Ok(n) = num.parse::<u64>() else { return };
    // Years are read in pairs: 1990 → nineteen ninety ("1,250" is not a year).
    if year_like && (1100..2000).contains(&n) && n % 100 != 0 {
        below_hundred(n / 100, out);
        if n % 100 < 10 {
            out.push("oh".into());
        }
        below_hundred(n % 100, out);
        return;
    }
    cardinal(n, out);
}

fn below_hundred(n: u64, out: &mut Vec<String>) {
    if n < 20 {
        out.push(ONES[n as usize].into());
    } else {
        out.push(TENS[(n / 10) as usize].into());
        if !n.is_multiple_of(10) {
            out.push(ONES[(n % 10) as usize].into());
        }
    }
}

fn cardinal(n: u64, out: &mut Vec<String>) {
    if n < 100 {
        below_hundred(n, out);
        return;
    }
    for (unit, name) in [
        (1_000_000_000u64, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
        (100, "hundred"),
    ] {
        if n >= unit {
            cardinal(n / unit, out);
            out.push(name.into());
            if !n.is_multiple_of(unit) {
                cardinal(n % unit, out);
            }
            return;
        }
    }
}

/// Edit operations between two sequences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Edits {
    /// Substitutions.
    pub substitutions: usize,
    /// Deletions (reference items missing).
    pub deletions: usize,
    /// Insertions (extra hypothesis items).
    pub insertions: usize,
    /// Reference length.
    pub reference: usize,
}

impl Edits {
    /// Total errors.
    pub fn errors(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// Adds counts.
    pub fn add(&mut self, o: Edits) {
        self.substitutions += o.substitutions;
        self.deletions += o.deletions;
        self.insertions += o.insertions;
        self.reference += o.reference;
    }
}

/// Levenshtein alignment counts of `hyp` against `reference`.
pub fn align<T: PartialEq>(reference: &[T], hyp: &[T]) -> Edits {
    let (n, m) = (reference.len(), hyp.len());
    // dp over (cost, subs, dels, ins), minimising cost then preferring
    // substitutions (jiwer/sclite tie-breaking differs only in the split,
    // never in the total).
    let mut prev: Vec<(usize, usize, usize, usize)> = (0..=m).map(|j| (j, 0, 0, j)).collect();
    let mut cur = vec![(0, 0, 0, 0); m + 1];
    for i in 1..=n {
        cur[0] = (i, 0, i, 0);
        for j in 1..=m {
            let same = reference[i - 1] == hyp[j - 1];
            let diag = prev[j - 1];
            let sub = if same {
                diag
            } else {
                (diag.0 + 1, diag.1 + 1, diag.2, diag.3)
            };
            let del = (prev[j].0 + 1, prev[j].1, prev[j].2 + 1, prev[j].3);
            let ins = (
                cur[j - 1].0 + 1,
                cur[j - 1].1,
                cur[j - 1].2,
                cur[j - 1].3 + 1,
            );
            cur[j] = [sub, del, ins]
                .into_iter()
                .min_by_key(|c| c.0)
                .unwrap_or(sub);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let (_, s, d, ins) = prev[m];
    Edits {
        substitutions: s,
        deletions: d,
        insertions: ins,
        reference: n,
    }
}

/// Word edits between two transcripts after normalisation.
pub fn word_edits(reference: &str, hyp: &str) -> Edits {
    align(&normalize(reference), &normalize(hyp))
}

/// Character edits after normalisation (words joined by single spaces).
pub fn char_edits(reference: &str, hyp: &str) -> Edits {
    let chars = |t: &str| -> Vec<char> { normalize(t).join(" ").chars().collect() };
    align(&chars(reference), &chars(hyp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_is_stated_and_applied() {
        assert_eq!(
            normalize("Hello, World! It's 42%."),
            ["hello", "world", "it's", "forty", "two", "percent"]
        );
        assert_eq!(
            normalize("In 1990 I paid $3.50 [noise]"),
            [
                "in", "nineteen", "ninety", "i", "paid", "three", "point", "five", "zero"
            ]
        );
        assert_eq!(
            normalize("2005 and 100 and 1,250"),
            [
                "two", "thousand", "five", "and", "one", "hundred", "and", "one", "thousand",
                "two", "hundred", "fifty"
            ]
        );
        assert_eq!(
            normalize("call 0800123"),
            [
                "call", "zero", "eight", "zero", "zero", "one", "two", "three"
            ]
        );
        assert_eq!(normalize("Mr. Dashwood—well"), ["mr", "dashwood", "well"]);
    }

    #[test]
    fn wer_counts() {
        let e = word_edits("the cat sat on the mat", "the cat sat on mat");
        assert_eq!((e.deletions, e.errors(), e.reference), (1, 1, 6));
        let e = word_edits("a b c", "x a b c y");
        assert_eq!((e.insertions, e.errors()), (2, 2));
        let e = word_edits("a b c", "a x c");
        assert_eq!(e.substitutions, 1);
        assert_eq!(word_edits("", "").errors(), 0);
        assert_eq!(word_edits("one two", "").deletions, 2);
        let c = char_edits("abc", "abd");
        assert_eq!((c.substitutions, c.reference), (1, 3));
    }
}
