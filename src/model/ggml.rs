//! whisper.cpp's legacy ggml model format: writer, q8_0 quantiser and validator.
//!
//! Layout (all integers little-endian `i32`, as whisper.cpp's `convert-pt-to-ggml.py` writes):
//! ```text
//! magic 0x67676d6c ("ggml")
//! hparams: n_vocab n_audio_ctx n_audio_state n_audio_head n_audio_layer
//!          n_text_ctx n_text_state n_text_head n_text_layer n_mels ftype
//! mel filters: n_mel n_fft, then n_mel*n_fft f32
//! vocabulary: count, then per token: len, bytes
//! tensors until EOF: n_dims name_len ttype, ne[0..n_dims] (innermost first), name, data
//! ```
//! `ftype` is the file-level type (`ggml_ftype`), `ttype` each tensor's `ggml_type`. Quantised
//! files store `ftype + 1000 * GGML_QNT_VERSION` (currently 2, so q8_0 = 2007).
//!
//! whisper.cpp's loader trusts the file: a bad `ftype` hits `GGML_ASSERT` (process abort), more
//! than four dimensions overflow a stack array, huge lengths throw `std::bad_alloc` through the C
//! API, and a short last tensor is silently loaded with garbage. [`inspect`] therefore checks every
//! field, walks every tensor header and checks every size against the file length before a file
//! is handed to whisper.cpp.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::Serialize;

use super::ModelError;
use super::f16::f32_to_f16;

/// `GGML_FILE_MAGIC`, "ggml" read as a little-endian u32.
pub const GGML_MAGIC: u32 = 0x6767_6d6c;
/// `GGML_QNT_VERSION`: bumped by ggml on quantisation format changes (2 since May 2023).
pub const GGML_QNT_VERSION: i32 = 2;
/// `GGML_QNT_VERSION_FACTOR`.
pub const GGML_QNT_VERSION_FACTOR: i32 = 1000;
/// Elements per q8_0 block (`QK8_0`).
pub const QK8_0: usize = 32;
/// Bytes per q8_0 block: an f16 scale and 32 signed bytes.
pub const Q8_0_BLOCK_BYTES: usize = 2 + QK8_0;

/// A `ggml_type` id with its block geometry, as listed in ggml's `type_traits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgmlType {
    /// Numeric id stored in the file.
    pub id: i32,
    /// ggml's name for the type.
    pub name: &'static str,
    /// Elements per block.
    pub block: usize,
    /// Bytes per block.
    pub block_bytes: usize,
}

/// Every tensor type ggml 0.9 (whisper.cpp 1.8) can store, with sizes from `ggml-common.h`.
const TYPES: &[GgmlType] = &[
    GgmlType {
        id: 0,
        name: "f32",
        block: 1,
        block_bytes: 4,
    },
    GgmlType {
        id: 1,
        name: "f16",
        block: 1,
        block_bytes: 2,
    },
    GgmlType {
        id: 2,
        name: "q4_0",
        block: 32,
        block_bytes: 18,
    },
    GgmlType {
        id: 3,
        name: "q4_1",
        block: 32,
        block_bytes: 20,
    },
    GgmlType {
        id: 6,
        name: "q5_0",
        block: 32,
        block_bytes: 22,
    },
    GgmlType {
        id: 7,
        name: "q5_1",
        block: 32,
        block_bytes: 24,
    },
    GgmlType {
        id: 8,
        name: "q8_0",
        block: 32,
        block_bytes: 34,
    },
    GgmlType {
        id: 9,
        name: "q8_1",
        block: 32,
        block_bytes: 36,
    },
    GgmlType {
        id: 10,
        name: "q2_K",
        block: 256,
        block_bytes: 84,
    },
    GgmlType {
        id: 11,
        name: "q3_K",
        block: 256,
        block_bytes: 110,
    },
    GgmlType {
        id: 12,
        name: "q4_K",
        block: 256,
        block_bytes: 144,
    },
    GgmlType {
        id: 13,
        name: "q5_K",
        block: 256,
        block_bytes: 176,
    },
    GgmlType {
        id: 14,
        name: "q6_K",
        block: 256,
        block_bytes: 210,
    },
    GgmlType {
        id: 15,
        name: "q8_K",
        block: 256,
        block_bytes: 292,
    },
    GgmlType {
        id: 16,
        name: "iq2_xxs",
        block: 256,
        block_bytes: 66,
    },
    GgmlType {
        id: 17,
        name: "iq2_xs",
        block: 256,
        block_bytes: 74,
    },
    GgmlType {
        id: 18,
        name: "iq3_xxs",
        block: 256,
        block_bytes: 98,
    },
    GgmlType {
        id: 19,
        name: "iq1_s",
        block: 256,
        block_bytes: 50,
    },
    GgmlType {
        id: 20,
        name: "iq4_nl",
        block: 32,
        block_bytes: 18,
    },
    GgmlType {
        id: 21,
        name: "iq3_s",
        block: 256,
        block_bytes: 110,
    },
    GgmlType {
        id: 22,
        name: "iq2_s",
        block: 256,
        block_bytes: 82,
    },
    GgmlType {
        id: 23,
        name: "iq4_xs",
        block: 256,
        block_bytes: 136,
    },
    GgmlType {
        id: 24,
        name: "i8",
        block: 1,
        block_bytes: 1,
    },
    GgmlType {
        id: 25,
        name: "i16",
        block: 1,
        block_bytes: 2,
    },
    GgmlType {
        id: 26,
        name: "i32",
        block: 1,
        block_bytes: 4,
    },
    GgmlType {
        id: 27,
        name: "i64",
        block: 1,
        block_bytes: 8,
    },
    GgmlType {
        id: 28,
        name: "f64",
        block: 1,
        block_bytes: 8,
    },
    GgmlType {
        id: 29,
        name: "iq1_m",
        block: 256,
        block_bytes: 56,
    },
    GgmlType {
        id: 30,
        name: "bf16",
        block: 1,
        block_bytes: 2,
    },
    GgmlType {
        id: 34,
        name: "tq1_0",
        block: 256,
        block_bytes: 54,
    },
    GgmlType {
        id: 35,
        name: "tq2_0",
        block: 256,
        block_bytes: 66,
    },
    GgmlType {
        id: 39,
        name: "mxfp4",
        block: 32,
        block_bytes: 17,
    },
];

