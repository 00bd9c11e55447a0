//! End-to-end tests on a tiny synthetic CTranslate2 Whisper model.

use std::path::{Path, PathBuf};

use super::ct2::tests::Ct2Builder;
use super::f16::{f16_to_f32, f32_to_f16};
use super::ggml::{dequantize_q8_0, read_tensor_data};
use super::*;

const N: usize = 32; // width: one q8_0 block per row
const N_VOCAB: usize = 51_864; // English-only
const MELS: usize = 80;
const AUDIO_CTX: usize = 6;
const TEXT_CTX: usize = 5;

/// A scratch directory removed at the end of the test.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("ggml-import-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        Self(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic, f16-representable pseudo-random values.
fn values(seed: u32, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            f16_to_f32(f32_to_f16(
                ((s >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.2,
            ))
        })
        .collect()
}

fn write_model(dir: &Path) {
    let mut b = Ct2Builder::new();
    let mut seed = 0;
    let mut f = |b: &mut Ct2Builder, name: &str, shape: &[usize]| {
        seed += 1;
        b.f16(name, shape, &values(seed, shape.iter().product()));
    };
    b.var("encoder/num_heads", &[], 2, 1i16.to_le_bytes().to_vec());
    b.var("decoder/num_heads", &[], 2, 1i16.to_le_bytes().to_vec());
    b.var("decoder/scale_embeddings", &[], 1, vec![0]);
    f(&mut b, "encoder/conv1/weight", &[N, MELS, 3]);
    f(&mut b, "encoder/conv1/bias", &[N]);
    f(&mut b, "encoder/conv2/weight", &[N, N, 3]);
    f(&mut b, "encoder/conv2/bias", &[N]);
    f(
        &mut b,
        "encoder/position_encodings/encodings",
        &[AUDIO_CTX, N],
    );
    for side in ["encoder", "decoder"] {
        let p = format!("{side}/layer_0");
        f(
            &mut b,
            &format!("{p}/self_attention/linear_0/weight"),
            &[3 * N, N],
        );
        f(
            &mut b,
            &format!("{p}/self_attention/linear_0/bias"),
            &[3 * N],
        );
        f(
            &mut b,
            &format!("{p}/self_attention/linear_1/weight"),
            &[N, N],
        );
        f(&mut b, &format!("{p}/self_attention/linear_1/bias"), &[N]);
        f(
            &mut b,
            &format!("{p}/self_attention/layer_norm/gamma"),
            &[N],
        );
        f(&mut b, &format!("{p}/self_attention/layer_norm/beta"), &[N]);
        if side == "decoder" {
            f(&mut b, &format!("{p}/attention/linear_0/weight"), &[N, N]);
            f(&mut b, &format!("{p}/attention/linear_0/bias"), &[N]);
            f(
                &mut b,
                &format!("{p}/attention/linear_1/weight"),
                &[2 * N, N],
            );
            f(&mut b, &format!("{p}/attention/linear_1/bias"), &[2 * N]);
            f(&mut b, &format!("{p}/attention/linear_2/weight"), &[N, N]);
            f(&mut b, &format!("{p}/attention/linear_2/bias"), &[N]);
            f(&mut b, &format!("{p}/attention/layer_norm/gamma"), &[N]);
            f(&mut b, &format!("{p}/attention/layer_norm/beta"), &[N]);
        }
        f(&mut b, &format!("{p}/ffn/linear_0/weight"), &[4 * N, N]);
        f(&mut b, &format!("{p}/ffn/linear_0/bias"), &[4 * N]);
        f(&mut b, &format!("{p}/ffn/linear_1/weight"), &[N, 4 * N]);
        f(&mut b, &format!("{p}/ffn/linear_1/bias"), &[N]);
        f(&mut b, &format!("{p}/ffn/layer_norm/gamma"), &[N]);
        f(&mut b, &format!("{p}/ffn/layer_norm/beta"), &[N]);
        f(&mut b, &format!("{side}/layer_norm/gamma"), &[N]);
        f(&mut b, &format!("{side}/layer_norm/beta"), &[N]);
    }
    f(&mut b, "decoder/embeddings/weight", &[N_VOCAB, N]);
    f(
        &mut b,
        "decoder/position_encodings/encodings",
        &[TEXT_CTX, N],
    );
    b.alias("decoder/projection/weight", "decoder/embeddings/weight");
    std::fs::write(dir.join("model.bin"), b.build()).expect("write model.bin");

    // GPT-2 byte-level forms: "Ġ" is a space, "Ċ" a newline.
    let mut vocab: Vec<String> = (0..50_256).map(|i| format!("Ġt{i}")).collect();
    vocab[0] = "!".into();
    vocab[1] = "ĠhelloĊ".into();
    vocab.push("<|endoftext|>".into());
    while vocab.len() < N_VOCAB {
        vocab.push(format!("<|special{}|>", vocab.len()));
    }
    std::fs::write(dir.join("vocabulary.txt"), vocab.join("\n") + "\n").expect("write vocab");
}

