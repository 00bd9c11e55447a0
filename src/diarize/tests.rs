//! Tests of the whole diarizer on synthetic voices.