impl GgmlType {
    /// `GGML_TYPE_F32`.
    pub const F32: GgmlType = TYPES[0];
    /// `GGML_TYPE_F16`.
    pub const F16: GgmlType = TYPES[1];
    /// `GGML_TYPE_Q4_0`.
    pub const Q4_0: GgmlType = TYPES[2];
    /// `GGML_TYPE_Q8_0`.
    pub const Q8_0: GgmlType = TYPES[6];
    /// `GGML_TYPE_IQ4_NL`.
    pub const IQ4_NL: GgmlType = TYPES[18];

    /// Look a type up by its id.
    pub fn from_id(id: i32) -> Option<GgmlType> {
        TYPES.iter().copied().find(|t| t.id == id)
    }

    /// Bytes needed for `elements` values, or `None` if they do not fill whole blocks (or the
    /// size overflows).
    pub fn bytes_for(self, elements: u64) -> Option<u64> {
        let block = self.block as u64;
        if !elements.is_multiple_of(block) {
            return None;
        }
        (elements / block).checked_mul(self.block_bytes as u64)
    }
}

/// Name of a file-level `ggml_ftype` (without the quantisation-version part), and the tensor type
/// whisper.cpp uses for the big matrices of such a file (`ggml_ftype_to_ggml_type`). `None` for
/// values whisper.cpp cannot load: it would `GGML_ASSERT` and abort the process.
pub fn ftype_info(ftype: i32) -> Option<(&'static str, GgmlType)> {
    let (name, ty) = match ftype {
        0 => ("f32", 0),
        1 => ("f16", 1),
        2 => ("q4_0", 2),
        3 => ("q4_1", 3),
        7 => ("q8_0", 8),
        8 => ("q5_0", 6),
        9 => ("q5_1", 7),
        10 => ("q2_k", 10),
        11 => ("q3_k", 11),
        12 => ("q4_k", 12),
        13 => ("q5_k", 13),
        14 => ("q6_k", 14),
        15 => ("iq2_xxs", 16),
        16 => ("iq2_xs", 17),
        17 => ("iq3_xxs", 18),
        18 => ("iq1_s", 19),
        19 => ("iq4_nl", 20),
        20 => ("iq3_s", 21),
        21 => ("iq2_s", 22),
        22 => ("iq4_xs", 23),
        23 => ("iq1_m", 29),
        24 => ("bf16", 30),
        25 => ("mxfp4", 39),
        _ => return None,
    };
    GgmlType::from_id(ty).map(|t| (name, t))
}

/// Whisper hyper-parameters as stored in a ggml file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hparams {
    /// Vocabulary size: 51864 English-only, 51865 multilingual, 51866 large-v3.
    pub n_vocab: i32,
    /// Encoder positions (1500 = 30 s).
    pub n_audio_ctx: i32,
    /// Encoder width.
    pub n_audio_state: i32,
    /// Encoder attention heads.
    pub n_audio_head: i32,
    /// Encoder blocks.
    pub n_audio_layer: i32,
    /// Decoder positions (448).
    pub n_text_ctx: i32,
    /// Decoder width (equals the encoder width in every Whisper model).
    pub n_text_state: i32,
    /// Decoder attention heads.
    pub n_text_head: i32,
    /// Decoder blocks.
    pub n_text_layer: i32,
    /// Mel bands (80, or 128 for large-v3).
    pub n_mels: i32,
    /// Raw `ftype` field, including `1000 * qnt_version` for quantised files.
    pub ftype: i32,
}

impl Hparams {
    fn fields(&self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    /// English-only or multilingual, by whisper.cpp's rule (`n_vocab >= 51865`).
    pub fn multilingual(&self) -> bool {
        self.n_vocab >= 51_865
    }

    /// Human-readable model kind: `tiny.en`, `base`, `large-v3`, `large-v3-turbo`, `distil-...`.
    pub fn kind(&self) -> String {
        let mut name = match self.n_audio_layer {
            4 => "tiny".to_string(),
            6 => "base".to_string(),
            12 => "small".to_string(),
            24 => "medium".to_string(),
            32 if self.n_vocab == 51_866 && self.n_text_layer == 4 => "large-v3-turbo".to_string(),
            32 if self.n_vocab == 51_866 => "large-v3".to_string(),
            32 => "large".to_string(),
            n => format!("custom-{n}x{}", self.n_audio_state),
        };
        let standard_decoder = self.n_text_layer == self.n_audio_layer || name == "large-v3-turbo";
        if !standard_decoder {
            name = if self.n_text_layer == 2 {
                format!("distil-{name}")
            } else {
                format!("{name}-dec{}", self.n_text_layer)
            };
        }
        if !self.multilingual() {
            name.push_str(".en");
        }
        name
    }
}

/// Which tensor type a whisper.cpp tensor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Big matrices: the file's `wtype` (f16, q8_0, ...).
    Weight,
    /// Convolution kernels: f32 in f32 files, otherwise f16 (whisper.cpp's `vtype`; ggml's
    /// im2col convolution needs f16/f32 kernels, so they are never quantised).
    Conv,
    /// Biases, layer norms, conv biases and positional embeddings: always f32. The converter
    /// keeps positional embeddings and conv biases in f32 even though they are 2-D because
    /// whisper.cpp adds them with f32 ops.
    F32,
}

/// One tensor whisper.cpp expects: its name, shape (ggml order: innermost first) and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// OpenAI state-dict name, e.g. `encoder.blocks.0.attn.query.weight`.
    pub name: String,
    /// ggml dimensions, innermost (contiguous) first; a numpy shape reversed.
    pub ne: Vec<usize>,
    /// Storage type class.
    pub role: Role,
}

