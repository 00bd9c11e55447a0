//! Vectorised sums over `f32` slices, shared by the frame features and the
//! pitch tracker.
//!
//! A plain iterator sum is one chain of dependent additions: the compiler
//! may not reassociate floating-point addition, so it cannot use vector
//! registers. Eight running sums can, and `multiversion` compiles AVX
//! versions picked at run time (the crate's baseline target is plain
//! x86-64). The result differs from the sequential sum only by rounding.

/// `Σ a_i` over eight independent partial sums: a plain iterator sum is
/// one sequential chain of dependent additions (floating-point addition is
/// not reassociated by the compiler), eight chains vectorise.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
pub fn sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, ra) = a.as_chunks::<8>();
    for x in ca {
        for l in 0..8 {
            acc[l] += x[l];
        }
    }
    acc.iter().sum::<f32>() + ra.iter().sum::<f32>()
}

/// `Σ (a_i − c)²` over eight independent partial sums.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
pub fn sum_sq_about(a: &[f32], c: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, ra) = a.as_chunks::<8>();
    for x in ca {
        for l in 0..8 {
            let d = x[l] - c;
            acc[l] += d * d;
        }
    }
    acc.iter().sum::<f32>() + ra.iter().map(|&x| (x - c) * (x - c)).sum::<f32>()
}
