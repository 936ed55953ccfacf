//! The spectral audio tokenizer: orthogonality, lossless reconstruction with interaural cues
//! intact, band levels that hold whatever the shape, the fitted statistics, the fit as a
//! training run, and its checkpoint.

use avwm_data::{Dataset, Split};
use avwm_metrics::audio::AudioAnalyzer;
use avwm_tokenizer::data::{FrameSet, tensor_to_audio};
use avwm_tokenizer::mdct::MdctConfig;
use avwm_tokenizer::train::{TrainConfig, train};
use avwm_tokenizer::{Arch, Modality, Tokenizer};
use tch::{Device, Kind, Tensor};

const CPU: Device = Device::Cpu;
const FS: f64 = 16_000.0;

fn tok(cfg: MdctConfig) -> Tokenizer {
    Tokenizer::new(Arch::AudioMdct(cfg), CPU).unwrap()
}

/// A binaural harmonic tone with noise: the right ear delayed by `delay` samples and scaled by
/// `gain`, as a source off to the left.
fn binaural(f0: f64, delay: f64, gain: f64, seed: i64) -> Tensor {
    tch::manual_seed(seed);
    let t = Tensor::arange(2400, (Kind::Double, CPU)) / FS;
    let voice = |shift: f64| {
        (1..=8)
            .map(|h| {
                ((&t - shift / FS) * (2.0 * std::f64::consts::PI * f0 * h as f64)).sin() / h as f64
            })
            .fold(Tensor::zeros([2400], (Kind::Double, CPU)), |a, b| a + b)
    };
    let noise = Tensor::randn([2, 2400], (Kind::Double, CPU)) * 0.003;
    let l = voice(0.0) * 0.05;
    let r = voice(delay) * (0.05 * gain);
    (Tensor::stack(&[l, r], 0) + noise).to_kind(Kind::Float)
}

#[test]
fn the_lapped_transform_is_orthogonal() {
    let t = tok(MdctConfig::small());
    let m = t.mdct().unwrap();
    tch::manual_seed(1);
    let x = Tensor::randn([3, 2, 2400], (Kind::Float, CPU));
    let c = m.analyse(&x);
    assert_eq!(c.size(), vec![3, 2, 15, 160]);
    // Critically sampled and orthogonal: Parseval holds and synthesis inverts analysis.
    let ex = x.square().sum(Kind::Double).double_value(&[]);
    let ec = c.square().sum(Kind::Double).double_value(&[]);
    assert!((ex / ec - 1.0).abs() < 1e-5, "energy {ex} vs {ec}");
    let err = (m.synthesise(&c) - &x).abs().max().double_value(&[]);
    assert!(err < 1e-5, "max error {err}");
    // A sine at a bin centre lands in that bin (and its neighbours, by the window).
    let k = 37.0; // bin centre (k + ½)·50 Hz
    let s = (Tensor::arange(2400, (Kind::Float, CPU)) * (std::f64::consts::PI * (k + 0.5) / 160.0))
        .sin()
        .view([1, 1, 2400])
        .repeat([1, 2, 1]);
    let e = m
        .analyse(&s)
        .square()
        .sum_dim_intlist([0i64, 1, 2].as_slice(), false, Kind::Float);
    let peak = e.argmax(0, false).int64_value(&[]);
    assert_eq!(peak, 37);
}

#[test]
fn reconstruction_is_lossless_with_the_binaural_cues() {
    let t = tok(MdctConfig::small());
    let x = Tensor::stack(
        &[binaural(500.0, 6.0, 0.5, 1), binaural(640.0, -3.0, 0.8, 2)],
        0,
    );
    let z = t.encode(&x).0;
    assert_eq!(z.size(), vec![2, 2 * 20 + 2 * 160, 15]);
    let y = t.decode(&z);
    let rel = ((&y - &x).square().sum(Kind::Double) / x.square().sum(Kind::Double))
        .sqrt()
        .double_value(&[]);
    assert!(rel < 1e-5, "relative error {rel}");
    let mut an = AudioAnalyzer::default();
    for ((l, r), i) in tensor_to_audio(&y).iter().zip(0..) {
        let (tl, tr) = tensor_to_audio(&x.narrow(0, i, 1)).remove(0);
        let lsd = an.binaural_lsd(&tl, &tr, l, r).unwrap();
        assert!(lsd < 1e-3, "LSD {lsd}");
    }
}