impl TensorSpec {
    /// Element count.
    pub fn elements(&self) -> usize {
        self.ne.iter().product()
    }

    /// The concrete type for a file whose big matrices use `wtype`.
    pub fn ggml_type(&self, wtype: GgmlType) -> GgmlType {
        match self.role {
            Role::Weight => wtype,
            Role::Conv if wtype == GgmlType::F32 => GgmlType::F32,
            Role::Conv => GgmlType::F16,
            Role::F32 => GgmlType::F32,
        }
    }
}

/// The tensors a Whisper model with these hyper-parameters consists of, with the shapes and types
/// `whisper_model_load` (whisper.cpp 1.8) allocates for them.
///
/// The order is that of OpenAI's checkpoint `model_state_dict`, which whisper.cpp's converter
/// walks: decoder positional embedding, encoder positional embedding, token embedding, decoder
/// blocks (each `mlp_ln, mlp, attn_ln, attn, cross_attn_ln, cross_attn`), `decoder.ln`, encoder
/// convolutions, encoder blocks, `encoder.ln_post`. The loader accepts any order; we keep this
/// one because, with it, a converted tiny.en is byte-identical to the distributed
/// `ggml-tiny.en.bin` (sha1 c78c86eb...), which proves the whole pipeline.
pub fn whisper_tensors(h: &Hparams) -> Vec<TensorSpec> {
    let a = h.n_audio_state.max(0) as usize;
    let t = h.n_text_state.max(0) as usize;
    let mut v = Vec::new();
    let mut push = |name: String, ne: &[usize], role: Role| {
        v.push(TensorSpec {
            name,
            ne: ne.to_vec(),
            role,
        })
    };

    fn block(push: &mut dyn FnMut(String, &[usize], Role), p: &str, n: usize, cross: bool) {
        push(format!("{p}.mlp_ln.weight"), &[n], Role::F32);
        push(format!("{p}.mlp_ln.bias"), &[n], Role::F32);
        push(format!("{p}.mlp.0.weight"), &[n, 4 * n], Role::Weight);
        push(format!("{p}.mlp.0.bias"), &[4 * n], Role::F32);
        push(format!("{p}.mlp.2.weight"), &[4 * n, n], Role::Weight);
        push(format!("{p}.mlp.2.bias"), &[n], Role::F32);
        let attns: &[&str] = if cross {
            &["attn", "cross_attn"]
        } else {
            &["attn"]
        };
        for at in attns {
            push(format!("{p}.{at}_ln.weight"), &[n], Role::F32);
            push(format!("{p}.{at}_ln.bias"), &[n], Role::F32);
            push(format!("{p}.{at}.query.weight"), &[n, n], Role::Weight);
            push(format!("{p}.{at}.query.bias"), &[n], Role::F32);
            // No key bias: Whisper's key projection has none (CTranslate2 stores zeros).
            push(format!("{p}.{at}.key.weight"), &[n, n], Role::Weight);
            push(format!("{p}.{at}.value.weight"), &[n, n], Role::Weight);
            push(format!("{p}.{at}.value.bias"), &[n], Role::F32);
            push(format!("{p}.{at}.out.weight"), &[n, n], Role::Weight);
            push(format!("{p}.{at}.out.bias"), &[n], Role::F32);
        }
    }

    let mels = h.n_mels.max(0) as usize;
    push(
        "decoder.positional_embedding".into(),
        &[t, h.n_text_ctx.max(0) as usize],
        Role::F32,
    );
    push(
        "encoder.positional_embedding".into(),
        &[a, h.n_audio_ctx.max(0) as usize],
        Role::F32,
    );
    push(
        "decoder.token_embedding.weight".into(),
        &[t, h.n_vocab.max(0) as usize],
        Role::Weight,
    );
    for i in 0..h.n_text_layer.max(0) {
        block(&mut push, &format!("decoder.blocks.{i}"), t, true);
    }
    push("decoder.ln.weight".into(), &[t], Role::F32);
    push("decoder.ln.bias".into(), &[t], Role::F32);
    push("encoder.conv1.weight".into(), &[3, mels, a], Role::Conv);
    push("encoder.conv1.bias".into(), &[1, a], Role::F32);
    push("encoder.conv2.weight".into(), &[3, a, a], Role::Conv);
    push("encoder.conv2.bias".into(), &[1, a], Role::F32);
    for i in 0..h.n_audio_layer.max(0) {
        block(&mut push, &format!("encoder.blocks.{i}"), a, false);
    }
    push("encoder.ln_post.weight".into(), &[a], Role::F32);
    push("encoder.ln_post.bias".into(), &[a], Role::F32);
    v
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Streams a ggml file to any writer.
pub struct GgmlWriter<W: Write> {
    w: W,
}

impl<W: Write> GgmlWriter<W> {
    /// Start a file: magic, hparams, mel filters (`n_mels x 201`, row-major) and vocabulary.
    pub fn new(mut w: W, h: &Hparams, mel: &[f32], vocab: &[Vec<u8>]) -> std::io::Result<Self> {
        w.write_all(&GGML_MAGIC.to_le_bytes())?;
        for f in h.fields() {
            w.write_all(&f.to_le_bytes())?;
        }
        let n_mel = h.n_mels.max(1) as usize;
        w.write_all(&(n_mel as i32).to_le_bytes())?;
        w.write_all(&((mel.len() / n_mel) as i32).to_le_bytes())?;
        let mut buf = Vec::with_capacity(mel.len() * 4);
        for &x in mel {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        w.write_all(&buf)?;
        w.write_all(&(vocab.len() as i32).to_le_bytes())?;
        for tok in vocab {
            w.write_all(&(tok.len() as i32).to_le_bytes())?;
            w.write_all(tok)?;
        }
        Ok(Self { w })
    }

    /// Append one tensor. `ne` is in ggml order (innermost first); `data` must already be encoded
    /// as `ty`.
    pub fn tensor(
        &mut self,
        name: &str,
        ne: &[usize],
        ty: GgmlType,
        data: &[u8],
    ) -> std::io::Result<()> {
        let mut head = Vec::with_capacity(12 + 4 * ne.len() + name.len());
        head.extend_from_slice(&(ne.len() as i32).to_le_bytes());
        head.extend_from_slice(&(name.len() as i32).to_le_bytes());
        head.extend_from_slice(&ty.id.to_le_bytes());
        for &d in ne {
            head.extend_from_slice(&(d as i32).to_le_bytes());
        }
        head.extend_from_slice(name.as_bytes());
        self.w.write_all(&head)?;
        self.w.write_all(data)
    }

    /// Finish and return the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Encode values as little-endian f16 (round-to-nearest-even, like numpy's `astype(float16)`).
pub fn encode_f16(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| f32_to_f16(v).to_le_bytes())
        .collect()
}

/// Encode values as little-endian f32.
pub fn encode_f32(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|&v| v.to_le_bytes()).collect()
}

/// Quantise to q8_0 exactly as ggml's `quantize_row_q8_0_ref` (what `ggml_quantize_chunk` runs
/// for `GGML_TYPE_Q8_0`): per block of 32, `d = max|x| / 127` stored as f16, `q = roundf(x * (1/d))`
/// (half away from zero). Note ggml multiplies by the f32 reciprocal rather than dividing; the two
/// differ in rare last-bit cases, so we do the same. `values.len()` must be a multiple of 32.
pub fn quantize_q8_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / QK8_0 * Q8_0_BLOCK_BYTES);
    for block in values.chunks_exact(QK8_0) {
        let amax = block.iter().fold(0f32, |m, &v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        for &v in block {
            out.push((v * id).round() as i8 as u8);
        }
    }
    out
}

