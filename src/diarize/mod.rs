//! Who speaks when in a mono call: speaker diarization of the mixed voice.
//!
//! A mono recording mixes both parties into one stream, so the voice
//! detector can only say *that* someone speaks. This module splits that
//! speech between speakers, so that a mono call gets the report of a stereo
//! one: speech per speaker, talk share, overlaps, interruptions.
//!
//! # Method
//!
//! While the call streams, [`tap::DiarizeTap`] computes a [`frontend`]
//! log-mel spectrum (24 bands, one byte each) of every 10 ms frame and
//! keeps those inside the detector's speech segments. When the call ends:
//!
//! 1. [`cepstra`]: 20 cepstra and their deltas per frame, normalised over
//!    the call's speech;
//! 2. a background mixture ([`gmm`], 8 diagonal Gaussians by default) is
//!    trained on the call's speech (more components fit a minute of speech
//!    too finely: with 32 the chunk grouping put 71% of the development
//!    set's frames with the right speaker, with 8 it put 88%), and each frame's most likely components are noted
//!    (later scoring looks at those only);
//! 3. [`cluster`]: the speech is cut into chunks of about a second, each
//!    described by how it moves the background model (a supervector); the
//!    chunks are grouped bottom-up (average linkage on cosine similarity,
//!    less a penalty per octave between the chunks' median [`pitch`]es)
//!    into the wanted number of speakers, outlier groups set aside;
//! 4. resegmentation: each speaker's model is the background model adapted
//!    to their frames, and their pitch model is fitted to their voiced
//!    frames; every frame is scored against every speaker (voice model,
//!    plus pitch for voiced frames), and the best path through a hidden
//!    Markov model with a minimum turn length and a switching cost
//!    ([`viterbi`]) relabels all frames — this is the speaker-change
//!    detection, at frame precision; models and labels are refined a few
//!    times;
//! 5. [`overlap`]: a model of both voices at once is trained on frames
//!    synthesised by adding the band powers of frames of each speaker
//!    alone, and a last decoding pass labels frames A, B or both; overlap
//!    frames count for both speakers.
//!
//! Which speaker is the agent is decided by [`roles`]: by default the
//! first to speak (`[diarize] agent_first`), unless the transcript has a
//! greeting ("thank you for calling", "how can I help") from the other.
//!
//! # Memory
//!
//! The tap keeps 29 bytes per frame of speech (24 band bytes, the frame
//! index and the pitch; about 10 MB per hour of speech), one byte per frame
//! of the whole call (the pitch track, 360 kB an hour) and, until the detector has
//! decided on them, the frames of the segment in progress. At the end of
//! the call the analysis adds 5 bytes per speech frame (component shortlist
//! and label) plus per-stretch buffers and a training sample of at most
//! [`MAX_TRAIN`] frames; nothing else grows with the length of the call.
//! The bottom-up grouping compares at most [`cluster::MAX_AHC`] chunks
//! (a 400 × 400 similarity matrix).

pub mod apply;
pub mod cepstra;
pub mod cluster;
pub mod frontend;
pub mod gmm;
pub mod overlap;
pub mod pitch;
pub mod roles;
pub mod tap;
pub mod viterbi;

use cepstra::{DIM, Dct, Moments, Normaliser, bands_db, run_features};
use frontend::{MelBytes, N_MEL};
use gmm::{Gmm, Stats};
use overlap::Rng;
use pitch::PitchModel;
use serde::{Deserialize, Serialize};
use viterbi::{Topology, Viterbi};

/// Most frames the background model is trained on (an evenly spread
/// sample of longer calls).
pub const MAX_TRAIN: usize = 30_000;
/// Components looked at per frame when scoring speaker models.
const SHORTLIST: usize = 4;
/// Frames at least this periodic (normalised autocorrelation at the pitch
/// lag) are voiced and give the diarizer their pitch (the voice
/// detector's voicing threshold).
pub const VOICED_PERIODICITY: f32 = 0.6;

/// The [`pitch::pitch_code`] of a frame: its pitch when voiced, else 0.
pub fn frame_pitch_code(f: &crate::dsp::features::FrameFeatures) -> u8 {
    if f.periodicity >= VOICED_PERIODICITY {
        pitch::pitch_code(f.pitch_hz)
    } else {
        0
    }
}