fn tensor<'a>(info: &'a GgmlInfo, name: &str) -> &'a TensorInfo {
    info.tensors
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("tensor {name} missing"))
}

fn as_f16(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(2)
        .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
        .collect()
}

fn as_f32(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn synthetic_round_trip_f16_and_q8_0() {
    let s = Scratch::new("roundtrip");
    write_model(&s.0);
    let ct2 = ct2::Ct2Model::read(&s.0.join("model.bin")).expect("read ct2");
    let fused = ct2
        .tensor("encoder/layer_0/self_attention/linear_0/weight")
        .expect("qkv")
        .to_f32();
    let fused_bias = ct2
        .tensor("encoder/layer_0/self_attention/linear_0/bias")
        .expect("qkv")
        .to_f32();
    let kv = ct2
        .tensor("decoder/layer_0/attention/linear_1/weight")
        .expect("kv")
        .to_f32();
    let pos = ct2
        .tensor("encoder/position_encodings/encodings")
        .expect("pos")
        .to_f32();

    let out = s.0.join("out-f16.bin");
    let rep = import_ctranslate2(&s.0, &out, Quantization::F16).expect("import f16");
    assert_eq!(rep.bytes, std::fs::metadata(&out).expect("meta").len());
    assert_eq!(rep.sha256, sha256_file(&out).expect("hash"));
    assert_eq!(rep.kind, "custom-1x32.en");
    let info = inspect(&out).expect("inspect");
    assert_eq!(info.ftype, "f16");
    assert!(!info.multilingual);
    assert_eq!(info.vocab_stored, 50_257);
    assert_eq!(info.n_tensors, 11 + 15 + 24);
    assert_eq!(info.hparams.n_audio_ctx as usize, AUDIO_CTX);
    assert_eq!(info.hparams.n_text_head, 1);
    // No key biases.
    assert!(info.tensors.iter().all(|t| !t.name.ends_with("key.bias")));

    // Fused q/k/v split into row blocks.
    let nn = N * N;
    let q = as_f16(
        &read_tensor_data(&out, tensor(&info, "encoder.blocks.0.attn.query.weight")).expect("read"),
    );
    let k = as_f16(
        &read_tensor_data(&out, tensor(&info, "encoder.blocks.0.attn.key.weight")).expect("read"),
    );
    let v = as_f16(
        &read_tensor_data(&out, tensor(&info, "encoder.blocks.0.attn.value.weight")).expect("read"),
    );
    assert_eq!(
        (&q[..], &k[..], &v[..]),
        (&fused[..nn], &fused[nn..2 * nn], &fused[2 * nn..])
    );
    let vb = as_f32(
        &read_tensor_data(&out, tensor(&info, "encoder.blocks.0.attn.value.bias")).expect("read"),
    );
    assert_eq!(vb, &fused_bias[2 * N..]);
    let ck = as_f16(
        &read_tensor_data(
            &out,
            tensor(&info, "decoder.blocks.0.cross_attn.key.weight"),
        )
        .expect("read"),
    );
    let cv = as_f16(
        &read_tensor_data(
            &out,
            tensor(&info, "decoder.blocks.0.cross_attn.value.weight"),
        )
        .expect("read"),
    );
    assert_eq!((&ck[..], &cv[..]), (&kv[..nn], &kv[nn..]));

    // f32 rules: positional embeddings and [1, n] conv biases.
    let pe = tensor(&info, "encoder.positional_embedding");
    assert_eq!(
        (pe.ggml_type, pe.ne.clone()),
        ("f32", vec![N as u64, AUDIO_CTX as u64])
    );
    assert_eq!(as_f32(&read_tensor_data(&out, pe).expect("read")), pos);
    let cb = tensor(&info, "encoder.conv1.bias");
    assert_eq!((cb.ggml_type, cb.ne.clone()), ("f32", vec![1, N as u64]));
    assert_eq!(
        tensor(&info, "encoder.conv1.weight").ne,
        vec![3, MELS as u64, N as u64]
    );
    assert_eq!(tensor(&info, "decoder.ln.weight").ggml_type, "f32");

    // q8_0: 2-D weights quantised, conv kernels stay f16, the rest f32.
    let out8 = s.0.join("out-q8.bin");
    let rep8 = import_ctranslate2(&s.0, &out8, Quantization::Q8_0).expect("import q8");
    let info8 = inspect(&out8).expect("inspect q8");
    assert_eq!(
        (info8.ftype.as_str(), info8.qnt_version, info8.hparams.ftype),
        ("q8_0", 2, 2007)
    );
    assert!(rep8.bytes < rep.bytes);
    assert_eq!(tensor(&info8, "encoder.conv2.weight").ggml_type, "f16");
    assert_eq!(tensor(&info8, "encoder.conv2.bias").ggml_type, "f32");
    assert_eq!(
        tensor(&info8, "decoder.positional_embedding").ggml_type,
        "f32"
    );
    let te = tensor(&info8, "decoder.token_embedding.weight");
    assert_eq!(te.ggml_type, "q8_0");
    let k8 = dequantize_q8_0(
        &read_tensor_data(&out8, tensor(&info8, "encoder.blocks.0.attn.key.weight")).expect("read"),
    );
    for (row8, row) in k8.chunks(32).zip(k.chunks(32)) {
        let amax = row.iter().fold(0f32, |m, x| m.max(x.abs()));
        for (a, b) in row8.iter().zip(row) {
            assert!(
                (a - b).abs() <= amax / 127.0 * 0.5 + amax * 1e-3,
                "{a} vs {b}"
            );
        }
    }

    // Nothing left behind but the two outputs and the inputs.
    let mut names: Vec<String> = std::fs::read_dir(&s.0)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["model.bin", "out-f16.bin", "out-q8.bin", "vocabulary.txt"]
    );
}