/// Bytes per q4_0 block: an f16 scale and 32 4-bit values.
pub const Q4_0_BLOCK_BYTES: usize = 2 + QK8_0 / 2;

/// Quantise to q4_0 exactly as ggml's `quantize_row_q4_0_ref`: per block of 32, the value of
/// largest magnitude `m` sets `d = m / -8` (stored as f16), and each value is stored as
/// `min(15, trunc(x / d + 8.5))`, the first 16 in the low nibbles and the last 16 in the high
/// ones. `values.len()` must be a multiple of 32.
///
/// Why q4_0 at all: ggml's CPU backend repacks q4_0 matrices into 8×8 interleaved blocks with
/// AVX2/AVX-512 kernels (it has no such kernels for q8_0 on x86), which is what makes a 4-bit
/// model faster, not only smaller.
pub fn quantize_q4_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / QK8_0 * Q4_0_BLOCK_BYTES);
    for block in values.chunks_exact(QK8_0) {
        let d = largest_magnitude(block) / -8.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        push_nibbles(&mut out, block, |v| ((v * id + 8.5) as i8).min(15) as u8);
    }
    out
}

/// The value of largest magnitude in `block`, with its sign (the first one
/// on ties, as ggml scans).
fn largest_magnitude(block: &[f32]) -> f32 {
    let (mut amax, mut max) = (0f32, 0f32);
    for &v in block {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    max
}

/// Appends one 4-bit block's 16 bytes: `nibble` of the first 16 values in
/// the low halves, of the last 16 in the high halves (ggml's layout).
fn push_nibbles(out: &mut Vec<u8>, block: &[f32], nibble: impl Fn(f32) -> u8) {
    let half = QK8_0 / 2;
    for j in 0..half {
        out.push(nibble(block[j]) | (nibble(block[half + j]) << 4));
    }
}

/// The 16 levels of iq4_nl (ggml's `kvalues_iq4nl`): denser near zero, where most weights are.
const IQ4_NL_LEVELS: [i8; 16] = [
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
];

/// The level nearest `x` (ties to the lower one), by bisection.
fn nearest_iq4_level(x: f32) -> usize {
    let v = |i: usize| IQ4_NL_LEVELS[i] as f32;
    if x <= v(0) {
        return 0;
    }
    if x >= v(15) {
        return 15;
    }
    let (mut lo, mut hi) = (0, 15);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if x < v(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    if x - v(lo) < v(hi) - x { lo } else { hi }
}

/// Quantise to iq4_nl as ggml does without an importance matrix: per block of 32, each value
/// is stored as the index of one of 16 fixed non-uniform levels times an f16 scale, the scale
/// chosen by least squares (each value weighted by its square, so large weights are kept
/// best) among 15 candidates around `max / -127`. Same block size as q4_0 (18 bytes per 32),
/// same fast repacked CPU kernels, lower error: the levels follow the weights' bell-shaped
/// distribution instead of spacing 16 steps evenly.
pub fn quantize_iq4_nl(values: &[f32]) -> Vec<u8> {
    const TRIES: i32 = 7;
    let mut out = Vec::with_capacity(values.len() / QK8_0 * Q4_0_BLOCK_BYTES);
    for block in values.chunks_exact(QK8_0) {
        let max = largest_magnitude(block);
        let mut d = 0f32;
        if max.abs() >= 1e-15 {
            // Weighted least-squares scale for the levels chosen with inverse scale `id`.
            let fit = |id: f32| {
                let (mut sqx, mut sq2) = (0f32, 0f32);
                for &x in block {
                    let q = IQ4_NL_LEVELS[nearest_iq4_level(id * x)] as f32;
                    let w = x * x;
                    sqx += w * q * x;
                    sq2 += w * q * q;
                }
                (sqx, sq2)
            };
            let first = -max / IQ4_NL_LEVELS[0] as f32;
            let (sqx, sq2) = fit(1.0 / first);
            d = sqx / sq2;
            let mut best = d * sqx;
            for t in -TRIES..=TRIES {
                let (sqx, sq2) = fit((t as f32 + IQ4_NL_LEVELS[0] as f32) / max);
                if sq2 > 0.0 && sqx * sqx > best * sq2 {
                    d = sqx / sq2;
                    best = d * sqx;
                }
            }
        }
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        push_nibbles(&mut out, block, |x| nearest_iq4_level(id * x) as u8);
    }
    out
}

/// Inverse of [`quantize_iq4_nl`]: `x = d * level[q]`.
pub fn dequantize_iq4_nl(data: &[u8]) -> Vec<f32> {
    dequantize_4bit(data, |q| f32::from(IQ4_NL_LEVELS[usize::from(q)]))
}

/// Inverse of [`quantize_q4_0`] (`dequantize_row_q4_0`): `x = (q - 8) * d`.
pub fn dequantize_q4_0(data: &[u8]) -> Vec<f32> {
    dequantize_4bit(data, |q| f32::from(q) - 8.0)
}

/// Decodes 4-bit blocks (an f16 scale, then 16 bytes: the first 16 values in
/// the low nibbles, the last 16 in the high ones) with `level` mapping a
/// nibble to its value before scaling.
fn dequantize_4bit(data: &[u8], level: impl Fn(u8) -> f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len() / Q4_0_BLOCK_BYTES * QK8_0);
    for block in data.chunks_exact(Q4_0_BLOCK_BYTES) {
        let d = super::f16::f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
        let qs = &block[2..];
        out.extend(qs.iter().map(|&q| level(q & 0x0f) * d));
        out.extend(qs.iter().map(|&q| level(q >> 4) * d));
    }
    out
}

/// Inverse of [`quantize_q8_0`] (`dequantize_row_q8_0`): `x = q * d`.
pub fn dequantize_q8_0(data: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len() / Q8_0_BLOCK_BYTES * QK8_0);
    for block in data.chunks_exact(Q8_0_BLOCK_BYTES) {
        let d = super::f16::f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
        out.extend(block[2..].iter().map(|&q| q as i8 as f32 * d));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Inspection / validation

/// One tensor found in a ggml file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorInfo {
    /// Tensor name.
    pub name: String,
    /// ggml type name (`f16`, `q8_0`, ...).
    pub ggml_type: &'static str,
    /// Dimensions, innermost first.
    pub ne: Vec<u64>,
    /// Byte offset of the data in the file.
    pub offset: u64,
    /// Data size in bytes.
    pub nbytes: u64,
}

/// What [`inspect`] found in a valid whisper.cpp ggml model file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GgmlInfo {
    /// Model kind, e.g. `tiny.en`, `base`, `large-v3`, `large-v3-turbo`, `distil-large-v3`.
    pub kind: String,
    /// Whether the model is multilingual (`n_vocab >= 51865`).
    pub multilingual: bool,
    /// Weight type of the file (`f32`, `f16`, `q8_0`, `q5_0`, `q4_k`, ...).
    pub ftype: String,
    /// Quantisation version encoded in the ftype field (2 for current quantised files).
    pub qnt_version: i32,
    /// Vocabulary size (`n_vocab`).
    pub n_vocab: u32,
    /// Mel bands.
    pub n_mels: u32,
    /// All header hyper-parameters.
    pub hparams: Hparams,
    /// Number of token strings stored in the vocabulary section.
    pub vocab_stored: u32,
    /// Number of tensors.
    pub n_tensors: usize,
    /// How many tensors of each ggml type.
    pub tensor_types: BTreeMap<String, usize>,
    /// Total tensor data bytes.
    pub data_bytes: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// Every tensor, in file order.
    pub tensors: Vec<TensorInfo>,
}

