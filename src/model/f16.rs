//! IEEE 754 half-precision conversions, bit-exact with ggml (and numpy).
//!
//! ggml converts fp32 -> fp16 with `ggml_compute_fp32_to_fp16` (Maratyszcza's FP16 library
//! algorithm, round-to-nearest-even, NaN -> 0x7E00 with the sign kept); numpy's `astype(float16)`
//! is also round-to-nearest-even. The converter's f16 tensors and the q8_0 block scales must be
//! rounded the same way or our files would differ from whisper.cpp's own tools bit for bit, so the
//! algorithm is hand-rolled here instead of pulling in a crate whose rounding we would have to audit.

/// Convert an `f32` to IEEE half-precision bits with round-to-nearest-even.
///
/// Overflow gives ±infinity, values below the smallest subnormal round to ±0, NaN gives a quiet NaN
/// (`0x7E00` with the sign bit kept), exactly as ggml's `ggml_compute_fp32_to_fp16`.
pub fn f32_to_f16(f: f32) -> u16 {
    // Port of ggml_compute_fp32_to_fp16 (ggml-impl.h). The trick: scale |f| up to push values that
    // overflow half to infinity, scale back down, then add a "bias" float whose exponent places the
    // rounding point exactly at the half-precision mantissa boundary; the FPU's own
    // round-to-nearest-even addition then performs the rounding. Rust f32 arithmetic is IEEE with
    // RNE, so this reproduces ggml bit for bit (including subnormals).
    let scale_to_inf = f32::from_bits(0x7780_0000); // 0x1.0p+112
    let scale_to_zero = f32::from_bits(0x0880_0000); // 0x1.0p-110
    let mut base = (f.abs() * scale_to_inf) * scale_to_zero;

    let w = f.to_bits();
    let shl1_w = w.wrapping_add(w);
    let sign = w & 0x8000_0000;
    let mut bias = shl1_w & 0xFF00_0000;
    if bias < 0x7100_0000 {
        bias = 0x7100_0000;
    }

    base += f32::from_bits((bias >> 1) + 0x0780_0000);
    let bits = base.to_bits();
    let exp_bits = (bits >> 13) & 0x0000_7C00;
    let mantissa_bits = bits & 0x0000_0FFF;
    let nonsign = exp_bits + mantissa_bits;
    ((sign >> 16)
        | if shl1_w > 0xFF00_0000 {
            0x7E00
        } else {
            nonsign
        }) as u16
}

