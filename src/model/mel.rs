//! The mel filterbank that ggml Whisper files embed, computed instead of read from
//! `openai-whisper`'s `mel_filters.npz`.
//!
//! whisper.cpp does not compute its own filterbank: it multiplies the power spectrum by the
//! `n_mels x 201` matrix stored in the model file. OpenAI generated `mel_filters.npz` with
//! `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80|128)` (Slaney mel scale, `norm="slaney"`,
//! float32 output). This module replays librosa's arithmetic step by step in `f64`, including
//! the two roundings to `f32` that librosa performs (the triangle weights are stored into a
//! float32 array *before* the Slaney normalisation multiplies them), so the result matches the
//! npz bit for bit (checked by a unit test against the npz contents in `tests/data/`), up to the
//! sign of one zero that differs between the 2022 and 2023 editions of the npz (see below).

/// Sample rate Whisper models are trained on.
pub const SAMPLE_RATE: f64 = 16_000.0;
/// FFT size (25 ms window) whisper.cpp uses (`WHISPER_N_FFT`).
pub const N_FFT: usize = 400;
/// Number of FFT bins a filter row spans: `1 + N_FFT / 2`.
pub const N_FREQ: usize = 1 + N_FFT / 2;

// Slaney mel-scale constants, as in librosa.core.convert.{hz_to_mel, mel_to_hz}.
const F_MIN: f64 = 0.0;
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;

fn min_log_mel() -> f64 {
    (MIN_LOG_HZ - F_MIN) / F_SP
}

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// librosa `hz_to_mel(f, htk=False)`: linear below 1 kHz, logarithmic above.
fn hz_to_mel(f: f64) -> f64 {
    if f >= MIN_LOG_HZ {
        min_log_mel() + (f / MIN_LOG_HZ).ln() / logstep()
    } else {
        (f - F_MIN) / F_SP
    }
}

/// librosa `mel_to_hz(m, htk=False)`.
fn mel_to_hz(m: f64) -> f64 {
    if m >= min_log_mel() {
        MIN_LOG_HZ * (logstep() * (m - min_log_mel())).exp()
    } else {
        F_MIN + F_SP * m
    }
}

/// numpy `linspace(start, stop, num)` with numpy's exact formula (`i * step + start`, last = stop).
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = (num.max(2) - 1) as f64;
    let step = (stop - start) / div;
    let mut y: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    if let Some(last) = y.last_mut()
        && num > 1
    {
        *last = stop;
    }
    y
}

/// The Slaney-normalised mel filterbank for `n_mels` bands (80 for Whisper v1/v2, 128 for
/// large-v3), row-major `n_mels x 201`, as whisper.cpp's ggml files store it.
pub fn filterbank(n_mels: usize) -> Vec<f32> {
    // FFT bin centre frequencies: rfftfreq(400, 1/16000) == linspace(0, 8000, 201) == 40 Hz steps.
    let fftfreqs: Vec<f64> = (0..N_FREQ)
        .map(|j| j as f64 * (1.0 / (N_FFT as f64 * (1.0 / SAMPLE_RATE))))
        .collect();
    // n_mels + 2 band edges, uniformly spaced on the mel scale between 0 Hz and Nyquist.
    let mel_f: Vec<f64> = linspace(hz_to_mel(F_MIN), hz_to_mel(SAMPLE_RATE / 2.0), n_mels + 2)
        .into_iter()
        .map(mel_to_hz)
        .collect();
    let fdiff: Vec<f64> = mel_f.windows(2).map(|w| w[1] - w[0]).collect();

    // OpenAI's mel_filters.npz exists in two generations that differ in exactly one bit: the
    // 2022 file (80 bands only) has +0.0 at [0][0]; the one regenerated in Nov 2023 for large-v3
    // (80 and 128 bands) has -0.0 there. The widely distributed 80-band ggml files (tiny ...
    // large-v2) were converted with the 2022 file, 128-band ones (large-v3, turbo) with the 2023
    // one. Reproducing that makes our files byte-identical to theirs; numerically it is nothing.
    let negative_zero = n_mels != 80;
    let mut weights = vec![0f32; n_mels * N_FREQ];
    for i in 0..n_mels {
        // Slaney normalisation: each triangle gets unit area (2 / bandwidth in Hz).
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &freq) in fftfreqs.iter().enumerate() {
            let lower = -(mel_f[i] - freq) / fdiff[i];
            let upper = (mel_f[i + 2] - freq) / fdiff[i + 1];
            // np.maximum(0, np.minimum(lower, upper)). The only zero whose sign is in question is
            // [0][0] (lower = -0.0 / fdiff): see `zero_sign` below.
            let m = if lower <= upper { lower } else { upper };
            let tri = if m > 0.0 {
                m
            } else if m == 0.0 && m.is_sign_negative() && negative_zero {
                -0.0
            } else {
                0.0
            };
            // librosa: `weights[i] = ...` stores into float32, then `weights *= enorm` multiplies
            // in float64 and stores float32 again. Both roundings matter for bit-exactness.
            let stored = tri as f32;
            weights[i * N_FREQ + j] = (stored as f64 * enorm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The npz arrays dumped as raw little-endian f32 (`np.load(...)["mel_80"].tofile(...)`).
    const NPZ_MEL_80: &[u8] = include_bytes!("../../tests/data/mel_80.f32");
    const NPZ_MEL_128: &[u8] = include_bytes!("../../tests/data/mel_128.f32");

    fn check(n_mels: usize, raw: &[u8]) {
        let mut want: Vec<f32> = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        // tests/data holds the current (2023) npz: -0.0 at [0][0]. For 80 bands we reproduce the
        // 2022 npz that the distributed ggml files embed, identical except for +0.0 there.
        assert_eq!(want[0].to_bits(), 0x8000_0000);
        if n_mels == 80 {
            want[0] = 0.0;
        }
        let got = filterbank(n_mels);
        assert_eq!(got.len(), want.len());
        let mut max_diff = 0f32;
        let mut differing = 0;
        for (g, w) in got.iter().zip(&want) {
            max_diff = max_diff.max((g - w).abs());
            if g.to_bits() != w.to_bits() {
                differing += 1;
            }
        }
        assert!(max_diff <= 1e-6, "n_mels {n_mels}: max |diff| {max_diff}");
        assert_eq!(
            differing, 0,
            "n_mels {n_mels}: {differing} values differ in the last bits (max {max_diff})"
        );
    }

    #[test]
    fn matches_openai_npz_80() {
        check(80, NPZ_MEL_80);
    }

    #[test]
    fn matches_openai_npz_128() {
        check(128, NPZ_MEL_128);
    }
}