#[test]
fn decoded_bands_carry_the_predicted_levels_whatever_the_shape() {
    let cfg = MdctConfig::tiny();
    let t = tok(cfg.clone());
    let m = t.mdct().unwrap();
    let x = binaural(500.0, 4.0, 0.7, 3).unsqueeze(0);
    let z = t.encode(&x).0;
    // Scale and perturb every shape value: the decoder renormalises shapes per band, so the
    // band levels of the decoded audio are still the latent's levels.
    let nl = 2 * cfg.bands();
    let shape = z.narrow(1, nl, z.size()[1] - nl);
    tch::manual_seed(4);
    let noisy = &shape * 3.0 + Tensor::randn_like(&shape) * 0.5;
    let z2 = Tensor::cat(&[z.narrow(1, 0, nl), noisy], 1);
    let lv = |y: &Tensor| m.log_band_rms(&m.analyse(y));
    let diff = (lv(&t.decode(&z2)) - lv(&x)).abs().max().double_value(&[]);
    assert!(diff < 1e-3, "band levels moved by {diff} nepers");
}

#[test]
fn fitting_measures_the_band_levels_of_white_noise() {
    // White noise of RMS σ has MDCT coefficients of RMS σ (orthogonal transform) in every band:
    // the fitted mean log level is ln σ in every band, with a small spread in wide bands.
    let mut t = tok(MdctConfig::small());
    tch::manual_seed(5);
    let x = Tensor::randn([256, 2, 2400], (Kind::Float, CPU)) * 0.1;
    t.mdct_mut().unwrap().fit(&x);
    let m = t.mdct().unwrap();
    let mean = Vec::<f64>::try_from(&m.band_mean.to_kind(Kind::Double)).unwrap();
    let std = Vec::<f64>::try_from(&m.band_std.to_kind(Kind::Double)).unwrap();
    for (b, (mu, sd)) in mean.iter().zip(&std).enumerate() {
        // E[ln RMS] of k coefficients sits slightly below ln σ (Jensen): within 0.4 for k = 2.
        assert!(
            mu - 0.1f64.ln() < 0.02 && mu - 0.1f64.ln() > -0.4,
            "band {b}: {mu}"
        );
        assert!(*sd > 0.04 && *sd < 0.8, "band {b}: {sd}");
    }
    // Wider bands fluctuate less.
    assert!(std[19] < std[0], "{} vs {}", std[19], std[0]);
    // Standardised levels of the fitting data are centred with unit spread.
    let z = t.encode(&x).0.narrow(1, 0, 40);
    assert!(z.mean(Kind::Float).double_value(&[]).abs() < 0.02);
    assert!((z.std(true).double_value(&[]) - 1.0).abs() < 0.05);
}

#[test]
fn fit_is_a_training_run_that_saves_and_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut gen_cfg = avwm_datagen::GenConfig::tiny();
    gen_cfg.episodes = 3;
    gen_cfg.max_frames = 10;
    avwm_datagen::generate(&gen_cfg, &tmp.path().join("ds"), &|_| {}).unwrap();
    let ds = Dataset::open(&tmp.path().join("ds")).unwrap();
    let train_set = FrameSet::load(&ds, Split::Train, 1).unwrap();
    let val_set = FrameSet::load(&ds, Split::Validation, 1).unwrap();
    let cfg = TrainConfig::preset(Modality::Audio, "mdct-tiny").unwrap();
    assert_eq!(cfg.steps, 0);
    let run = tmp.path().join("run");
    let (a, summary) = train(&cfg, &run, &train_set, &val_set, CPU, &mut |_| {}).unwrap();
    // Lossless on frames it never saw.
    let val = summary.final_val.unwrap();
    assert!(val < 1e-3, "validation LSD {val}");
    // Same data, same statistics, same bytes.
    let bytes = std::fs::read(run.join("tokenizer.safetensors")).unwrap();
    train(&cfg, &run, &train_set, &val_set, CPU, &mut |_| {}).unwrap();
    assert_eq!(
        bytes,
        std::fs::read(run.join("tokenizer.safetensors")).unwrap()
    );
    let b = Tokenizer::load(&run.join("tokenizer"), CPU).unwrap();
    let (ma, mb) = (a.mdct().unwrap(), b.mdct().unwrap());
    assert!(ma.band_mean.equal(&mb.band_mean) && ma.band_std.equal(&mb.band_std));
    // The statistics are real levels of the simulator's audio (below full scale, above the
    // floor, louder in the ringtone's bands than at the top), not the initial 0 and 1.
    let mean = Vec::<f64>::try_from(&mb.band_mean.to_kind(Kind::Double)).unwrap();
    assert!(mean.iter().all(|m| *m < 0.0 && *m > -25.0), "{mean:?}");
    assert!(mean[1] > mean[4] + 1.0, "{mean:?}");
    assert_eq!(
        std::fs::read_to_string(run.join("log.jsonl"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}