/// Convert IEEE half-precision bits to `f32` (always exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h as u32) >> 10) & 0x1F;
    let mant = (h as u32) & 0x03FF;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal half: value = m * 2^-24; normalise into an f32.
            let shift = m.leading_zeros() - 21; // bring the leading 1 to bit 10
            let m = (m << shift) & 0x03FF;
            let e = 127 - 15 + 1 - shift;
            sign | (e << 23) | (m << 13)
        }
        (0x1F, 0) => sign | 0x7F80_0000,
        (0x1F, m) => sign | 0x7FC0_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// Convert bfloat16 bits to `f32` (exact: bf16 is the top half of an f32).
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straightforward integer round-to-nearest-even reference, used to cross-check the float trick.
    fn reference(f: f32) -> u16 {
        let x = f.to_bits();
        let sign = ((x >> 16) & 0x8000) as u16;
        let exp = ((x >> 23) & 0xFF) as i32;
        let mant = x & 0x007F_FFFF;
        if exp == 0xFF {
            return sign | if mant != 0 { 0x7E00 } else { 0x7C00 };
        }
        // value = 1.mant * 2^(exp-127); half exponent = exp - 127 + 15
        let e = exp - 127 + 15;
        if e >= 0x1F {
            return sign | 0x7C00;
        }
        let (m, shift) = if e <= 0 {
            if exp == 0 {
                // f32 subnormal: far below the half subnormal range
                return sign;
            }
            (mant | 0x0080_0000, (14 - e) as u32) // subnormal half
        } else {
            (mant, 13u32)
        };
        if shift > 24 {
            return sign;
        }
        let mut r = m >> shift;
        let rem = m & ((1u32 << shift) - 1);
        let half = 1u32 << (shift - 1);
        if rem > half || (rem == half && (r & 1) == 1) {
            r += 1;
        }
        let out = if e <= 0 { r } else { ((e as u32) << 10) + r };
        sign | out as u16
    }

    #[test]
    fn every_half_round_trips() {
        for h in 0u16..=0xFFFF {
            let f = f16_to_f32(h);
            if f.is_nan() {
                assert!(f32_to_f16(f) & 0x7C00 == 0x7C00 && f32_to_f16(f) & 0x3FF != 0);
                continue;
            }
            assert_eq!(f32_to_f16(f), h, "half {h:#06x} -> {f:e}");
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(f32_to_f16(0.0), 0x0000);
        assert_eq!(f32_to_f16(-0.0), 0x8000);
        assert_eq!(f32_to_f16(1.0), 0x3C00);
        assert_eq!(f32_to_f16(65504.0), 0x7BFF); // largest half
        assert_eq!(f32_to_f16(65519.996), 0x7BFF); // just below the rounding midpoint to inf
        assert_eq!(f32_to_f16(65520.0), 0x7C00); // midpoint rounds to even = inf
        assert_eq!(f32_to_f16(1e10), 0x7C00);
        assert_eq!(f32_to_f16(-1e10), 0xFC00);
        assert_eq!(f32_to_f16(f32::INFINITY), 0x7C00);
        assert_eq!(f32_to_f16(f32::NAN), 0x7E00);
        assert_eq!(f32_to_f16(f32::from_bits(0xFFC0_0000)), 0xFE00); // -NaN keeps its sign
        // smallest subnormal 2^-24; exactly half of it (2^-25) is a tie and rounds to even (0)
        assert_eq!(f32_to_f16(5.960_464_5e-8), 0x0001);
        assert_eq!(f32_to_f16(2.980_232_2e-8), 0x0000);
        assert_eq!(f32_to_f16(2.980_232_5e-8), 0x0001); // just above the tie
        // 1 + 2^-11 is a tie between 1.0 (even) and 1+2^-10: rounds to 1.0
        assert_eq!(f32_to_f16(1.0 + f32::powi(2.0, -11)), 0x3C00);
        // 1 + 3*2^-11 is a tie between 1+2^-10 (odd) and 1+2^-9 (even): rounds up
        assert_eq!(f32_to_f16(1.0 + 3.0 * f32::powi(2.0, -11)), 0x3C02);
        assert_eq!(f16_to_f32(0x0001), f32::powi(2.0, -24));
        assert_eq!(f16_to_f32(0x03FF), 1023.0 * f32::powi(2.0, -24));
        assert_eq!(f16_to_f32(0xC000), -2.0);
        assert!(f16_to_f32(0x7C00).is_infinite());
        assert_eq!(bf16_to_f32(0x3F80), 1.0);
    }

    #[test]
    fn agrees_with_integer_reference() {
        // A dense sweep over all f32 exponents plus pseudo-random mantissas.
        let mut state = 0x1234_5678_9abc_def0u64;
        for _ in 0..2_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let f = f32::from_bits(state as u32);
            if f.is_nan() {
                continue;
            }
            assert_eq!(f32_to_f16(f), reference(f), "{f:e} ({:#010x})", f.to_bits());
        }
        // every f32 near the half range boundaries / midpoints
        for base in [0x3300_0000u32, 0x3880_0000, 0x4770_0000, 0x477F_E000] {
            for i in 0..1_000_000u32 {
                let f = f32::from_bits(base + i);
                assert_eq!(f32_to_f16(f), reference(f), "{f:e}");
            }
        }
    }
}