/// Fewest voiced frames for a chunk's median pitch to count in grouping.
const MIN_CHUNK_VOICED: usize = 10;

/// Voiced frames a speaker needs for its median pitch to count in
/// [`Labels::pitch_gap`] (half a second).
const MIN_GAP_VOICED: usize = 50;

/// Most speakers (labels are bit masks in a byte).
pub const MAX_SPEAKERS: usize = 8;

/// Settings of mono-call diarization: the `[diarize]` table of the config.
/// Defaults were chosen on the development set's mono mixes (see
/// `docs/mono.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiarizeConfig {
    /// Split the voice of mono calls between speakers.
    pub enabled: bool,
    /// How many speakers a mono call has (`--speakers`); 1 turns
    /// diarization off.
    pub speakers: usize,
    /// With two speakers: the first to speak is the agent (else the
    /// customer). A greeting in the transcript overrides this.
    pub agent_first: bool,
    /// Let agent phrases in the transcript (`agent_phrases`) decide who
    /// the agent is.
    pub greetings: bool,
    /// Phrases only an agent says early in a call (lower case, matched on
    /// word boundaries within the first `greeting_window_s`).
    pub agent_phrases: Vec<String>,
    /// How far into the call a greeting counts, s.
    pub greeting_window_s: f64,
    /// Gaussians in the background model.
    pub components: usize,
    /// Length of the chunks grouped into speakers, s.
    pub chunk_s: f64,
    /// Shortest chunk grouped, s (shorter stretches get their speaker from
    /// the resegmentation).
    pub min_chunk_s: f64,
    /// A speaker group with less than this share of the speech is an
    /// outlier and set aside.
    pub min_speaker_share: f32,
    /// MAP relevance factor of speaker models (higher: closer to the
    /// background model).
    pub relevance: f32,
    /// Rounds of model adaptation and resegmentation.
    pub iterations: usize,
    /// Shortest stretch of one speaker, ms.
    pub min_turn_ms: u32,
    /// Cost of a change of speaker in the decoder, natural-log units.
    pub switch_penalty: f32,
    /// Detect overlapped speech (two speakers at once).
    pub overlap: bool,
    /// Shortest overlap, ms.
    pub min_overlap_ms: u32,
    /// Cost of entering an overlap in the decoder.
    pub overlap_penalty: f32,
    /// MAP relevance factor of the overlap model.
    pub overlap_relevance: f32,
    /// Weight of the voice's pitch in the resegmentation: the
    /// log-likelihood of a voiced frame's pitch under each speaker's pitch
    /// model is added to its score this many times ([`pitch`]); 0 ignores
    /// pitch.
    pub pitch_weight: f32,
    /// Similarity two chunks lose per octave between their median pitches
    /// when they are grouped (similarities are cosines, -1 to 1).
    pub pitch_cluster_weight: f32,
    /// When the speakers' median pitches are closer than this, octaves,
    /// the split is reported as uncertain: on the development calls every
    /// badly split call had two voices within 0.17 octave of each other,
    /// and the per-call models then split one voice on something else
    /// (`docs/mono.md`). 0 never warns.
    pub min_pitch_gap: f32,
}

impl Default for DiarizeConfig {
    fn default() -> Self {
        DiarizeConfig {
            enabled: true,
            speakers: 2,
            agent_first: true,
            greetings: true,
            agent_phrases: roles::DEFAULT_AGENT_PHRASES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            greeting_window_s: 60.0,
            components: 8,
            chunk_s: 1.0,
            min_chunk_s: 0.3,
            min_speaker_share: 0.1,
            relevance: 16.0,
            iterations: 3,
            min_turn_ms: 250,
            switch_penalty: 20.0,
            overlap: true,
            min_overlap_ms: 100,
            overlap_penalty: 20.0,
            overlap_relevance: 16.0,
            pitch_weight: 1.0,
            pitch_cluster_weight: 0.35,
            min_pitch_gap: 0.2,
        }
    }
}

/// Why diarization settings are unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum DiarizeError {
    /// A setting is out of its range.
    #[error("invalid diarize setting {name} = {value}: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// The valid range.
        reason: &'static str,
    },
}

