//! Tokenizer tests: architecture against diffusers' SD VAE, shapes, causality of the audio codec,
//! tiny-batch overfitting, checkpoint round trip, the diffusers loader, determinism and resume.

use avwm_core::Seed;
use avwm_data::{Dataset, Split};
use avwm_nn::ckpt;
use avwm_nn::optim::{AdamW, AdamWConfig};
use avwm_nn::seed::torch_seed_derived;
use avwm_tokenizer::codec::{CodecConfig, codec_loss};
use avwm_tokenizer::data::FrameSet;
use avwm_tokenizer::train::{TrainConfig, train};
use avwm_tokenizer::vae::{Vae, VaeConfig, load_diffusers};
use avwm_tokenizer::{Arch, Modality, Tokenizer};
use tch::{Device, Kind, Tensor};

/// libtorch's random generator is global to the process and tests run on parallel threads:
/// every test that seeds and draws holds this lock, so seeded sections never interleave.
fn torch_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const CPU: Device = Device::Cpu;

fn new_tok(arch: Arch, seed: u64) -> Tokenizer {
    torch_seed_derived(Seed(seed), "init", 0);
    Tokenizer::new(arch, CPU).unwrap()
}

fn numel(t: &Tokenizer) -> i64 {
    t.vs.variables().values().map(|v| v.numel() as i64).sum()
}

#[test]
fn sd_config_has_the_parameters_of_diffusers_autoencoderkl() {
    let _torch = torch_lock();
    // Stable Diffusion's VAE (diffusers AutoencoderKL, sd-vae-ft-ema) has 83,653,863 parameters.
    let tok = new_tok(Arch::Visual(VaeConfig::sd()), 0);
    assert_eq!(numel(&tok), 83_653_863);
    let bound = Arch::Visual(VaeConfig::sd()).min_parameters();
    assert!((83_653_863 / 4..=83_653_863).contains(&bound), "{bound}");
    // Names and shapes of a few tensors of the diffusers checkpoint.
    let vars = tok.vs.variables();
    for (name, shape) in [
        ("encoder.conv_in.weight", vec![128, 3, 3, 3]),
        (
            "encoder.down_blocks.0.downsamplers.0.conv.weight",
            vec![128, 128, 3, 3],
        ),
        (
            "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
            vec![256, 128, 1, 1],
        ),
        ("encoder.mid_block.attentions.0.to_q.weight", vec![512, 512]),
        ("encoder.mid_block.attentions.0.to_out.0.bias", vec![512]),
        ("encoder.conv_out.weight", vec![8, 512, 3, 3]),
        ("quant_conv.weight", vec![8, 8, 1, 1]),
        ("post_quant_conv.weight", vec![4, 4, 1, 1]),
        (
            "decoder.up_blocks.0.upsamplers.0.conv.weight",
            vec![512, 512, 3, 3],
        ),
        (
            "decoder.up_blocks.2.resnets.0.conv_shortcut.weight",
            vec![256, 512, 1, 1],
        ),
        ("decoder.up_blocks.3.resnets.2.norm2.weight", vec![128]),
        ("decoder.conv_out.weight", vec![3, 128, 3, 3]),
    ] {
        let v = vars.get(name).unwrap_or_else(|| panic!("no `{name}`"));
        assert_eq!(v.size(), shape, "{name}");
    }
    assert!(!vars.contains_key("decoder.up_blocks.3.upsamplers.0.conv.weight"));
}

#[test]
fn shapes_of_latents_and_reconstructions() {
    let _torch = torch_lock();
    let v = new_tok(Arch::Visual(VaeConfig::tiny()), 1);
    let x = Tensor::rand([2, 3, 64, 48], (Kind::Float, CPU)) * 2.0 - 1.0;
    let (m, lv) = v.encode(&x);
    assert_eq!(m.size(), [2, 4, 8, 6]);
    assert_eq!(lv.unwrap().size(), [2, 4, 8, 6]);
    assert_eq!(v.decode(&m).size(), [2, 3, 64, 48]);

    let a = new_tok(Arch::Audio(CodecConfig::tiny()), 1);
    let cfg = CodecConfig::tiny();
    assert_eq!((cfg.hop(), cfg.frames()), (160, 15));
    let x = Tensor::randn([3, 2, 2400], (Kind::Float, CPU)) * 0.1;
    let (z, none) = a.encode(&x);
    assert!(none.is_none());
    assert_eq!(z.size(), [3, 17, 15]); // 16 + the level channel
    assert_eq!(a.decode(&z).size(), [3, 2, 2400]);
}