#[test]
fn refuses_to_overwrite_input_and_reports_missing_files() {
    let s = Scratch::new("guard");
    write_model(&s.0);
    let before = std::fs::read(s.0.join("model.bin")).expect("read");
    let err = import_ctranslate2(&s.0, &s.0.join("model.bin"), Quantization::F16)
        .expect_err("must refuse");
    assert!(matches!(err, ModelError::OutputIsInput { .. }), "{err}");
    assert_eq!(std::fs::read(s.0.join("model.bin")).expect("read"), before);
    let err = import_ctranslate2(&s.0, &s.0.join("vocabulary.txt"), Quantization::Q8_0)
        .expect_err("must refuse");
    assert!(matches!(err, ModelError::OutputIsInput { .. }), "{err}");

    std::fs::remove_file(s.0.join("vocabulary.txt")).expect("rm");
    let err =
        import_ctranslate2(&s.0, &s.0.join("x.bin"), Quantization::F16).expect_err("no vocab");
    assert!(err.to_string().contains("vocabulary.txt"), "{err}");
    assert!(!s.0.join("x.bin").exists());
}

/// Write a valid file, then damage copies of it in various ways.
#[test]
fn corrupt_files_give_precise_errors() {
    let s = Scratch::new("corrupt");
    write_model(&s.0);
    let good = s.0.join("good.bin");
    import_ctranslate2(&s.0, &good, Quantization::F16).expect("import");
    let bytes = std::fs::read(&good).expect("read");
    let info = inspect(&good).expect("inspect");
    let damaged = s.0.join("bad.bin");
    let check = |data: &[u8], want: &str| {
        std::fs::write(&damaged, data).expect("write");
        let err = inspect(&damaged).expect_err(want);
        let msg = err.to_string();
        assert!(
            msg.contains("bad.bin") && msg.contains(want),
            "expected '{want}' in: {msg}"
        );
        assert!(!msg.contains('\n'), "one line: {msg}");
        err
    };

    // Truncated in the middle of the last tensor: whisper.cpp would load garbage silently.
    let last = info.tensors.last().expect("tensors");
    let cut = (last.offset + 10) as usize;
    let err = check(&bytes[..cut], "truncated");
    match err {
        ModelError::Truncated { tensor, offset, .. } => {
            assert_eq!((tensor.as_str(), offset), (last.name.as_str(), last.offset));
        }
        other => panic!("wrong error {other}"),
    }
    // Truncated inside the first tensor's data.
    let first = &info.tensors[0];
    check(
        &bytes[..(first.offset + 100) as usize],
        &format!("tensor '{}'", first.name),
    );
    // Truncated inside the mel filters.
    check(&bytes[..1000], "mel filter data");
    // Bad magic / GGUF / CTranslate2.
    let mut b = bytes.clone();
    b[..4].copy_from_slice(b"GGUF");
    check(&b, "GGUF");
    let ct2 = std::fs::read(s.0.join("model.bin")).expect("read");
    check(&ct2, "CTranslate2");
    // ftype that would make ggml GGML_ASSERT and abort.
    let mut b = bytes.clone();
    b[44..48].copy_from_slice(&4i32.to_le_bytes());
    check(&b, "would abort");
    // Old quantisation version.
    let mut b = bytes.clone();
    b[44..48].copy_from_slice(&1007i32.to_le_bytes());
    check(&b, "version 1");
    // Mismatched widths.
    let mut b = bytes.clone();
    b[28..32].copy_from_slice(&64i32.to_le_bytes()); // n_text_state
    check(&b, "n_audio_state 32 != n_text_state 64");
    // Absurd token length.
    let mut b = bytes.clone();
    let vocab_at = 48 + 8 + MELS * 201 * 4;
    b[vocab_at + 4..vocab_at + 8].copy_from_slice(&i32::MAX.to_le_bytes());
    check(&b, "implausible length");
    // Too many dimensions in the first tensor header (whisper.cpp would overflow ne[4]).
    let hdr = first.offset as usize - first.name.len() - 4 * first.ne.len() - 12;
    let mut b = bytes.clone();
    b[hdr..hdr + 4].copy_from_slice(&5i32.to_le_bytes());
    check(&b, "5 dimensions");
    // Unknown tensor type.
    let mut b = bytes.clone();
    b[hdr + 8..hdr + 12].copy_from_slice(&77i32.to_le_bytes());
    check(&b, "unknown ggml type 77");
    // Trailing junk after the last tensor.
    let mut b = bytes.clone();
    b.extend_from_slice(&[1, 2, 3]);
    check(&b, "3 stray bytes");
    // A missing tensor (drop the last one entirely).
    let last_hdr = last.offset as usize - last.name.len() - 4 * last.ne.len() - 12;
    check(&bytes[..last_hdr], &format!("missing e.g. {}", last.name));
    // Empty file.
    check(&[], "only 0 bytes");
}