impl DiarizeConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), DiarizeError> {
        let bad = |name, value: String, reason| {
            Err(DiarizeError::InvalidConfig {
                name,
                value,
                reason,
            })
        };
        if self.speakers == 0 || self.speakers > MAX_SPEAKERS {
            return bad("speakers", self.speakers.to_string(), "1 to 8");
        }
        if self.components == 0 || self.components > 256 {
            return bad("components", self.components.to_string(), "1 to 256");
        }
        if !(self.chunk_s > 0.0 && self.chunk_s <= 60.0) {
            return bad("chunk_s", self.chunk_s.to_string(), "above 0, at most 60");
        }
        if !(self.min_chunk_s > 0.0 && self.min_chunk_s <= self.chunk_s) {
            return bad(
                "min_chunk_s",
                self.min_chunk_s.to_string(),
                "above 0, at most chunk_s",
            );
        }
        if !(0.0..0.5).contains(&self.min_speaker_share) {
            return bad(
                "min_speaker_share",
                self.min_speaker_share.to_string(),
                "0 to 0.5",
            );
        }
        for (name, v) in [
            ("relevance", self.relevance),
            ("overlap_relevance", self.overlap_relevance),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return bad(name, v.to_string(), "above 0");
            }
        }
        for (name, v) in [
            ("switch_penalty", self.switch_penalty),
            ("overlap_penalty", self.overlap_penalty),
            ("pitch_weight", self.pitch_weight),
            ("pitch_cluster_weight", self.pitch_cluster_weight),
            ("min_pitch_gap", self.min_pitch_gap),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(name, v.to_string(), "0 or more");
            }
        }
        if self.min_turn_ms > 5000 || self.min_overlap_ms > 5000 {
            return bad(
                "min_turn_ms/min_overlap_ms",
                format!("{}/{}", self.min_turn_ms, self.min_overlap_ms),
                "at most 5000",
            );
        }
        Ok(())
    }

    /// True when mono calls are to be split into several speakers.
    pub fn active(&self) -> bool {
        self.enabled && self.speakers >= 2
    }
}

/// The speech frames of a call, as the tap keeps them: frame indices in
/// increasing order and their band bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpeechFrames {
    index: Vec<u32>,
    mel: Vec<MelBytes>,
    /// Per row: the frame's voice pitch as a [`pitch::pitch_code`], 0
    /// when unvoiced or not known.
    pitch: Vec<u8>,
}

impl SpeechFrames {
    /// No frames.
    pub fn new() -> SpeechFrames {
        SpeechFrames::default()
    }

    /// Appends frame `index` (ignored unless after the last one).
    pub fn push(&mut self, index: i64, mel: &MelBytes) {
        let Ok(i) = u32::try_from(index) else {
            return;
        };
        if self.index.last().is_some_and(|&l| l >= i) {
            return;
        }
        self.index.push(i);
        self.mel.push(*mel);
        self.pitch.push(0);
    }

    /// Sets the pitch of every row from `code_of(frame index)` (a
    /// [`pitch::pitch_code`]; 0 for unvoiced frames).
    pub fn set_pitch(&mut self, mut code_of: impl FnMut(i64) -> u8) {
        for (p, &i) in self.pitch.iter_mut().zip(&self.index) {
            *p = code_of(i64::from(i));
        }
    }

    /// Pitch code of row `i` (0: unvoiced).
    pub fn pitch(&self, i: usize) -> u8 {
        self.pitch[i]
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Frame index of row `i`.
    pub fn frame(&self, i: usize) -> i64 {
        i64::from(self.index[i])
    }

    /// Band bytes of row `i`.
    pub fn mel(&self, i: usize) -> &MelBytes {
        &self.mel[i]
    }

    /// Runs of consecutive frames, as row ranges `(start, end)`.
    pub fn runs(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=self.index.len() {
            if i == self.index.len() || self.index[i] != self.index[i - 1] + 1 {
                if i > start {
                    out.push((start, i));
                }
                start = i;
            }
        }
        out
    }

    fn bands(&self, rows: std::ops::Range<usize>) -> Vec<[f32; N_MEL]> {
        self.mel[rows].iter().map(bands_db).collect()
    }
}

/// The speakers of each stored frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labels {
    /// Number of speakers.
    pub speakers: usize,
    /// Per frame (row of [`SpeechFrames`]): bit `k` set when speaker `k`
    /// speaks. Speakers are numbered in order of appearance.
    pub bits: Vec<u8>,
    /// The smallest gap between two speakers' median pitches, octaves
    /// (`None` when fewer than two speakers have enough voiced frames).
    /// A small gap warns that the split may not follow the voices; see
    /// [`DiarizeConfig::min_pitch_gap`].
    pub pitch_gap: Option<f32>,
}