#[test]
fn audio_codec_is_causal() {
    let _torch = torch_lock();
    // Changing the input from sample 1000 on must not change latent frames that end before it,
    // nor decoded samples before it.
    // (The optional level channel uses the whole segment; the convolutional stack is causal.)
    let causal = CodecConfig {
        level_channel: false,
        ..CodecConfig::tiny()
    };
    let a = new_tok(Arch::Audio(causal), 2);
    let x = Tensor::randn([1, 2, 2400], (Kind::Float, CPU)) * 0.1;
    let y = x.copy();
    let _ = y.narrow(2, 1000, 1400).fill_(0.5);
    let (zx, _) = a.encode(&x);
    let (zy, _) = a.encode(&y);
    // Frame f sees samples < (f + 1)·160; frames 0..=5 end at 960.
    assert!(zx.narrow(2, 0, 6).equal(&zy.narrow(2, 0, 6)));
    assert!(!zx.narrow(2, 6, 9).equal(&zy.narrow(2, 6, 9)));
    let dx = a.decode(&zx);
    let dy = a.decode(&zy);
    assert!(dx.narrow(2, 0, 960).equal(&dy.narrow(2, 0, 960)));
}

fn overfit(tok: &Tokenizer, x: &Tensor, steps: usize, lr: f64) -> (f64, f64) {
    let mut opt = AdamW::new(&tok.vs, AdamWConfig::default(), |_| true);
    let mut first = f64::NAN;
    let mut last = f64::NAN;
    for step in 0..steps {
        torch_seed_derived(Seed(9), "noise", step as u64);
        let loss = if let Some(vae) = tok.vae() {
            let (m, lv) = vae.encode(x);
            let y = vae.decode(&Vae::sample(&m, &lv));
            (&y - x).abs().mean(Kind::Float) + Vae::kl(&m, &lv) * 1e-6
        } else {
            let c = tok.codec().unwrap();
            codec_loss(&c.decode(&c.encode(x)), x).total()
        };
        let v = loss.double_value(&[]);
        if step == 0 {
            first = v;
        }
        last = v;
        opt.zero_grad();
        loss.backward();
        opt.clip_grad_norm(1.0);
        opt.step(lr);
    }
    (first, last)
}

#[test]
fn visual_tokenizer_overfits_two_images() {
    let _torch = torch_lock();
    let tok = new_tok(Arch::Visual(VaeConfig::tiny()), 3);
    // Two smooth 32×32 images: a horizontal and a vertical colour ramp.
    let r = Tensor::linspace(-1.0, 1.0, 32, (Kind::Float, CPU));
    let row = r.view([1, 32]).expand([32, 32], false);
    let a = Tensor::stack(&[row.shallow_clone(), row.shallow_clone(), row], 0);
    let b = a.transpose(1, 2) * -0.5;
    let x = Tensor::stack(&[a, b], 0);
    let (first, last) = overfit(&tok, &x, 150, 3e-3);
    assert!(last < first / 4.0, "L1 fell only from {first} to {last}");
}

#[test]
fn audio_tokenizer_overfits_two_segments() {
    let _torch = torch_lock();
    let tok = new_tok(Arch::Audio(CodecConfig::tiny()), 4);
    // Two binaural tones, the right ear delayed and attenuated.
    let t = Tensor::arange(2400, (Kind::Float, CPU)) / 16000.0;
    let tone = |f: f64, d: f64, g: f64| {
        let l = (&t * (2.0 * std::f64::consts::PI * f)).sin() * 0.3;
        let r = ((&t - d) * (2.0 * std::f64::consts::PI * f)).sin() * (0.3 * g);
        Tensor::stack(&[l, r], 0)
    };
    let x = Tensor::stack(
        &[tone(440.0, 3.0 / 16000.0, 0.5), tone(1000.0, 0.0, 0.9)],
        0,
    );
    let (first, last) = overfit(&tok, &x, 120, 3e-3);
    assert!(last < first / 2.0, "loss fell only from {first} to {last}");
}

#[test]
fn tokenizer_checkpoint_round_trip() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().unwrap();
    let tok = new_tok(Arch::Audio(CodecConfig::tiny()), 5);
    tok.save(&dir.path().join("tok")).unwrap();
    let back = Tokenizer::load(&dir.path().join("tok.json"), CPU).unwrap();
    assert_eq!(back.meta, tok.meta);
    let x = Tensor::randn([1, 2, 2400], (Kind::Float, CPU)) * 0.1;
    assert!(tok.reconstruct(&x).equal(&back.reconstruct(&x)));
    // A tokenizer JSON with weights of another architecture is a named error.
    let other = new_tok(Arch::Audio(CodecConfig::small()), 5);
    ckpt::save_var_store(&other.vs, &dir.path().join("tok.safetensors")).unwrap();
    let e = Tokenizer::load(&dir.path().join("tok"), CPU)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("tok.safetensors") && e.contains("shape"), "{e}");
}

