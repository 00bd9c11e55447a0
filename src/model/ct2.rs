//! Reader for CTranslate2 `model.bin` files (binary versions 4–6) holding a `WhisperSpec`.
//!
//! Layout (little-endian): `u32 version`; for version >= 2 a spec name and `u32 revision`;
//! `u32 n_variables`; per variable `string name`, `u8 rank`, `rank x u32` shape, `u8 dtype`,
//! `u32 nbytes`, data; then (version >= 3) `u32 n_aliases` and `(alias, target)` string pairs.
//! A string is `u16 length` (counting a trailing NUL) followed by the bytes.
//!
//! The file is read whole (Whisper models up to `base`/`small` are 75–500 MB; `large` is ~3 GB in
//! f16, which still fits comfortably in memory on the machines this targets). Variables keep byte
//! ranges into that buffer, so nothing is copied until a tensor is converted.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::ModelError;
use super::f16::{bf16_to_f32, f16_to_f32};

/// Element type of a CTranslate2 variable (`ctranslate2::DataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// 32-bit IEEE float.
    F32,
    /// Signed 8-bit integer (int8 quantised weights, or boolean flags).
    I8,
    /// Signed 16-bit integer (int16 quantised weights, or small scalars such as `num_heads`).
    I16,
    /// Signed 32-bit integer.
    I32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
}

impl DType {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::BF16,
            _ => return None,
        })
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::BF16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One named variable of a CTranslate2 model.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Slash-separated name, e.g. `encoder/layer_0/self_attention/linear_0/weight`.
    pub name: String,
    /// Shape, outermost dimension first (row-major, like numpy).
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Byte range of the data inside [`Ct2Model::data`].
    pub range: Range<usize>,
}

impl Variable {
    /// Number of elements (1 for a scalar).
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A parsed `model.bin`.
#[derive(Debug)]
pub struct Ct2Model {
    /// The file this was read from (for error messages).
    pub path: PathBuf,
    /// Binary format version (6 for current CTranslate2).
    pub version: u32,
    /// Model spec name, e.g. `WhisperSpec`.
    pub spec: String,
    /// Spec revision.
    pub revision: u32,
    /// All variables, in file order.
    pub variables: Vec<Variable>,
    /// `(alias, target)` pairs, e.g. `decoder/projection/weight -> decoder/embeddings/weight`.
    pub aliases: Vec<(String, String)>,
    /// The whole file.
    pub data: Vec<u8>,
}

/// Highest binary version this reader understands (CTranslate2 4.x writes 6).
const MAX_VERSION: u32 = 6;
/// From version 4 on, variables carry an explicit dtype id and a byte count.
const MIN_VERSION: u32 = 4;

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn corrupt(&self, reason: impl Into<String>) -> ModelError {
        ModelError::CorruptCt2 {
            path: self.path.to_path_buf(),
            offset: self.pos as u64,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ModelError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                self.corrupt(format!(
                    "file ends while reading {what} ({n} bytes needed, {} left)",
                    self.buf.len() - self.pos
                ))
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ModelError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, ModelError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, ModelError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self, what: &str) -> Result<String, ModelError> {
        let start = self.pos;
        let n = self.u16(what)? as usize;
        let bytes = self.take(n, what)?;
        // CTranslate2 writes the C string including its terminating NUL.
        let trimmed = match bytes.iter().position(|&b| b == 0) {
            Some(i) => &bytes[..i],
            None => bytes,
        };
        String::from_utf8(trimmed.to_vec()).map_err(|_| ModelError::CorruptCt2 {
            path: self.path.to_path_buf(),
            offset: start as u64,
            reason: format!("{what} is not UTF-8"),
        })
    }
}

impl Ct2Model {
    /// Read and parse a `model.bin`.
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let data = std::fs::read(path).map_err(|e| ModelError::io(path, "reading", e))?;
        Self::parse(path, data)
    }

