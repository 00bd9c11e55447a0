//! Signal processing on the 16 kHz analysis stream: short-time spectra on
//! the 10 ms grid ([`stft`]) and the per-frame features every later stage
//! reads ([`features`]), and the vectorised sums both use ([`sums`]).

pub mod features;
pub mod stft;
pub mod sums;
#[cfg(test)]
pub(crate) mod test_signals;