/// `Arch::min_parameters` is what lets `Tokenizer::load` refuse a configuration far larger than
/// its weights before libtorch allocates it (found by avwm-fuzz: an unwrap of libtorch's
/// allocation error inside tch's constructors). It must be a true lower bound, and a useful one.
#[test]
fn parameter_lower_bound_holds_and_refuses_oversized_configs_before_building() {
    let _torch = torch_lock();
    use avwm_tokenizer::mdct::MdctConfig;
    for arch in [
        Arch::Visual(VaeConfig::tiny()),
        Arch::Visual(VaeConfig::small()),
        Arch::Audio(CodecConfig::tiny()),
        Arch::Audio(CodecConfig::small()),
        Arch::AudioMdct(MdctConfig::tiny()),
        Arch::AudioMdct(MdctConfig::small()),
    ] {
        let bound = arch.min_parameters();
        let real = numel(&new_tok(arch.clone(), 0)) as u128;
        assert!(bound <= real, "{arch:?}: bound {bound} > {real}");
        assert!(
            4 * bound >= real,
            "{arch:?}: bound {bound} far below {real}"
        );
    }
    // A JSON whose VAE is 65,536 channels wide (valid: within the caps) beside tiny weights:
    // the error names both files, and nothing of the size of the network is allocated.
    let dir = tempfile::tempdir().unwrap();
    let tok = new_tok(Arch::Visual(VaeConfig::tiny()), 1);
    tok.save(&dir.path().join("tok")).unwrap();
    let mut meta = tok.meta.clone();
    if let Arch::Visual(c) = &mut meta.arch {
        c.block_out_channels = vec![65_536, 65_536];
        c.norm_num_groups = 8;
    }
    ckpt::write_json(&dir.path().join("tok.json"), &meta).unwrap();
    let e = Tokenizer::load(&dir.path().join("tok"), CPU)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("tok.json") && e.contains("tok.safetensors") && e.contains("at least"),
        "{e}"
    );
    // Out-of-range codec and MDCT sizes are configuration errors naming the JSON file.
    for arch in [
        Arch::Audio(CodecConfig {
            strides: vec![4; 9],
            ..CodecConfig::tiny()
        }),
        Arch::Audio(CodecConfig {
            base_channels: 1 << 14,
            ..CodecConfig::tiny()
        }),
        Arch::AudioMdct(MdctConfig {
            hop: 1 << 20,
            segment: 1 << 21,
            band_edges: vec![0, 1 << 20],
            ..MdctConfig::tiny()
        }),
    ] {
        meta.arch = arch;
        ckpt::write_json(&dir.path().join("tok.json"), &meta).unwrap();
        let e = Tokenizer::load(&dir.path().join("tok"), CPU)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("tok.json") && (e.contains("out of range") || e.contains("more than")),
            "{e}"
        );
    }
}

#[test]
fn diffusers_loader_renames_and_checks() {
    let _torch = torch_lock();
    // A diffusers-style file for a small AutoencoderKL, with the old attention names.
    let dir = tempfile::tempdir().unwrap();
    let src = new_tok(Arch::Visual(VaeConfig::tiny()), 6);
    let old_names: Vec<(String, Tensor)> = ckpt::named_variables(&src.vs)
        .into_iter()
        .map(|(n, t)| {
            let n = n
                .replace(".to_q.", ".query.")
                .replace(".to_k.", ".key.")
                .replace(".to_v.", ".value.")
                .replace(".to_out.0.", ".proj_attn.");
            (n, t)
        })
        .collect();
    assert!(old_names.iter().any(|(n, _)| n.contains(".proj_attn.")));
    let file = dir.path().join("diffusion_pytorch_model.safetensors");
    ckpt::save_tensors(&file, &old_names).unwrap();
    let mut dst = new_tok(Arch::Visual(VaeConfig::tiny()), 7);
    load_diffusers(&mut dst.vs, &file).unwrap();
    for ((n, a), (_, b)) in ckpt::named_variables(&src.vs)
        .iter()
        .zip(ckpt::named_variables(&dst.vs))
    {
        assert!(a.equal(&b), "{n}");
    }
    // A missing tensor is named.
    let mut partial = old_names;
    let (gone, _) = partial.remove(3);
    ckpt::save_tensors(&file, &partial).unwrap();
    let e = load_diffusers(&mut dst.vs, &file).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
    let _ = gone;
}

fn tiny_dataset(dir: &std::path::Path) -> Dataset {
    let mut cfg = avwm_datagen::GenConfig::tiny();
    cfg.episodes = 3;
    cfg.max_frames = 10;
    avwm_datagen::generate(&cfg, dir, &|_| {}).unwrap();
    Dataset::open(dir).unwrap()
}