/// Reader that tracks the byte offset and turns short reads into precise errors.
struct HeaderReader<'p> {
    r: BufReader<File>,
    pos: u64,
    len: u64,
    path: &'p Path,
}

impl HeaderReader<'_> {
    fn corrupt(&self, at: u64, reason: impl Into<String>) -> ModelError {
        ModelError::CorruptGgml {
            path: self.path.to_path_buf(),
            offset: at,
            reason: reason.into(),
        }
    }

    fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, ModelError> {
        if n > self.remaining() {
            return Err(self.corrupt(
                self.pos,
                format!(
                    "file ends while reading {what} ({n} bytes needed, {} left)",
                    self.remaining()
                ),
            ));
        }
        let mut buf = vec![0u8; n as usize];
        self.r
            .read_exact(&mut buf)
            .map_err(|e| ModelError::io(self.path, "reading", e))?;
        self.pos += n;
        Ok(buf)
    }

    fn i32(&mut self, what: &str) -> Result<i32, ModelError> {
        let b = self.bytes(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn skip(&mut self, n: u64) -> Result<(), ModelError> {
        let n_i64 = i64::try_from(n).map_err(|_| self.corrupt(self.pos, "size overflow"))?;
        self.r
            .seek_relative(n_i64)
            .map_err(|e| ModelError::io(self.path, "seeking in", e))?;
        self.pos += n;
        Ok(())
    }
}

/// Validate a ggml Whisper model file the way whisper.cpp 1.8 will read it, without loading the
/// tensor data (only headers are read; data is skipped with seeks, so this is fast even for
/// multi-gigabyte files).
///
/// Checks: magic; hyper-parameters (positive, `n_audio_state == n_text_state`, heads divide the
/// width, known `ftype` and current quantisation version); the mel filter block (`n_mels x 201`);
/// every vocabulary entry fits in the file; every tensor header (1–4 dimensions, a known ggml
/// type, a name whisper.cpp knows, the shape and type whisper.cpp allocates for it, no
/// duplicates); that each tensor's data lies inside the file; that all expected tensors are
/// present; and that nothing trails the last tensor.
pub fn inspect(path: &Path) -> Result<GgmlInfo, ModelError> {
    let file = File::open(path).map_err(|e| ModelError::io(path, "opening", e))?;
    let len = file
        .metadata()
        .map_err(|e| ModelError::io(path, "reading metadata of", e))?
        .len();
    let mut r = HeaderReader {
        r: BufReader::with_capacity(1 << 16, file),
        pos: 0,
        len,
        path,
    };
    let not_ggml = |reason: String| ModelError::NotGgml {
        path: path.to_path_buf(),
        reason,
    };
    let incompatible = |reason: String| ModelError::Incompatible {
        path: path.to_path_buf(),
        reason,
    };

    if len < 4 {
        return Err(not_ggml(format!("only {len} bytes long")));
    }
    let magic = r.bytes(4, "magic")?;
    if magic != GGML_MAGIC.to_le_bytes() {
        let what = match &magic[..] {
            b"GGUF" => {
                "a GGUF file; whisper.cpp 1.8 loads only legacy ggml (\"lmgg\") Whisper files"
                    .to_string()
            }
            [b'P', b'K', 3, 4] => {
                "a zip archive (a PyTorch checkpoint?), not a ggml file".to_string()
            }
            _ if magic[..] == 6u32.to_le_bytes() => {
                "a CTranslate2 model.bin; import it first".to_string()
            }
            _ => format!("bad magic {:02x?} (expected \"lmgg\")", magic),
        };
        return Err(not_ggml(what));
    }

    // --- hparams
    let mut f = [0i32; 11];
    let names = [
        "n_vocab",
        "n_audio_ctx",
        "n_audio_state",
        "n_audio_head",
        "n_audio_layer",
        "n_text_ctx",
        "n_text_state",
        "n_text_head",
        "n_text_layer",
        "n_mels",
        "ftype",
    ];
    for (slot, name) in f.iter_mut().zip(names) {
        *slot = r.i32(name)?;
    }
    let h = Hparams {
        n_vocab: f[0],
        n_audio_ctx: f[1],
        n_audio_state: f[2],
        n_audio_head: f[3],
        n_audio_layer: f[4],
        n_text_ctx: f[5],
        n_text_state: f[6],
        n_text_head: f[7],
        n_text_layer: f[8],
        n_mels: f[9],
        ftype: f[10],
    };
    let bad = |field: &str, v: i32, why: &str| incompatible(format!("hparam {field} = {v} {why}"));
    // Whisper vocabularies are GPT-2's 50,257 tokens plus special tokens; whisper.cpp derives the
    // special token ids from n_vocab and indexes its language table with them, so other sizes are
    // not Whisper models it can run.
    if !(51_864..=51_866).contains(&h.n_vocab) {
        return Err(bad(
            "n_vocab",
            h.n_vocab,
            "is not a Whisper vocabulary (51864..=51866)",
        ));
    }
    for (name, v, max) in [
        ("n_audio_ctx", h.n_audio_ctx, 1 << 16),
        ("n_audio_state", h.n_audio_state, 1 << 14),
        ("n_audio_head", h.n_audio_head, 1 << 10),
        ("n_audio_layer", h.n_audio_layer, 256),
        ("n_text_ctx", h.n_text_ctx, 1 << 16),
        ("n_text_state", h.n_text_state, 1 << 14),
        ("n_text_head", h.n_text_head, 1 << 10),
        ("n_text_layer", h.n_text_layer, 256),
    ] {
        if v < 1 || v > max {
            return Err(bad(name, v, &format!("is out of range 1..={max}")));
        }
    }
    if h.n_mels != 80 && h.n_mels != 128 {
        return Err(bad("n_mels", h.n_mels, "is neither 80 nor 128"));
    }
    // whisper.cpp only assert()s this (compiled out in release builds) and then builds a broken
    // graph: encoder and decoder widths must agree.
    if h.n_audio_state != h.n_text_state {
        return Err(incompatible(format!(
            "n_audio_state {} != n_text_state {}",
            h.n_audio_state, h.n_text_state
        )));
    }
    if h.n_audio_state % h.n_audio_head != 0 || h.n_text_state % h.n_text_head != 0 {
        return Err(incompatible(
            "attention heads do not divide the model width".into(),
        ));
    }
    if h.ftype < 0 {
        return Err(bad("ftype", h.ftype, "is negative"));
    }
    let qnt_version = h.ftype / GGML_QNT_VERSION_FACTOR;
    let base_ftype = h.ftype % GGML_QNT_VERSION_FACTOR;
    // An unknown ftype makes ggml_ftype_to_ggml_type() GGML_ASSERT: the whole process aborts.
    let (ftype_name, wtype) = ftype_info(base_ftype).ok_or_else(|| {
        bad(
            "ftype",
            h.ftype,
            "is not a weight type whisper.cpp can load (it would abort)",
        )
    })?;
    let quantized = !matches!(base_ftype, 0 | 1 | 24);
    if quantized && qnt_version != GGML_QNT_VERSION {
        return Err(incompatible(format!(
            "{ftype_name} data uses ggml quantisation format version {qnt_version}; whisper.cpp 1.8 reads \
             version {GGML_QNT_VERSION} (block layouts changed in 2023) — re-quantise from an f16 file"
        )));
    }

    // --- mel filters
    let at = r.pos;
    let n_mel = r.i32("mel filter rows")?;
    let n_fft = r.i32("mel filter columns")?;
    if n_mel != h.n_mels || n_fft != 201 {
        return Err(r.corrupt(
            at,
            format!(
                "mel filter block is {n_mel}x{n_fft}, expected {}x201",
                h.n_mels
            ),
        ));
    }
    r.skip_checked(n_mel as u64 * n_fft as u64 * 4, "mel filter data")?;

    // --- vocabulary
    let at = r.pos;
    let n_tokens = r.i32("vocabulary size")?;
    if n_tokens < 0 || n_tokens > h.n_vocab {
        return Err(r.corrupt(
            at,
            format!("vocabulary count {n_tokens} outside 0..={}", h.n_vocab),
        ));
    }
    for i in 0..n_tokens {
        let at = r.pos;
        let n = r.i32("token length")?;
        // whisper.cpp resizes a buffer to this length: a garbage value means bad_alloc.
        if n < 0 || n as u64 > r.remaining() || n > 1024 {
            return Err(r.corrupt(at, format!("token {i} has implausible length {n}")));
        }
        r.skip(n as u64)?;
    }

    // --- tensors
    let expected = whisper_tensors(&h);
    let by_name: HashMap<&str, &TensorSpec> =
        expected.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut tensors = Vec::with_capacity(expected.len());
    let mut tensor_types: BTreeMap<String, usize> = BTreeMap::new();
    let mut data_bytes = 0u64;
    while r.remaining() > 0 {
        let at = r.pos;
        if r.remaining() < 12 {
            return Err(r.corrupt(
                at,
                format!("{} stray bytes after the last tensor", r.remaining()),
            ));
        }
        let n_dims = r.i32("tensor n_dims")?;
        let name_len = r.i32("tensor name length")?;
        let ttype = r.i32("tensor type")?;
        // whisper.cpp reads the dims into `int32_t ne[4]`: more than 4 smashes its stack.
        if !(1..=4).contains(&n_dims) {
            return Err(r.corrupt(
                at,
                format!("tensor header with {n_dims} dimensions (1..=4 allowed)"),
            ));
        }
        if !(1..=256).contains(&name_len) {
            return Err(r.corrupt(at, format!("tensor header with name length {name_len}")));
        }
        let mut ne = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            let d = r.i32("tensor dimension")?;
            if d < 1 {
                return Err(r.corrupt(at, format!("tensor header with dimension {d}")));
            }
            ne.push(d as u64);
        }
        let name_at = r.pos;
        let raw_name = r.bytes(name_len as u64, "tensor name")?;
        let name = String::from_utf8(raw_name)
            .map_err(|_| r.corrupt(name_at, "tensor name is not UTF-8".to_string()))?;
        let ty = GgmlType::from_id(ttype).ok_or_else(|| {
            r.corrupt(at, format!("tensor '{name}' has unknown ggml type {ttype}"))
        })?;
        let elements = ne
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .unwrap_or(u64::MAX);
        let nbytes = ty.bytes_for(elements).ok_or_else(|| {
            r.corrupt(
                at,
                format!(
                    "tensor '{name}': {ne:?} elements do not fill whole {} blocks",
                    ty.name
                ),
            )
        })?;

        let spec = by_name
            .get(name.as_str())
            .ok_or_else(|| incompatible(format!("unknown tensor '{name}' at byte {at}")))?;
        let want_ne: Vec<u64> = spec.ne.iter().map(|&d| d as u64).collect();
        if ne != want_ne {
            return Err(incompatible(format!(
                "tensor '{name}' has shape {ne:?}, whisper.cpp expects {want_ne:?}"
            )));
        }
        let want_ty = spec.ggml_type(wtype);
        if ty != want_ty {
            return Err(incompatible(format!(
                "tensor '{name}' is {} but a {ftype_name} file needs {} there",
                ty.name, want_ty.name
            )));
        }
        if let Some(prev) = seen.insert(name.clone(), at) {
            return Err(incompatible(format!(
                "tensor '{name}' appears twice (bytes {prev} and {at})"
            )));
        }

        let data_at = r.pos;
        if nbytes > r.remaining() {
            return Err(ModelError::Truncated {
                path: path.to_path_buf(),
                tensor: name,
                offset: data_at,
                needed: nbytes,
                file_len: len,
            });
        }
        r.skip(nbytes)?;
        data_bytes += nbytes;
        *tensor_types.entry(ty.name.to_string()).or_default() += 1;
        tensors.push(TensorInfo {
            name,
            ggml_type: ty.name,
            ne,
            offset: data_at,
            nbytes,
        });
    }

    if tensors.len() != expected.len() {
        let missing: Vec<&str> = expected
            .iter()
            .map(|t| t.name.as_str())
            .filter(|n| !seen.contains_key(*n))
            .take(5)
            .collect();
        return Err(incompatible(format!(
            "{} of {} tensors present; missing e.g. {}",
            tensors.len(),
            expected.len(),
            missing.join(", ")
        )));
    }

    Ok(GgmlInfo {
        kind: h.kind(),
        multilingual: h.multilingual(),
        ftype: ftype_name.to_string(),
        qnt_version,
        n_vocab: h.n_vocab as u32,
        n_mels: h.n_mels as u32,
        hparams: h,
        vocab_stored: n_tokens as u32,
        n_tensors: tensors.len(),
        tensor_types,
        data_bytes,
        bytes: len,
        tensors,
    })
}

