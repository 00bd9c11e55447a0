//! Times one Whisper call on a window of the demo call (a profiling aid):
//! `cargo run --release --example whisper_speed -- [threads] [audio_ctx] [flash 0|1] [seconds]`
//! (env: `REPS=n` repetitions, `FRESH=1` a new state per repetition, `TAIL=1` print the end of the text,
//! `QUIET=1` silence whisper.cpp).
use hearken::audio::{ChannelResampler, wav};
use std::path::Path;
use std::time::Instant;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let threads: i32 = args.get(1).map_or(Ok(1), |s| s.parse())?;
    let audio_ctx: i32 = args.get(2).map_or(Ok(0), |s| s.parse())?;
    let flash = args.get(3).is_none_or(|s| s == "1");
    let secs: f64 = args.get(4).map_or(Ok(17.0), |s| s.parse())?;
    let (info, ch) = wav::read_all(Path::new("samples/demo-call.wav"))?;
    let mut r = ChannelResampler::new(info.sample_rate)?;
    let mut x = Vec::new();
    r.process(&ch[0], &mut x)?;
    r.finish(&mut x)?;
    x.truncate((secs * 16000.0) as usize);
    if std::env::var_os("QUIET").is_some() {
        whisper_rs::install_logging_hooks();
    }
    let mut cp = WhisperContextParameters::default();
    cp.use_gpu(false);
    cp.flash_attn(flash);
    let ctx = WhisperContext::new_with_params(
        std::env::var("MODEL").unwrap_or_else(|_| "models/ggml-tiny.en-iq4_nl.bin".into()),
        cp,
    )?;
    let mut st = ctx.create_state()?;
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for rep in 0..reps {
        if std::env::var_os("FRESH").is_some() {
            let t = Instant::now();
            st = ctx.create_state()?;
            println!("state: {:.3} s", t.elapsed().as_secs_f64());
        }
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(threads);
        p.set_language(Some("en"));
        p.set_no_context(true);
        p.set_token_timestamps(true);
        p.set_audio_ctx(audio_ctx);
        if let Ok(m) = std::env::var("MAX_TOKENS") {
            p.set_max_tokens(m.parse()?);
        }
        p.set_print_progress(false);
        p.set_print_realtime(false);
        let t = Instant::now();
        st.full(p, &x)?;
        let n: i32 = st.as_iter().map(|s| s.n_tokens()).sum();
        let text: String = st.as_iter().map(|s| s.to_string()).collect();
        let text = if std::env::var_os("TAIL").is_some() {
            text.chars()
                .rev()
                .take(80)
                .collect::<String>()
                .chars()
                .rev()
                .collect()
        } else {
            text
        };
        println!(
            "rep {rep}: {:.3} s, {n} tokens: {}",
            t.elapsed().as_secs_f64(),
            text.chars().take(80).collect::<String>()
        );
    }
    ctx.print_timings();
    Ok(())
}