#[test]
fn training_is_deterministic_and_resumes_exactly() {
    let _torch = torch_lock();
    let tmp = tempfile::tempdir().unwrap();
    let ds = tiny_dataset(&tmp.path().join("ds"));
    let train_set = FrameSet::load(&ds, Split::Train, 1).unwrap();
    let val_set = FrameSet::load(&ds, Split::Validation, 1).unwrap();
    for modality in [Modality::Visual, Modality::Audio] {
        let mut cfg = TrainConfig::preset(modality, "tiny").unwrap();
        cfg.steps = 8;
        cfg.ckpt_every = 4;
        cfg.log_every = 2;
        let run = |name: &str, cfg: &TrainConfig| {
            train(
                cfg,
                &tmp.path().join(name),
                &train_set,
                &val_set,
                CPU,
                &mut |_| {},
            )
            .unwrap()
        };
        let (a, sa) = run(&format!("{modality:?}-a"), &cfg);
        let (b, _) = run(&format!("{modality:?}-b"), &cfg);
        // Interrupted: 4 steps, then the same command with 8 steps resumes from the checkpoint.
        let mut short = cfg.clone();
        short.steps = 4;
        run(&format!("{modality:?}-c"), &short);
        let (c, sc) = run(&format!("{modality:?}-c"), &cfg);
        assert_eq!(sc.resumed_from, 4);
        assert_eq!(sa.steps, 8);
        for other in [&b, &c] {
            for ((n, x), (_, y)) in ckpt::named_variables(&a.vs)
                .iter()
                .zip(ckpt::named_variables(&other.vs))
            {
                assert!(x.equal(&y), "{modality:?}: {n} differs");
            }
        }
        assert!(sa.scaling_factor.is_finite() && sa.scaling_factor > 0.0);
        // The log has one line per logged step, none duplicated by the resume.
        let log =
            std::fs::read_to_string(tmp.path().join(format!("{modality:?}-c/log.jsonl"))).unwrap();
        let steps: Vec<u64> = log
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(steps, vec![2, 4, 6, 8]);
        // A different configuration in the same folder is refused.
        let mut other = cfg.clone();
        other.lr *= 2.0;
        let e = train(
            &other,
            &tmp.path().join(format!("{modality:?}-a")),
            &train_set,
            &val_set,
            CPU,
            &mut |_| {},
        );
        assert!(
            e.err()
                .unwrap()
                .to_string()
                .contains("another configuration")
        );
    }
}

#[test]
fn level_channel_makes_the_codec_scale_equivariant() {
    let _torch = torch_lock();
    let a = new_tok(Arch::Audio(CodecConfig::tiny()), 8);
    let x = Tensor::randn([2, 2, 2400], (Kind::Float, CPU)) * 0.05;
    let z1 = a.encode(&x).0;
    let z10 = a.encode(&(&x * 10.0)).0;
    // The normalised latent is the same; the level channel moves by ln 10.
    let d = CodecConfig::tiny().latent_dim;
    let diff = (z1.narrow(1, 0, d) - z10.narrow(1, 0, d))
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff < 1e-4, "normalised latents differ by {diff}");
    let shift = (z10.narrow(1, d, 1) - z1.narrow(1, d, 1))
        .mean(Kind::Float)
        .double_value(&[]);
    assert!((shift - 10f64.ln()).abs() < 1e-4, "level shift {shift}");
    // And the output scales with the input.
    let y1 = a.decode(&z1) * 10.0;
    let y10 = a.decode(&z10);
    let rel = ((&y1 - &y10).abs().max() / y10.abs().max()).double_value(&[]);
    assert!(rel < 1e-3, "relative difference {rel}");
}

#[test]
fn interaural_losses_see_level_and_delay_between_the_ears() {
    let _torch = torch_lock();
    let x = Tensor::randn([2, 2, 2400], (Kind::Float, CPU)) * 0.1;
    let same = codec_loss(&x, &x);
    assert!(same.total().double_value(&[]) < 1e-6);
    // Delay the right ear by 4 samples: the spectra barely change, the interaural phase does.
    let right = x.select(1, 1).roll([4i64].as_slice(), [1i64].as_slice());
    let delayed = Tensor::stack(&[x.select(1, 0), right], 1);
    let l = codec_loss(&delayed, &x);
    assert!(
        l.interaural_phase.double_value(&[]) > 0.3,
        "{}",
        l.interaural_phase.double_value(&[])
    );
    assert!(l.interaural_phase.double_value(&[]) > 5.0 * l.stft.double_value(&[]));
    // Halve the right ear: only the level terms move (ln 2 in the interaural level term).
    let quiet = Tensor::stack(&[x.select(1, 0), x.select(1, 1) * 0.5], 1);
    let l = codec_loss(&quiet, &x);
    assert!((l.interaural.double_value(&[]) - 2f64.ln()).abs() < 0.05);
    assert!(l.interaural_phase.double_value(&[]) < 1e-3);
}