impl HeaderReader<'_> {
    fn skip_checked(&mut self, n: u64, what: &str) -> Result<(), ModelError> {
        if n > self.remaining() {
            return Err(self.corrupt(
                self.pos,
                format!(
                    "file ends inside {what} ({n} bytes needed, {} left)",
                    self.remaining()
                ),
            ));
        }
        self.skip(n)
    }
}

/// Read one tensor's data bytes, as located by [`inspect`].
pub fn read_tensor_data(path: &Path, t: &TensorInfo) -> Result<Vec<u8>, ModelError> {
    let mut f = File::open(path).map_err(|e| ModelError::io(path, "opening", e))?;
    f.seek(SeekFrom::Start(t.offset))
        .map_err(|e| ModelError::io(path, "seeking in", e))?;
    let mut buf = vec![0u8; t.nbytes as usize];
    f.read_exact(&mut buf)
        .map_err(|e| ModelError::io(path, "reading", e))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_0_round_trip_error_bound_and_layout() {
        let values: Vec<f32> = (0..64)
            .map(|i| ((i * 37 % 64) as f32 - 30.0) / 7.0)
            .collect();
        let q = quantize_q4_0(&values);
        assert_eq!(q.len(), 2 * Q4_0_BLOCK_BYTES);
        let back = dequantize_q4_0(&q);
        for (block, got) in values.chunks(32).zip(back.chunks(32)) {
            let m = block.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (a, b) in block.iter().zip(got) {
                // Steps of m/8; rounding to the nearest step, plus the f16 scale.
                assert!((a - b).abs() <= m / 16.0 + m * 1e-3, "{a} vs {b}");
            }
        }
        // The largest-magnitude value maps to nibble 0 exactly (x / d = -8).
        let mut v = [0.5f32; 32];
        v[20] = -4.0;
        let q = quantize_q4_0(&v);
        assert_eq!(
            super::super::f16::f16_to_f32(u16::from_le_bytes([q[0], q[1]])),
            0.5
        );
        assert_eq!(q[2 + 4] >> 4, 0);
        // 0.5 / 0.5 + 8.5 = 9.5 → 9.
        assert_eq!(q[2] & 0x0f, 9);
        assert!(quantize_q4_0(&[0.0; 32])[2..].iter().all(|&b| b == 0x88));
    }

    #[test]
    fn iq4_nl_beats_q4_0_on_bell_shaped_weights() {
        // A bell-shaped sample (sum of uniforms), like trained weights.
        let mut seed = 12345u32;
        let mut uniform = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        let values: Vec<f32> = (0..32 * 256)
            .map(|_| (0..4).map(|_| uniform()).sum::<f32>() * 0.05)
            .collect();
        let err = |back: Vec<f32>| -> f32 {
            values
                .iter()
                .zip(&back)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
                / values.len() as f32
        };
        let e4 = err(dequantize_q4_0(&quantize_q4_0(&values)));
        let enl = err(dequantize_iq4_nl(&quantize_iq4_nl(&values)));
        assert!(enl < 0.9 * e4, "iq4_nl {enl} vs q4_0 {e4}");
        assert_eq!(quantize_iq4_nl(&values).len(), 256 * Q4_0_BLOCK_BYTES);
        // Zeros stay zeros (scale 0).
        assert!(
            dequantize_iq4_nl(&quantize_iq4_nl(&[0.0; 32]))
                .iter()
                .all(|&v| v == 0.0)
        );
        assert_eq!(nearest_iq4_level(0.0), 8);
        assert_eq!(nearest_iq4_level(-200.0), 0);
        assert_eq!(nearest_iq4_level(7.0), 9);
    }

    #[test]
    fn q8_0_round_trip_error_bound() {
        let mut state = 0x9E37_79B9u32;
        let values: Vec<f32> = (0..32 * 64)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let u = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                u * if i % 96 < 32 { 1e-3 } else { 3.0 } // blocks with very different ranges
            })
            .collect();
        let q = quantize_q8_0(&values);
        assert_eq!(q.len(), values.len() / 32 * 34);
        let back = dequantize_q8_0(&q);
        for (blk, (x, y)) in values.chunks(32).zip(back.chunks(32)).enumerate() {
            let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
            // rounding to the grid costs at most d/2; storing d as f16 adds up to 127 * (half an f16
            // ulp of d), where the ulp is relative 2^-10 for normal d but a fixed 2^-24 for d below
            // 2^-14 (subnormal halves, reached by blocks with max|x| < ~0.002)
            let d = amax / 127.0;
            let bound = d * 0.5 + 127.0 * (d * 2f32.powi(-11)).max(2f32.powi(-25)) + 1e-12;
            for (a, b) in x.iter().zip(y) {
                assert!(
                    (a - b).abs() <= bound,
                    "block {blk}: {a} vs {b} (bound {bound})"
                );
            }
        }
    }

    #[test]
    fn q8_0_matches_ggml_reference_bytes() {
        // Block of 0, 1, ..., 31 scaled: amax 31 -> d = 31/127, q_j = roundf(j * 127/31).
        let values: Vec<f32> = (0..32).map(|j| j as f32).collect();
        let q = quantize_q8_0(&values);
        assert_eq!(u16::from_le_bytes([q[0], q[1]]), f32_to_f16(31.0 / 127.0));
        assert_eq!(q[2 + 31] as i8, 127);
        assert_eq!(q[2 + 1] as i8, 4); // 1 * 4.0967... -> 4
        assert_eq!(q[2 + 16] as i8, 66); // 65.548 -> 66
        // all-zero block: d = 0 and all q = 0
        let z = quantize_q8_0(&[0.0; 32]);
        assert!(z.iter().all(|&b| b == 0));
        // negative values round half away from zero like roundf
        let mut v = vec![0f32; 32];
        v[0] = -127.0;
        v[1] = -0.5;
        let q = quantize_q8_0(&v);
        assert_eq!(q[2] as i8, -127);
        assert_eq!(q[3] as i8, -1);
    }

    #[test]
    fn ftype_and_type_tables() {
        assert_eq!(
            ftype_info(7).map(|(n, t)| (n, t.name)),
            Some(("q8_0", "q8_0"))
        );
        assert_eq!(
            ftype_info(8).map(|(n, t)| (n, t.name)),
            Some(("q5_0", "q5_0"))
        );
        assert!(ftype_info(4).is_none(), "Q4_1_SOME_F16 aborts whisper.cpp");
        assert_eq!(GgmlType::Q8_0.bytes_for(64), Some(68));
        assert_eq!(
            GgmlType::from_id(12).and_then(|t| t.bytes_for(512)),
            Some(288)
        );
        assert_eq!(GgmlType::Q8_0.bytes_for(33), None);
    }

    #[test]
    fn kinds() {
        let mut h = Hparams {
            n_vocab: 51_864,
            n_audio_ctx: 1500,
            n_audio_state: 384,
            n_audio_head: 6,
            n_audio_layer: 4,
            n_text_ctx: 448,
            n_text_state: 384,
            n_text_head: 6,
            n_text_layer: 4,
            n_mels: 80,
            ftype: 1,
        };
        assert_eq!(h.kind(), "tiny.en");
        h.n_vocab = 51_865;
        h.n_audio_layer = 6;
        h.n_text_layer = 6;
        assert_eq!(h.kind(), "base");
        h.n_vocab = 51_866;
        h.n_audio_layer = 32;
        h.n_text_layer = 4;
        assert_eq!(h.kind(), "large-v3-turbo");
        h.n_text_layer = 2;
        assert_eq!(h.kind(), "distil-large-v3");
        assert_eq!(whisper_tensors(&h).len(), 5 + 15 * 32 + 2 + 2 + 24 * 2 + 2);
    }
}
