//! The vocabulary section of a ggml Whisper file, derived from a CTranslate2 model directory.
//!
//! whisper.cpp's converter writes the *byte* strings of the ordinary BPE tokens, taken from
//! `openai-whisper`'s `gpt2.tiktoken` (English-only models) or `multilingual.tiktoken`. Special
//! tokens (`<|startoftranscript|>`, languages, timestamps, ...) are not stored: whisper.cpp
//! synthesises names for every id between the stored count and `n_vocab`.
//!
//! We derive the same bytes from the CTranslate2 vocabulary (`vocabulary.txt`, one token per
//! line, or `vocabulary.json`, a JSON list, in newer CTranslate2 versions). Those tokens are in
//! GPT-2's byte-level BPE *text* form: every byte is mapped to a printable code point by
//! `bytes_to_unicode()` (space -> `Ġ`, newline -> `Ċ`, ...). Inverting that map yields exactly
//! the tiktoken bytes (checked by a test against both tiktoken files when they are available), so
//! no `openai-whisper` asset is needed at run time.
//!
//! Counts, chosen to reproduce the files whisper.cpp users already have:
//! * English-only (`n_vocab` 51864): ids 0..50256 (50,256 tokens) **plus** the literal
//!   `<|endoftext|>` (id 50256). The widely distributed `ggml-*.en.bin` files were converted from
//!   the Hugging Face `vocab.json`, which lists `<|endoftext|>`; with it a tiny.en file is the
//!   well-known 77,704,715 bytes. (whisper.cpp would otherwise name id 50256 `[_EOT_]`; decoding is
//!   unaffected either way.)
//! * Multilingual (`n_vocab` >= 51865): ids 0..50257 (50,257 tokens; id 50256 is the empty
//!   string in OpenAI's multilingual vocabulary), as `multilingual.tiktoken` has them.

use std::collections::HashMap;
use std::path::Path;

use super::ModelError;

/// Number of ordinary BPE tokens of the English-only (GPT-2) vocabulary.
pub const N_TEXT_TOKENS_EN: usize = 50_256;
/// Number of ordinary BPE tokens of the multilingual vocabulary.
pub const N_TEXT_TOKENS_MULTI: usize = 50_257;
/// The end-of-text token appended to English-only vocabularies (see module docs).
pub const ENDOFTEXT: &str = "<|endoftext|>";

/// GPT-2's `bytes_to_unicode()`: the printable code point standing for each byte value.
pub fn bytes_to_unicode() -> [char; 256] {
    let mut table = ['\0'; 256];
    let printable = |b: u32| {
        (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b)
    };
    let mut n = 0u32;
    for b in 0u32..256 {
        let cp = if printable(b) {
            b
        } else {
            n += 1;
            255 + n
        };
        // Every value is a valid scalar (< 0x200), so from_u32 cannot fail; fall back defensively.
        table[b as usize] = char::from_u32(cp).unwrap_or('\u{FFFD}');
    }
    table
}

/// Read the CTranslate2 vocabulary of `model_dir` (`vocabulary.json` or `vocabulary.txt`).
pub fn read_ct2_vocabulary(model_dir: &Path) -> Result<Vec<String>, ModelError> {
    let json = model_dir.join("vocabulary.json");
    if json.is_file() {
        let text =
            std::fs::read_to_string(&json).map_err(|e| ModelError::io(&json, "reading", e))?;
        return serde_json::from_str::<Vec<String>>(&text).map_err(|e| ModelError::Vocabulary {
            path: json.clone(),
            reason: format!("expected a JSON list of token strings: {e}"),
        });
    }
    let txt = model_dir.join("vocabulary.txt");
    let text = std::fs::read_to_string(&txt).map_err(|e| ModelError::io(&txt, "reading", e))?;
    // One token per line. Do not trim: an empty line is a real (empty) token in multilingual
    // vocabularies. Only the final newline terminates rather than separates.
    let body = text.strip_suffix('\n').unwrap_or(&text);
    Ok(body
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect())
}