/// The call's features, computed stretch by stretch on demand.
struct Features<'a> {
    frames: &'a SpeechFrames,
    runs: Vec<(usize, usize)>,
    dct: Dct,
    norm: Normaliser,
}

impl<'a> Features<'a> {
    fn new(frames: &'a SpeechFrames) -> Features<'a> {
        let runs = frames.runs();
        let dct = Dct::new();
        // Normalisation statistics over all speech.
        let mut all = Vec::new();
        let mut moments = Moments::default();
        for &(s, e) in &runs {
            all.clear();
            run_features(&dct, &frames.bands(s..e), &mut all);
            moments.add(&all);
        }
        let norm = moments.finish();
        Features {
            frames,
            runs,
            dct,
            norm,
        }
    }

    /// Normalised features of run `r` (rows of [`DIM`]).
    fn run(&self, r: usize, out: &mut Vec<f32>) {
        let (s, e) = self.runs[r];
        out.clear();
        run_features(&self.dct, &self.frames.bands(s..e), out);
        self.norm.apply(out);
    }

    /// Normalised features of synthetic band frames.
    fn synthetic(&self, bands: &[[f32; N_MEL]], out: &mut Vec<f32>) {
        out.clear();
        run_features(&self.dct, bands, out);
        self.norm.apply(out);
    }
}

/// Splits the speech of a call between `cfg.speakers` speakers.
pub fn diarize(frames: &SpeechFrames, cfg: &DiarizeConfig) -> Labels {
    diarize_traced(frames, cfg, None, &mut |_, _| {})
}

/// [`diarize`], reporting the labels after each step to `trace` (step name,
/// speaker bits per frame, 0 for unlabelled): a tool for tuning. `init`
/// replaces the clustering's labels (speaker index per frame, 255 for
/// none), to measure the later steps alone.
pub fn diarize_traced(
    frames: &SpeechFrames,
    cfg: &DiarizeConfig,
    init: Option<&[u8]>,
    trace: &mut dyn FnMut(&str, &[u8]),
) -> Labels {
    let k = cfg.speakers.clamp(1, MAX_SPEAKERS);
    let n = frames.len();
    if n == 0 || k == 1 {
        return Labels {
            speakers: k,
            bits: vec![1; n],
            pitch_gap: None,
        };
    }
    let feats = Features::new(frames);
    let mut buf = Vec::new();

    // Background model on an evenly spread sample.
    let step = n.div_ceil(MAX_TRAIN).max(1);
    let mut train = Vec::with_capacity((n / step + 1) * DIM);
    for r in 0..feats.runs.len() {
        let (s, _) = feats.runs[r];
        feats.run(r, &mut buf);
        for (i, row) in buf.chunks_exact(DIM).enumerate() {
            if (s + i) % step == 0 {
                train.extend_from_slice(row);
            }
        }
    }
    let ubm = Gmm::train(&train, DIM, cfg.components.min(n / 8).max(1), 3, 4);
    drop(train);

    // Shortlists, and the chunks' supervectors. Long calls get longer
    // chunks, so that there are at most about 4 × MAX_AHC of them.
    let mut shortlist = vec![0u8; n * SHORTLIST];
    let target = ((cfg.chunk_s * 100.0).round() as usize).max(n / (4 * cluster::MAX_AHC));
    let min = (cfg.min_chunk_s * 100.0).round() as usize;
    let chunks = cluster::chunks(&feats.runs, target, min);
    let mut sv = Vec::with_capacity(chunks.len());
    let mut scratch = Vec::new();
    let mut next_chunk = 0;
    for r in 0..feats.runs.len() {
        let (s, e) = feats.runs[r];
        feats.run(r, &mut buf);
        for (i, row) in buf.chunks_exact(DIM).enumerate() {
            let at = (s + i) * SHORTLIST;
            ubm.shortlist(row, &mut scratch, &mut shortlist[at..at + SHORTLIST]);
        }
        while let Some(c) = chunks.get(next_chunk).filter(|c| c.end <= e) {
            sv.push(cluster::supervector(
                &ubm,
                &buf[(c.start - s) * DIM..(c.end - s) * DIM],
                cfg.relevance,
            ));
            next_chunk += 1;
        }
    }
    cluster::normalise(&mut sv);
    let chunk_pitch: Vec<Option<f32>> = chunks
        .iter()
        .map(|c| {
            let mut h = pitch::Histogram::default();
            (c.start..c.end).for_each(|r| h.add(frames.pitch(r)));
            h.median(MIN_CHUNK_VOICED)
        })
        .collect();
    let chunk_labels = cluster::cluster(
        &sv,
        &chunks,
        k,
        cfg.min_speaker_share,
        &chunk_pitch,
        cfg.pitch_cluster_weight,
    );
    drop(sv);

    // Initial labels: the chunks' (unlabelled frames: 255).
    let mut label = vec![u8::MAX; n];
    for (c, l) in chunks.iter().zip(&chunk_labels) {
        if let Some(l) = l {
            label[c.start..c.end].fill(*l as u8);
        }
    }

    if let Some(init) = init.filter(|i| i.len() == n) {
        label.copy_from_slice(init);
    }
    let as_bits = |label: &[u8]| -> Vec<u8> {
        label
            .iter()
            .map(|&l| if (l as usize) < k { 1 << l } else { 0 })
            .collect()
    };
    trace("clusters", &as_bits(&label));

    // Resegmentation rounds.
    let min_turn = (cfg.min_turn_ms as usize / 10).max(1);
    let mut decoding = RunDecoder::default();
    for _ in 0..cfg.iterations.max(1) {
        let models = speaker_models(&feats, &ubm, &shortlist, &label, k, cfg.relevance);
        let topo = Topology {
            min_frames: vec![min_turn; k],
            switch: vec![cfg.switch_penalty; k * k],
            start: vec![0.0; k],
        };
        let states: Vec<&Gmm> = models.iter().collect();
        let voices = pitch_models(frames, &label, k);
        let tables: Vec<[f32; 256]> = voices
            .iter()
            .map(|v| pitch::score_table(&[*v], cfg.pitch_weight))
            .collect();
        decoding.decode(&feats, &shortlist, &states, &tables, &topo, |s, path| {
            label[s..s + path.len()].copy_from_slice(path);
        });
        trace("resegmented", &as_bits(&label));
    }

    // Measured before the overlap pass, on the frames of one voice each.
    let pitch_gap = smallest_pitch_gap(frames, &label, k);

    // Overlap: both voices at once.
    let mut bits: Vec<u8> = label.iter().map(|&l| 1u8 << l.min(7)).collect();
    if cfg.overlap {
        let models = speaker_models(&feats, &ubm, &shortlist, &label, k, cfg.relevance);
        let pairs: Vec<(usize, usize)> = (0..k)
            .flat_map(|a| (a + 1..k).map(move |b| (a, b)))
            .collect();
        let mut rng = Rng::new(0x0068_6561_726b_656e);
        let mut pair_models = Vec::new();
        for &(a, b) in &pairs {
            match overlap_model(&feats, &ubm, &label, a as u8, b as u8, cfg, &mut rng) {
                Some(m) => pair_models.push(((a, b), m)),
                None => continue,
            }
        }
        if !pair_models.is_empty() {
            let states = k + pair_models.len();
            let min_ovl = (cfg.min_overlap_ms as usize / 10).max(1);
            let mut min_frames = vec![min_turn; k];
            min_frames.extend(std::iter::repeat_n(min_ovl, pair_models.len()));
            let mut switch = vec![f32::INFINITY; states * states];
            let mut start = vec![0.0; states];
            for a in 0..states {
                for b in 0..states {
                    switch[a * states + b] = match (a < k, b < k) {
                        (true, true) => cfg.switch_penalty,
                        // Into an overlap only from one of its two voices.
                        (true, false) => {
                            let (x, y) = pair_models[b - k].0;
                            if a == x || a == y {
                                cfg.overlap_penalty
                            } else {
                                f32::INFINITY
                            }
                        }
                        // Out of an overlap into either voice.
                        (false, true) => {
                            let (x, y) = pair_models[a - k].0;
                            if b == x || b == y { 0.0 } else { f32::INFINITY }
                        }
                        (false, false) => f32::INFINITY,
                    };
                }
                if a >= k {
                    start[a] = cfg.overlap_penalty;
                }
            }
            let topo = Topology {
                min_frames,
                switch,
                start,
            };
            // States: the k voices alone, then the pairs.
            let states: Vec<&Gmm> = models
                .iter()
                .chain(pair_models.iter().map(|(_, m)| m))
                .collect();
            let voices = pitch_models(frames, &label, k);
            let tables: Vec<[f32; 256]> = (0..k)
                .map(|a| pitch::score_table(&[voices[a]], cfg.pitch_weight))
                .chain(pair_models.iter().map(|&((a, b), _)| {
                    pitch::score_table(&[voices[a], voices[b]], cfg.pitch_weight)
                }))
                .collect();
            decoding.decode(&feats, &shortlist, &states, &tables, &topo, |s, path| {
                for (i, &st) in path.iter().enumerate() {
                    let st = st as usize;
                    bits[s + i] = if st < k {
                        1 << st
                    } else {
                        let (x, y) = pair_models[st - k].0;
                        (1 << x) | (1 << y)
                    };
                }
            });
        }
    }
    Labels {
        speakers: k,
        bits: in_order_of_appearance(&bits, k),
        pitch_gap,
    }
}

/// The smallest gap, in octaves, between the median pitches of two
/// speakers of `label` (speaker index per frame) that have at least
/// [`MIN_GAP_VOICED`] voiced frames each.
fn smallest_pitch_gap(frames: &SpeechFrames, label: &[u8], k: usize) -> Option<f32> {
    let medians: Vec<f32> = pitch_histograms(frames, label, k)
        .iter()
        .filter_map(|h| h.median(MIN_GAP_VOICED))
        .collect();
    let mut gap: Option<f32> = None;
    for (i, a) in medians.iter().enumerate() {
        for b in &medians[i + 1..] {
            let d = (a - b).abs();
            gap = Some(gap.map_or(d, |g| g.min(d)));
        }
    }
    gap
}

/// Viterbi decoding of every speech run, with its buffers kept from one
/// pass to the next.
#[derive(Default)]
struct RunDecoder {
    viterbi: Viterbi,
    frames: Vec<f32>,
    scores: Vec<f32>,
    path: Vec<u8>,
}

impl RunDecoder {
    /// Decodes each speech run of `feats` under `topo`, every frame scored
    /// by `states` (one model per state, in state order) over its
    /// component shortlist, plus the state's pitch score of the frame's
    /// pitch code (`pitch`, one table per state); `write(first_frame,
    /// path)` receives each run's best state path.
    fn decode(
        &mut self,
        feats: &Features<'_>,
        shortlist: &[u8],
        states: &[&Gmm],
        pitch: &[[f32; 256]],
        topo: &Topology,
        mut write: impl FnMut(usize, &[u8]),
    ) {
        for r in 0..feats.runs.len() {
            let (s, _) = feats.runs[r];
            feats.run(r, &mut self.frames);
            self.scores.clear();
            for (i, row) in self.frames.chunks_exact(DIM).enumerate() {
                let list = &shortlist[(s + i) * SHORTLIST..(s + i + 1) * SHORTLIST];
                let code = usize::from(feats.frames.pitch(s + i));
                self.scores.extend(
                    states
                        .iter()
                        .zip(pitch)
                        .map(|(m, t)| m.shortlist_ll(row, list) + t[code]),
                );
            }
            self.viterbi.decode(topo, &self.scores, &mut self.path);
            write(s, &self.path);
        }
    }
}

/// Each speaker's pitch model, from the voiced frames labelled with them
/// (`None` for a speaker with too few).
fn pitch_models(frames: &SpeechFrames, label: &[u8], k: usize) -> Vec<Option<PitchModel>> {
    pitch_histograms(frames, label, k)
        .iter()
        .map(PitchModel::fit)
        .collect()
}

/// The pitch codes of each speaker's frames (`label`: speaker index per
/// frame; other values count for no one).
fn pitch_histograms(frames: &SpeechFrames, label: &[u8], k: usize) -> Vec<pitch::Histogram> {
    let mut h = vec![pitch::Histogram::default(); k];
    for (r, &l) in label.iter().enumerate() {
        if let Some(h) = h.get_mut(usize::from(l)) {
            h.add(frames.pitch(r));
        }
    }
    h
}

/// Each speaker's model: the background model adapted to the frames
/// labelled with that speaker.
fn speaker_models(
    feats: &Features<'_>,
    ubm: &Gmm,
    shortlist: &[u8],
    label: &[u8],
    k: usize,
    relevance: f32,
) -> Vec<Gmm> {
    let mut stats: Vec<Stats> = (0..k).map(|_| Stats::new(ubm.components(), DIM)).collect();
    let mut buf = Vec::new();
    for r in 0..feats.runs.len() {
        let (s, e) = feats.runs[r];
        if label[s..e].iter().all(|&l| l as usize >= k) {
            continue;
        }
        feats.run(r, &mut buf);
        for (i, row) in buf.chunks_exact(DIM).enumerate() {
            let l = label[s + i] as usize;
            if l < k {
                let list = &shortlist[(s + i) * SHORTLIST..(s + i + 1) * SHORTLIST];
                ubm.accumulate_shortlist(row, list, &mut stats[l]);
            }
        }
    }
    stats
        .iter()
        .map(|st| ubm.adapt_means(st, relevance))
        .collect()
}

/// The model of speakers `a` and `b` talking at once, from synthesised
/// mixtures of their frames; `None` when either has too little speech.
fn overlap_model(
    feats: &Features<'_>,
    ubm: &Gmm,
    label: &[u8],
    a: u8,
    b: u8,
    cfg: &DiarizeConfig,
    rng: &mut Rng,
) -> Option<Gmm> {
    // Stretches of each voice alone (at least 5 frames).
    let stretches = |who: u8| -> Vec<Vec<[f32; N_MEL]>> {
        let mut out = Vec::new();
        for &(s, e) in &feats.runs {
            let mut i = s;
            while i < e {
                let j = (i..e).find(|&j| label[j] != label[i]).unwrap_or(e);
                if label[i] == who && j - i >= 5 {
                    out.push(feats.frames.bands(i..j));
                }
                i = j;
            }
        }
        out
    };
    let (sa, sb) = (stretches(a), stretches(b));
    let na: usize = sa.iter().map(Vec::len).sum();
    let nb: usize = sb.iter().map(Vec::len).sum();
    if na < 100 || nb < 100 {
        return None;
    }
    let want = na.min(nb).clamp(500, MAX_TRAIN / 2);
    let mixed = overlap::synthesise(&sa, &sb, want, 50, rng);
    let mut st = Stats::new(ubm.components(), DIM);
    let mut buf = Vec::new();
    let mut scratch = Vec::new();
    let mut list = [0u8; SHORTLIST];
    for run in &mixed {
        feats.synthetic(run, &mut buf);
        for row in buf.chunks_exact(DIM) {
            ubm.shortlist(row, &mut scratch, &mut list);
            ubm.accumulate_shortlist(row, &list, &mut st);
        }
    }
    let _ = cfg;
    Some(ubm.adapt_means(&st, cfg.overlap_relevance))
}

/// Renumbers speakers by first appearance: the first speaker to hold 0.5 s
/// of speech alone becomes speaker 0, and so on (a short misattributed
/// blip at the start does not decide who came first).
fn in_order_of_appearance(bits: &[u8], k: usize) -> Vec<u8> {
    let mut count = vec![0usize; k];
    let mut order: Vec<usize> = Vec::new();
    for &b in bits {
        if b.count_ones() == 1 {
            let s = b.trailing_zeros() as usize;
            if s < k {
                count[s] += 1;
                if count[s] == 50 && !order.contains(&s) {
                    order.push(s);
                }
            }
        }
    }
    // Speakers that never reach 0.5 s come last, by amount of speech.
    let mut rest: Vec<usize> = (0..k).filter(|s| !order.contains(s)).collect();
    rest.sort_by_key(|&s| std::cmp::Reverse(count[s]));
    order.extend(rest);
    let mut new_of = [0u8; MAX_SPEAKERS];
    for (new, &old) in order.iter().enumerate() {
        new_of[old] = new as u8;
    }
    bits.iter()
        .map(|&b| {
            (0..k)
                .filter(|&s| b & (1 << s) != 0)
                .fold(0u8, |acc, s| acc | (1 << new_of[s]))
        })
        .collect()
}

#[cfg(test)]
mod tests;