    /// Parse `model.bin` contents already in memory (`path` is only used in messages).
    pub fn parse(path: &Path, data: Vec<u8>) -> Result<Self, ModelError> {
        let mut c = Cursor {
            buf: &data,
            pos: 0,
            path,
        };
        let version = c.u32("binary version")?;
        if !(MIN_VERSION..=MAX_VERSION).contains(&version) {
            return Err(ModelError::InvalidCt2 {
                path: path.to_path_buf(),
                reason: format!(
                    "CTranslate2 binary version {version} is not supported (expected {MIN_VERSION}..={MAX_VERSION}); \
                     is this really a CTranslate2 model.bin?"
                ),
            });
        }
        let spec = c.string("spec name")?;
        let revision = c.u32("spec revision")?;
        let n_vars = c.u32("variable count")? as usize;
        // Each variable needs at least 2+1+1+4 bytes of header: reject absurd counts before
        // allocating for them.
        if n_vars > data.len() / 8 {
            return Err(c.corrupt(format!("implausible variable count {n_vars}")));
        }
        let mut variables = Vec::with_capacity(n_vars);
        for _ in 0..n_vars {
            let name = c.string("variable name")?;
            let rank = c.u8("variable rank")? as usize;
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(c.u32("variable shape")? as usize);
            }
            let dtype_pos = c.pos;
            let dtype_id = c.u8("variable dtype")?;
            let dtype = DType::from_id(dtype_id).ok_or_else(|| ModelError::CorruptCt2 {
                path: path.to_path_buf(),
                offset: dtype_pos as u64,
                reason: format!("variable '{name}' has unknown dtype id {dtype_id}"),
            })?;
            let nbytes = c.u32("variable byte count")? as usize;
            let elements = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
            if elements.and_then(|e| e.checked_mul(dtype.size())) != Some(nbytes) {
                return Err(c.corrupt(format!(
                    "variable '{name}' has shape {shape:?} of {dtype:?} but {nbytes} data bytes"
                )));
            }
            let start = c.pos;
            c.take(nbytes, &format!("data of variable '{name}'"))?;
            variables.push(Variable {
                name,
                shape,
                dtype,
                range: start..start + nbytes,
            });
        }
        let mut aliases = Vec::new();
        if c.pos < data.len() {
            let n_alias = c.u32("alias count")? as usize;
            if n_alias > data.len() / 4 {
                return Err(c.corrupt(format!("implausible alias count {n_alias}")));
            }
            for _ in 0..n_alias {
                let alias = c.string("alias name")?;
                let target = c.string("alias target")?;
                aliases.push((alias, target));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            version,
            spec,
            revision,
            variables,
            aliases,
            data,
        })
    }

    /// Look a variable up by name (following aliases).
    pub fn get(&self, name: &str) -> Option<&Variable> {
        let target = self
            .aliases
            .iter()
            .find(|(a, _)| a == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or(name);
        self.variables.iter().find(|v| v.name == target)
    }

    /// Look a variable up, or fail naming the missing variable.
    pub fn require(&self, name: &str) -> Result<&Variable, ModelError> {
        self.get(name).ok_or_else(|| ModelError::InvalidCt2 {
            path: self.path.clone(),
            reason: format!("variable '{name}' is missing"),
        })
    }

    /// Raw bytes of a variable.
    pub fn bytes(&self, v: &Variable) -> &[u8] {
        &self.data[v.range.clone()]
    }

    /// Read an integer scalar (such as `encoder/num_heads`, stored as int16 in current files).
    pub fn scalar_i64(&self, name: &str) -> Result<Option<i64>, ModelError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let b = self.bytes(v);
        if v.elements() != 1 {
            return Err(ModelError::InvalidCt2 {
                path: self.path.clone(),
                reason: format!("'{name}' should be a scalar but has shape {:?}", v.shape),
            });
        }
        Ok(Some(match v.dtype {
            DType::I8 => b[0] as i8 as i64,
            DType::I16 => i16::from_le_bytes([b[0], b[1]]) as i64,
            DType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            DType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            DType::F16 => f16_to_f32(u16::from_le_bytes([b[0], b[1]])) as i64,
            DType::BF16 => bf16_to_f32(u16::from_le_bytes([b[0], b[1]])) as i64,
        }))
    }

    /// Number of `{prefix}/layer_{i}` blocks, checking they are numbered 0..n without gaps.
    pub fn layer_count(&self, prefix: &str) -> Result<usize, ModelError> {
        let head = format!("{prefix}/layer_");
        let ids: BTreeSet<usize> = self
            .variables
            .iter()
            .filter_map(|v| v.name.strip_prefix(&head))
            .filter_map(|rest| rest.split('/').next())
            .filter_map(|n| n.parse().ok())
            .collect();
        let n = ids.len();
        if ids.iter().copied().ne(0..n) {
            return Err(ModelError::InvalidCt2 {
                path: self.path.clone(),
                reason: format!("{prefix} layers are not numbered 0..{n}: {ids:?}"),
            });
        }
        Ok(n)
    }

    /// The values of a float variable as `TensorData` (borrowing f16/f32 data, dequantising
    /// int8/int16 weights that come with a `{name}_scale` variable).
    ///
    /// CTranslate2's int8 quantisation stores `q = round(w * scale)` per output row with
    /// `scale = 127 / max|w_row|`, so the weight is recovered as `q / scale`.
    pub fn tensor(&self, name: &str) -> Result<TensorData<'_>, ModelError> {
        let v = self.require(name)?;
        let b = self.bytes(v);
        match v.dtype {
            DType::F16 => Ok(TensorData::F16(b)),
            DType::F32 => Ok(TensorData::F32(b)),
            DType::BF16 => Ok(TensorData::Owned(
                b.chunks_exact(2)
                    .map(|c| bf16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                    .collect(),
            )),
            DType::I8 | DType::I16 => {
                let scale_name = format!("{name}_scale");
                let s = self
                    .get(&scale_name)
                    .ok_or_else(|| ModelError::InvalidCt2 {
                        path: self.path.clone(),
                        reason: format!(
                            "integer variable '{name}' has no '{scale_name}' to dequantise it"
                        ),
                    })?;
                let scales = self.tensor(&scale_name)?.to_f32();
                let rows = v.shape.first().copied().unwrap_or(1).max(1);
                let per_row = v.elements() / rows;
                if scales.len() != 1 && scales.len() != rows {
                    return Err(ModelError::InvalidCt2 {
                        path: self.path.clone(),
                        reason: format!(
                            "'{}' has {} values for {rows} rows of '{name}'",
                            s.name,
                            scales.len()
                        ),
                    });
                }
                let q: Vec<f32> = match v.dtype {
                    DType::I8 => b.iter().map(|&x| x as i8 as f32).collect(),
                    _ => b
                        .chunks_exact(2)
                        .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32)
                        .collect(),
                };
                let out = q
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        let s = if scales.len() == 1 {
                            scales[0]
                        } else {
                            scales[i / per_row.max(1)]
                        };
                        if s == 0.0 { 0.0 } else { x / s }
                    })
                    .collect();
                Ok(TensorData::Owned(out))
            }
            DType::I32 => Err(ModelError::InvalidCt2 {
                path: self.path.clone(),
                reason: format!("'{name}' is int32, expected floating-point weights"),
            }),
        }
    }
}