/// The token byte strings to store in a ggml file for a model with `n_vocab` ids, derived from
/// the CTranslate2 token list `tokens` (`path` is named in errors).
pub fn ggml_vocabulary(
    tokens: &[String],
    n_vocab: usize,
    path: &Path,
) -> Result<Vec<Vec<u8>>, ModelError> {
    let multilingual = n_vocab >= 51_865;
    let n_text = if multilingual {
        N_TEXT_TOKENS_MULTI
    } else {
        N_TEXT_TOKENS_EN
    };
    let err = |reason: String| ModelError::Vocabulary {
        path: path.to_path_buf(),
        reason,
    };
    if tokens.len() < n_text + usize::from(!multilingual) {
        return Err(err(format!(
            "{} tokens, but a {} Whisper vocabulary has at least {}",
            tokens.len(),
            if multilingual {
                "multilingual"
            } else {
                "English-only"
            },
            n_text + 1
        )));
    }
    if tokens.len() != n_vocab {
        return Err(err(format!(
            "{} tokens, but the model's embedding has {n_vocab} rows",
            tokens.len()
        )));
    }
    // <|endoftext|> directly follows the ordinary tokens: id 50256 (English) or 50257 (multilingual).
    let eot_id = n_text;
    if tokens[eot_id] != ENDOFTEXT {
        return Err(err(format!(
            "token {eot_id} is '{}', expected '{ENDOFTEXT}'",
            tokens[eot_id]
        )));
    }
    let decoder: HashMap<char, u8> = bytes_to_unicode()
        .iter()
        .enumerate()
        .map(|(b, &c)| (c, b as u8))
        .collect();
    let mut out = Vec::with_capacity(n_text + 1);
    for (id, tok) in tokens[..n_text].iter().enumerate() {
        let bytes = tok
            .chars()
            .map(|c| decoder.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                err(format!(
                    "token {id} '{tok}' is not in GPT-2 byte-level BPE form"
                ))
            })?;
        out.push(bytes);
    }
    if !multilingual {
        out.push(ENDOFTEXT.as_bytes().to_vec());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_map_matches_gpt2() {
        let t = bytes_to_unicode();
        assert_eq!(t[b'!' as usize], '!');
        assert_eq!(t[b' ' as usize], 'Ġ');
        assert_eq!(t[b'\n' as usize], 'Ċ');
        assert_eq!(t[0], 'Ā');
        assert_eq!(t[0xAD], 'Ń'); // soft hyphen is the last non-printable: 256 + 67
        let mut seen: Vec<char> = t.to_vec();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 256, "map must be a bijection");
    }

    fn fake_vocab(n_vocab: usize, multilingual: bool) -> Vec<String> {
        let n_text = if multilingual {
            N_TEXT_TOKENS_MULTI
        } else {
            N_TEXT_TOKENS_EN
        };
        let mut v: Vec<String> = (0..n_text).map(|i| format!("t{i}")).collect();
        v[0] = "ĠhelloĊ".to_string();
        v.push(ENDOFTEXT.to_string());
        while v.len() < n_vocab {
            v.push(format!("<|x{}|>", v.len()));
        }
        v
    }

    #[test]
    fn english_appends_endoftext() {
        let v = ggml_vocabulary(
            &fake_vocab(51_864, false),
            51_864,
            Path::new("vocabulary.txt"),
        )
        .expect("ok");
        assert_eq!(v.len(), 50_257);
        assert_eq!(v[0], b" hello\n");
        assert_eq!(v[50_256], b"<|endoftext|>");
    }

    #[test]
    fn multilingual_keeps_50257() {
        let v = ggml_vocabulary(
            &fake_vocab(51_865, true),
            51_865,
            Path::new("vocabulary.txt"),
        )
        .expect("ok");
        assert_eq!(v.len(), 50_257);
    }

    #[test]
    fn rejects_non_bpe_token() {
        let mut toks = fake_vocab(51_864, false);
        toks[5] = "a b".to_string(); // a raw space never appears in byte-level BPE text
        let err =
            ggml_vocabulary(&toks, 51_864, Path::new("d/vocabulary.txt")).expect_err("must fail");
        assert!(
            err.to_string().contains("d/vocabulary.txt") && err.to_string().contains("token 5"),
            "{err}"
        );
    }

    /// Cross-check against openai-whisper's tiktoken files when they are
    /// given: `HEARKEN_TIKTOKEN_DIR` (the sdist's `whisper/assets`) and
    /// `HEARKEN_CT2_TINY_EN` / `HEARKEN_CT2_BASE` (CTranslate2 model dirs).
    #[test]
    fn matches_tiktoken_files_when_available() {
        let Ok(assets) = std::env::var("HEARKEN_TIKTOKEN_DIR") else {
            eprintln!("HEARKEN_TIKTOKEN_DIR not set: tiktoken cross-check skipped");
            return;
        };
        let assets = Path::new(&assets);
        let cases = [
            (
                std::env::var("HEARKEN_CT2_TINY_EN").unwrap_or_default(),
                "gpt2.tiktoken",
            ),
            (
                std::env::var("HEARKEN_CT2_BASE").unwrap_or_default(),
                "multilingual.tiktoken",
            ),
        ];
        for (dir, tik) in cases {
            let dir = dir.as_str();
            let (Ok(toks), Ok(tiktoken)) = (
                read_ct2_vocabulary(Path::new(dir)),
                std::fs::read_to_string(assets.join(tik)),
            ) else {
                eprintln!("skipping {dir}: files not present");
                continue;
            };
            let ours = ggml_vocabulary(&toks, toks.len(), Path::new(dir)).expect("vocab");
            let theirs: Vec<Vec<u8>> = tiktoken
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| b64(l.split(' ').next().unwrap_or("")))
                .collect();
            assert_eq!(&ours[..theirs.len()], &theirs[..], "{dir} vs {tik}");
        }
    }

    /// Minimal standard base64 decoder (tests only).
    fn b64(s: &str) -> Vec<u8> {
        let val = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
        let mut out = Vec::new();
        for chunk in clean.chunks(4) {
            let mut acc = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                acc |= (val(c) as u32) << (18 - 6 * i);
            }
            let n = chunk.len() * 6 / 8;
            for i in 0..n {
                out.push((acc >> (16 - 8 * i)) as u8);
            }
        }
        out
    }
}