/// Values of one tensor, borrowed from the model file where possible.
#[derive(Debug, Clone)]
pub enum TensorData<'a> {
    /// Little-endian IEEE half floats, borrowed.
    F16(&'a [u8]),
    /// Little-endian f32, borrowed.
    F32(&'a [u8]),
    /// Converted values (from bf16 or dequantised integers).
    Owned(Vec<f32>),
}

impl TensorData<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Self::F16(b) => b.len() / 2,
            Self::F32(b) => b.len() / 4,
            Self::Owned(v) => v.len(),
        }
    }

    /// True if there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements `range` (used to cut fused q/k/v matrices into their row blocks).
    pub fn slice(&self, range: Range<usize>) -> TensorData<'_> {
        match self {
            Self::F16(b) => TensorData::F16(&b[range.start * 2..range.end * 2]),
            Self::F32(b) => TensorData::F32(&b[range.start * 4..range.end * 4]),
            Self::Owned(v) => TensorData::Owned(v[range].to_vec()),
        }
    }

    /// All values as f32 (exact for every source type).
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            Self::F16(b) => b
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            Self::F32(b) => b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Self::Owned(v) => v.clone(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a CTranslate2 model.bin in memory (version 6), for tests.
    pub(crate) struct Ct2Builder {
        vars: Vec<(String, Vec<usize>, u8, Vec<u8>)>,
        aliases: Vec<(String, String)>,
    }

    fn put_str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    impl Ct2Builder {
        pub(crate) fn new() -> Self {
            Self {
                vars: Vec::new(),
                aliases: Vec::new(),
            }
        }

        pub(crate) fn var(
            &mut self,
            name: &str,
            shape: &[usize],
            dtype: u8,
            data: Vec<u8>,
        ) -> &mut Self {
            self.vars
                .push((name.to_string(), shape.to_vec(), dtype, data));
            self
        }

        pub(crate) fn f16(&mut self, name: &str, shape: &[usize], values: &[f32]) -> &mut Self {
            let data = values
                .iter()
                .flat_map(|&v| super::super::f16::f32_to_f16(v).to_le_bytes())
                .collect();
            self.var(name, shape, 4, data)
        }

        pub(crate) fn alias(&mut self, a: &str, t: &str) -> &mut Self {
            self.aliases.push((a.to_string(), t.to_string()));
            self
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&6u32.to_le_bytes());
            put_str(&mut out, "WhisperSpec");
            out.extend_from_slice(&3u32.to_le_bytes());
            out.extend_from_slice(&(self.vars.len() as u32).to_le_bytes());
            for (name, shape, dtype, data) in &self.vars {
                put_str(&mut out, name);
                out.push(shape.len() as u8);
                for d in shape {
                    out.extend_from_slice(&(*d as u32).to_le_bytes());
                }
                out.push(*dtype);
                out.extend_from_slice(&(data.len() as u32).to_le_bytes());
                out.extend_from_slice(data);
            }
            out.extend_from_slice(&(self.aliases.len() as u32).to_le_bytes());
            for (a, t) in &self.aliases {
                put_str(&mut out, a);
                put_str(&mut out, t);
            }
            out
        }
    }

    #[test]
    fn parses_variables_scalars_and_aliases() {
        let mut b = Ct2Builder::new();
        b.f16("decoder/embeddings/weight", &[2, 2], &[1.0, -2.0, 0.5, 3.0])
            .var("encoder/num_heads", &[], 2, 6i16.to_le_bytes().to_vec())
            .var("encoder/layer_0/x", &[1], 0, 1f32.to_le_bytes().to_vec())
            .var("encoder/layer_1/x", &[1], 0, 1f32.to_le_bytes().to_vec())
            .alias("decoder/projection/weight", "decoder/embeddings/weight");
        let m = Ct2Model::parse(Path::new("model.bin"), b.build()).expect("parse");
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.variables.len(), 4);
        assert_eq!(m.scalar_i64("encoder/num_heads").expect("scalar"), Some(6));
        assert_eq!(m.layer_count("encoder").expect("layers"), 2);
        assert_eq!(m.layer_count("decoder").expect("layers"), 0);
        let t = m.tensor("decoder/projection/weight").expect("alias");
        assert_eq!(t.to_f32(), vec![1.0, -2.0, 0.5, 3.0]);
        assert_eq!(t.slice(2..4).to_f32(), vec![0.5, 3.0]);
    }

    #[test]
    fn dequantises_int8_with_row_scales() {
        let mut b = Ct2Builder::new();
        b.var("w", &[2, 2], 1, vec![127u8, (-64i8) as u8, 10, 20])
            .var(
                "w_scale",
                &[2],
                0,
                [127f32, 10f32]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            );
        let m = Ct2Model::parse(Path::new("model.bin"), b.build()).expect("parse");
        let v = m.tensor("w").expect("tensor").to_f32();
        assert_eq!(v, vec![1.0, -64.0 / 127.0, 1.0, 2.0]);
    }

    #[test]
    fn truncated_file_names_offset() {
        let mut b = Ct2Builder::new();
        b.f16("a", &[4], &[1.0; 4]);
        let mut bytes = b.build();
        bytes.truncate(bytes.len() - 8); // cut into the data and lose the alias count
        let err = Ct2Model::parse(Path::new("m/model.bin"), bytes).expect_err("must fail");
        let msg = err.to_string();
        assert!(
            msg.contains("m/model.bin") && msg.contains("data of variable 'a'"),
            "{msg}"
        );
    }

    #[test]
    fn rejects_non_ct2() {
        let err =
            Ct2Model::parse(Path::new("x.bin"), b"lmggabcdefgh".to_vec()).expect_err("must fail");
        assert!(err.to_string().contains("binary version"), "{err}");
    }
}
