//! The whole pipeline with networks of the documented signatures and random weights, built and
//! saved as TorchScript in Rust (`tch::CModule::create_by_tracing`) and loaded back through
//! `FeatureNets::load`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use avwm_eval::audio::{MIN_SAMPLES, VGGISH_SAMPLE_RATE, log_mel_examples};
use avwm_eval::nets::{
    ALEX_CHANNELS, DREAMSIM_FILE, INCEPTION_FILE, LPIPS_FILE, LPIPS_LIN_FILE, VGGISH_FILE,
    alexnet_feature_maps, alexnet_feature_sizes, dreamsim_preprocess, images_from_rgb,
    lpips_from_features, split_alexnet_features,
};
use avwm_eval::{FeatureMetrics, FeatureNets, Metric, StereoClip};
use tch::{CModule, Device, IValue, Kind, Tensor};

/// libtorch's generator is global to the process: seeded sections hold this lock.
fn torch_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const F32: (Kind, Device) = (Kind::Float, Device::Cpu);

/// He-initialised random weight.
fn he(shape: &[i64]) -> Tensor {
    let fan_in: i64 = shape[1..].iter().product();
    Tensor::randn(shape, F32) * (2.0 / fan_in as f64).sqrt()
}

fn conv(x: &Tensor, w: &Tensor, b: &Tensor, stride: i64, pad: i64) -> Tensor {
    x.conv2d(w, Some(b), [stride], [pad], [1], 1)
}

fn trace_save(path: &Path, example: Tensor, f: impl Fn(&Tensor) -> Tensor) {
    let mut closure = |inputs: &[Tensor]| vec![f(&inputs[0])];
    let m = CModule::create_by_tracing("Net", "forward", &[example], &mut closure).unwrap();
    m.save(path).unwrap();
}

/// pytorch-fid stand-in: [B, 3, H, W] in [0, 1] → bilinear 299 × 299, ×2 − 1 → convs → [B, 2048].
fn build_inception(dir: &Path) {
    let (w1, b1) = (he(&[16, 3, 3, 3]), Tensor::zeros([16], F32));
    let (w2, b2) = (he(&[32, 16, 3, 3]), Tensor::zeros([32], F32));
    let (w3, b3) = (he(&[2048, 32]), Tensor::randn([2048], F32) * 0.1);
    trace_save(
        &dir.join(INCEPTION_FILE),
        Tensor::rand([2, 3, 64, 64], F32),
        |x| {
            let x = x.upsample_bilinear2d([299, 299], false, None, None) * 2.0 - 1.0;
            let x = conv(&x, &w1, &b1, 2, 1).relu();
            let x = conv(&x, &w2, &b2, 2, 1).relu();
            let x = x.adaptive_avg_pool2d([1, 1]).flatten(1, -1);
            x.linear(&w3, Some(&b3)).relu()
        },
    );
}

/// lpips AlexNet stand-in with AlexNet's real layer shapes (ScalingLayer included); returns the
/// 5 ReLU maps flattened and concatenated (tch tracing saves single-output methods only).
fn build_lpips(dir: &Path) {
    let shapes: [[i64; 4]; 5] = [
        [64, 3, 11, 11],
        [192, 64, 5, 5],
        [384, 192, 3, 3],
        [256, 384, 3, 3],
        [256, 256, 3, 3],
    ];
    let ws: Vec<(Tensor, Tensor)> = shapes
        .iter()
        .map(|s| (he(s), Tensor::randn([s[0]], F32) * 0.05))
        .collect();
    let shift = Tensor::from_slice(&[-0.030f32, -0.088, -0.188]).view([1, 3, 1, 1]);
    let scale = Tensor::from_slice(&[0.458f32, 0.448, 0.450]).view([1, 3, 1, 1]);
    trace_save(
        &dir.join(LPIPS_FILE),
        Tensor::rand([2, 3, 64, 64], F32) * 2.0 - 1.0,
        |x| {
            let x = (x - &shift) / &scale;
            let r1 = conv(&x, &ws[0].0, &ws[0].1, 4, 2).relu();
            let p1 = r1.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], false);
            let r2 = conv(&p1, &ws[1].0, &ws[1].1, 1, 2).relu();
            let p2 = r2.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], false);
            let r3 = conv(&p2, &ws[2].0, &ws[2].1, 1, 1).relu();
            let r4 = conv(&r3, &ws[3].0, &ws[3].1, 1, 1).relu();
            let r5 = conv(&r4, &ws[4].0, &ws[4].1, 1, 1).relu();
            Tensor::cat(&[r1, r2, r3, r4, r5].map(|r| r.flatten(1, -1)), 1)
        },
    );
    let lins: Vec<(String, Tensor)> = ALEX_CHANNELS
        .iter()
        .enumerate()
        .map(|(l, &c)| (format!("lin{l}"), Tensor::rand([1, c, 1, 1], F32) * 0.2))
        .collect();
    Tensor::write_safetensors(&lins, dir.join(LPIPS_LIN_FILE)).unwrap();
}

/// DreamSim stand-in: [B, 3, 224, 224] in [0, 1] → patch embedding → MLP → normalised embedding
/// (dreamsim's `normalize_embeds`: unit norm, then the row mean subtracted).
fn build_dreamsim(dir: &Path) {
    let (wp, bp) = (he(&[32, 3, 16, 16]), Tensor::zeros([32], F32));
    let (w1, b1) = (he(&[64, 32]), Tensor::randn([64], F32) * 0.1);
    trace_save(
        &dir.join(DREAMSIM_FILE),
        Tensor::rand([2, 3, 224, 224], F32),
        |x| {
            let x = conv(x, &wp, &bp, 16, 0).gelu("none");
            let x = x.mean_dim([2i64, 3].as_slice(), false, Kind::Float);
            let e = x.linear(&w1, Some(&b1));
            let e = &e / e.norm_scalaropt_dim(2, [1i64].as_slice(), true);
            &e - e.mean_dim([1i64].as_slice(), true, Kind::Float)
        },
    );
}

/// VGGish stand-in: [K, 1, 96, 64] → 2 conv/pool blocks → linear → [K, 128] (no final ReLU).
fn build_vggish(dir: &Path) {
    let (w1, b1) = (he(&[8, 1, 3, 3]), Tensor::zeros([8], F32));
    let (w2, b2) = (he(&[16, 8, 3, 3]), Tensor::zeros([16], F32));
    let (w3, b3) = (he(&[128, 16 * 24 * 16]), Tensor::zeros([128], F32));
    trace_save(
        &dir.join(VGGISH_FILE),
        Tensor::randn([2, 1, 96, 64], F32),
        |x| {
            let x =
                conv(x, &w1, &b1, 1, 1)
                    .relu()
                    .max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            let x =
                conv(&x, &w2, &b2, 1, 1)
                    .relu()
                    .max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            x.flatten(1, -1).linear(&w3, Some(&b3))
        },
    );
}

fn all_nets() -> (tempfile::TempDir, FeatureNets) {
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = torch_lock();
        tch::manual_seed(7);
        build_inception(dir.path());
        build_lpips(dir.path());
        build_dreamsim(dir.path());
        build_vggish(dir.path());
    }
    let nets = FeatureNets::load(dir.path()).unwrap();
    assert!(nets.has_inception() && nets.has_lpips() && nets.has_dreamsim() && nets.has_vggish());
    (dir, nets)
}

/// Deterministic pseudo-random values in [0, 1) (no libtorch generator).
fn uniform(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

/// Smooth-ish random uint8 images [n, 3, size, size].
fn images(seed: u64, n: usize, size: usize) -> Tensor {
    let bytes: Vec<u8> = uniform(seed, n * size * size * 3)
        .iter()
        .map(|v| (v * 255.0) as u8)
        .collect();
    let per = size * size * 3;
    let refs: Vec<&[u8]> = bytes.chunks(per).collect();
    images_from_rgb(&refs, size, size).unwrap()
}

fn max_abs(t: &Tensor) -> f64 {
    t.abs().max().double_value(&[])
}

#[test]
fn absent_networks_are_not_computed() {
    let dir = tempfile::tempdir().unwrap();
    let nets = FeatureNets::load(dir.path()).unwrap();
    assert!(
        !nets.has_inception() && !nets.has_lpips() && !nets.has_dreamsim() && !nets.has_vggish()
    );
    let x = images(1, 2, 64);
    let clip = StereoClip {
        sample_rate_hz: 16_000,
        left: vec![0.0; 2400],
        right: vec![0.0; 2400],
    };
    for n in [&nets, &FeatureNets::none()] {
        let m = n
            .metrics(
                &x,
                &x,
                std::slice::from_ref(&clip),
                std::slice::from_ref(&clip),
            )
            .unwrap();
        assert_eq!(m, FeatureMetrics::default());
        assert!(n.inception_features(&x).unwrap().is_none());
        assert!(n.lpips(&x, &x).unwrap().is_none());
        assert!(n.dreamsim(&x, &x).unwrap().is_none());
        assert!(n.vggish_embeddings(&clip.left, 16_000).unwrap().is_none());
        let json = serde_json::to_value(m).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "lpips": "not computed", "dreamsim": "not computed",
                "fid": "not computed", "fad": "not computed"
            })
        );
    }
}

#[test]
fn metric_serialisation() {
    assert_eq!(
        serde_json::to_string(&Metric::Computed(0.25)).unwrap(),
        "0.25"
    );
    assert_eq!(
        serde_json::to_string(&Metric::NotComputed).unwrap(),
        "\"not computed\""
    );
    let back: Metric = serde_json::from_str("\"not computed\"").unwrap();
    assert_eq!(back, Metric::NotComputed);
    let back: Metric = serde_json::from_str("1.5").unwrap();
    assert_eq!(back, Metric::Computed(1.5));
    assert!(serde_json::from_str::<Metric>("\"n/a\"").is_err());
    assert_eq!(Metric::NotComputed.to_string(), "not computed");
    assert_eq!(Metric::from(None), Metric::NotComputed);
}

#[test]
fn directory_and_companion_file_errors() {
    assert!(FeatureNets::load("/nonexistent/feature-nets").is_err());
    let dir = tempfile::tempdir().unwrap();
    {
        let _g = torch_lock();
        tch::manual_seed(1);
        build_lpips(dir.path());
    }
    // Network without its linear weights.
    std::fs::rename(dir.path().join(LPIPS_LIN_FILE), dir.path().join("lin.bak")).unwrap();
    assert!(FeatureNets::load(dir.path()).is_err());
    // Negative linear weights.
    let bad: Vec<(String, Tensor)> = ALEX_CHANNELS
        .iter()
        .enumerate()
        .map(|(l, &c)| (format!("lin{l}"), -Tensor::ones([1, c, 1, 1], F32)))
        .collect();
    Tensor::write_safetensors(&bad, dir.path().join(LPIPS_LIN_FILE)).unwrap();
    assert!(FeatureNets::load(dir.path()).is_err());
    // Weights without the network.
    std::fs::remove_file(dir.path().join(LPIPS_FILE)).unwrap();
    assert!(FeatureNets::load(dir.path()).is_err());
    // A file that is not TorchScript.
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::write(dir2.path().join(INCEPTION_FILE), b"not a module").unwrap();
    assert!(FeatureNets::load(dir2.path()).is_err());
}

#[test]
fn lpips_by_hand() {
    // One layer, C = 2, 1 × 1 map: f0 = (3, 4) → (0.6, 0.8), f1 = (1, 0) → (1, 0);
    // squared differences (0.16, 0.64), weights (1, 2): 0.16 + 1.28 = 1.44.
    let f0 = Tensor::from_slice(&[3.0f64, 4.0]).view([1, 2, 1, 1]);
    let f1 = Tensor::from_slice(&[1.0f64, 0.0]).view([1, 2, 1, 1]);
    let w = Tensor::from_slice(&[1.0f64, 2.0]);
    let d = lpips_from_features(&[f0], &[f1], &[w])
        .unwrap()
        .double_value(&[0]);
    assert!((d - 1.44).abs() < 1e-9, "{d}");
    // Two layers, the second 1 × 2 map (pixels (1, 0) vs (0, 1): diff² (1, 1), weight 0.5, per
    // pixel 1.0 then averaged: 1.0) adds 1.0: total 2.44.
    let f0 = Tensor::from_slice(&[3.0f64, 4.0]).view([1, 2, 1, 1]);
    let f1 = Tensor::from_slice(&[1.0f64, 0.0]).view([1, 2, 1, 1]);
    let g0 = Tensor::from_slice(&[1.0f64, 0.0, 0.0, 1.0]).view([1, 2, 1, 2]);
    let g1 = Tensor::from_slice(&[0.0f64, 1.0, 1.0, 0.0]).view([1, 2, 1, 2]);
    let d = lpips_from_features(
        &[f0, g0],
        &[f1, g1],
        &[
            Tensor::from_slice(&[1.0f64, 2.0]),
            Tensor::from_slice(&[0.5f64, 0.5]),
        ],
    )
    .unwrap()
    .double_value(&[0]);
    assert!((d - 2.44).abs() < 1e-9, "{d}");
}

#[test]
fn lpips_pipeline() {
    let (_dir, mut nets) = all_nets();
    let x = images(11, 3, 64);
    let y = images(12, 3, 64);
    let dxx = nets.lpips(&x, &x).unwrap().unwrap();
    assert_eq!(dxx.size(), [3]);
    assert!(max_abs(&dxx) < 1e-12, "LPIPS(x, x) = {dxx:?}");
    let dxy = nets.lpips(&x, &y).unwrap().unwrap();
    let dyx = nets.lpips(&y, &x).unwrap().unwrap();
    assert!(max_abs(&(&dxy - &dyx)) < 1e-12, "symmetry");
    assert!(dxy.min().double_value(&[]) > 1e-3, "LPIPS(x, y) = {dxy:?}");
    eprintln!(
        "LPIPS(x, y) = {:?}, max LPIPS(x, x) = {:.1e}",
        Vec::<f64>::try_from(&dxy).unwrap(),
        max_abs(&dxx)
    );
    // Batching does not change the result.
    nets.batch_size = 1;
    let dxy1 = nets.lpips(&x, &y).unwrap().unwrap();
    assert!(max_abs(&(&dxy - &dxy1)) < 1e-6);
    // Float input in [0, 1] equals the uint8 path.
    let xf = x.to_kind(Kind::Float) / 255.0;
    let yf = y.to_kind(Kind::Float) / 255.0;
    assert!(max_abs(&(nets.lpips(&xf, &yf).unwrap().unwrap() - &dxy)) < 1e-6);
    // A small perturbation is closer than an unrelated image.
    let xn = (xf + 0.02).clamp(0.0, 1.0);
    let dn = nets.lpips(&x, &xn).unwrap().unwrap();
    assert!(
        dn.max().double_value(&[]) < dxy.min().double_value(&[]),
        "{dn:?} vs {dxy:?}"
    );
    match nets.lpips_mean(&x, &y).unwrap() {
        Metric::Computed(v) => assert!((v - dxy.mean(Kind::Double).double_value(&[])).abs() < 1e-6),
        Metric::NotComputed => panic!("LPIPS present"),
    }
    // Mismatched batches are an error; too-small images too.
    assert!(nets.lpips(&x, &images(1, 2, 64)).is_err());
    assert!(nets.lpips(&images(1, 1, 24), &images(2, 1, 24)).is_err());
    let empty = Tensor::zeros([0, 3, 64, 64], (Kind::Uint8, Device::Cpu));
    assert!(nets.lpips(&empty, &empty).is_err());
    assert!(nets.fid(&empty, &empty).is_err());
    assert!(nets.dreamsim(&empty, &empty).is_err());
}

#[test]
fn lpips_normalisation_is_scale_invariant() {
    let (_dir, nets) = all_nets();
    let x = images(21, 2, 64);
    let y = images(22, 2, 64);
    let fx = nets.lpips_features(&x).unwrap().unwrap();
    let fy = nets.lpips_features(&y).unwrap().unwrap();
    let lins = nets.lpips_net().unwrap().lins();
    let d = lpips_from_features(&fx, &fy, lins).unwrap();
    // A positive per-pixel scale of the features (same for all channels) leaves LPIPS unchanged.
    let scaled: Vec<Tensor> = fx
        .iter()
        .enumerate()
        .map(|(l, f)| {
            let s = f.size();
            let n = (s[0] * s[2] * s[3]) as usize;
            let k: Vec<f64> = uniform(100 + l as u64, n)
                .iter()
                .map(|v| 0.1 + 10.0 * f64::from(*v))
                .collect();
            f * Tensor::from_slice(&k).view([s[0], 1, s[2], s[3]])
        })
        .collect();
    let ds = lpips_from_features(&scaled, &fy, lins).unwrap();
    assert!(max_abs(&(&d - &ds)) < 1e-8, "{d:?} vs {ds:?}");
    // Whereas a per-channel scale does change it.
    let cs: Vec<Tensor> = fx
        .iter()
        .map(|f| {
            let c = f.size()[1];
            f * Tensor::linspace(0.1, 3.0, c, (Kind::Double, Device::Cpu)).view([1, c, 1, 1])
        })
        .collect();
    let dc = lpips_from_features(&cs, &fy, lins).unwrap();
    assert!(max_abs(&(&d - &dc)) > 1e-4);
}

#[test]
fn lpips_module_outputs_tuple_or_flat() {
    let (h, w) = (64, 80);
    let sizes = alexnet_feature_sizes(h, w).unwrap();
    assert_eq!(sizes, [(15, 19), (7, 9), (3, 4), (3, 4), (3, 4)]);
    // AlexNet at 224 × 224: 55, 27, 13, 13, 13 (torchvision's alexnet feature sizes).
    let s224 = alexnet_feature_sizes(224, 224).unwrap();
    assert_eq!(s224.map(|s| s.0), [55, 27, 13, 13, 13]);
    assert!(alexnet_feature_sizes(30, 64).is_err());
    let maps: Vec<Tensor> = sizes
        .iter()
        .zip(ALEX_CHANNELS)
        .enumerate()
        .map(|(l, ((a, b), c))| {
            Tensor::from_slice(&uniform(l as u64, (2 * c * a * b) as usize)).view([2, c, *a, *b])
        })
        .collect();
    let flat = Tensor::cat(
        &maps.iter().map(|m| m.flatten(1, -1)).collect::<Vec<_>>(),
        1,
    );
    let from_flat = split_alexnet_features(&flat, h, w).unwrap();
    let from_tuple = alexnet_feature_maps(
        IValue::Tuple(
            maps.iter()
                .map(|m| IValue::Tensor(m.shallow_clone()))
                .collect(),
        ),
        h,
        w,
    )
    .unwrap();
    let from_list = alexnet_feature_maps(
        IValue::TensorList(maps.iter().map(|m| m.shallow_clone()).collect()),
        h,
        w,
    )
    .unwrap();
    for ((a, b), c) in from_flat.iter().zip(&from_tuple).zip(&from_list) {
        assert!(max_abs(&(a.to_kind(Kind::Double) - b)) == 0.0);
        assert!(max_abs(&(b - c)) == 0.0);
    }
    // Wrong channel count, wrong number of maps, wrong flat length.
    let mut bad: Vec<IValue> = maps
        .iter()
        .map(|m| IValue::Tensor(m.shallow_clone()))
        .collect();
    bad.swap(1, 2);
    assert!(alexnet_feature_maps(IValue::Tuple(bad), h, w).is_err());
    assert!(alexnet_feature_maps(IValue::TensorList(vec![maps[0].shallow_clone()]), h, w).is_err());
    assert!(split_alexnet_features(&flat.narrow(1, 0, 100), h, w).is_err());
}

#[test]
fn fid_pipeline() {
    let (_dir, nets) = all_nets();
    let x = images(31, 8, 48).to_kind(Kind::Float) / 255.0;
    let x2 = images(32, 8, 48).to_kind(Kind::Float) / 255.0;
    let f = nets.inception_features(&x).unwrap().unwrap();
    assert_eq!(f.size(), [8, 2048]);
    assert_eq!(f.kind(), Kind::Double);
    // With 8 + 8 samples FID takes the sample-factor path (one 8 × 8 SVD, no 2048 × 2048 work).
    let t = std::time::Instant::now();
    let same = nets.fid(&x, &x).unwrap().value().unwrap();
    eprintln!(
        "one FID call (8 + 8 images, D = 2048): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    assert!(same.abs() < 1e-6, "FID(x, x) = {same}");
    let other = nets.fid(&x, &x2).unwrap().value().unwrap();
    let mut last = 0.0;
    for shift in [0.05, 0.15, 0.3] {
        let xs = (&x + shift).clamp(0.0, 1.0);
        let d = nets.fid(&x, &xs).unwrap().value().unwrap();
        if shift == 0.3 {
            let back = nets.fid(&xs, &x).unwrap().value().unwrap();
            assert!(
                (d - back).abs() <= 1e-9 * d.max(1.0),
                "symmetry {d} vs {back}"
            );
        }
        eprintln!("FID(x, x + {shift}) = {d:.4}");
        assert!(
            d > last,
            "FID grows with the shift: {shift} → {d} (previous {last})"
        );
        last = d;
    }
    eprintln!("FID(x, x') = {other:.4}, FID(x, x) = {same:.2e}");
    assert!(
        last > other,
        "a strong shift ({last}) is further than another random set ({other})"
    );
    // One image per set has no covariance.
    assert!(nets.fid(&x.narrow(0, 0, 1), &x.narrow(0, 0, 1)).is_err());
    // Values outside [0, 1] are refused.
    assert!(nets.fid(&(&x * 2.0), &x).is_err());
}

#[test]
fn dreamsim_pipeline() {
    let (_dir, nets) = all_nets();
    let x = images(41, 3, 64);
    let y = images(42, 3, 64);
    let p = dreamsim_preprocess(&(x.to_kind(Kind::Float) / 255.0));
    assert_eq!(p.size(), [3, 3, 224, 224]);
    assert!(
        max_abs(&(&p * 255.0 - (&p * 255.0).round())) < 1e-4,
        "multiples of 1/255"
    );
    let e = nets.dreamsim_embeddings(&x).unwrap().unwrap();
    assert_eq!(e.size(), [3, 64]);
    let dxx = nets.dreamsim(&x, &x).unwrap().unwrap();
    assert!(max_abs(&dxx) < 1e-9, "{dxx:?}");
    let dxy = nets.dreamsim(&x, &y).unwrap().unwrap();
    let dyx = nets.dreamsim(&y, &x).unwrap().unwrap();
    assert!(max_abs(&(&dxy - &dyx)) < 1e-12);
    assert!(
        dxy.min().double_value(&[]) > 0.0 && dxy.max().double_value(&[]) <= 2.0,
        "{dxy:?}"
    );
    // A batch of one works too.
    let d1 = nets
        .dreamsim(&x.narrow(0, 0, 1), &y.narrow(0, 0, 1))
        .unwrap()
        .unwrap();
    assert!((d1.double_value(&[0]) - dxy.double_value(&[0])).abs() < 1e-6);
    assert!(nets.dreamsim_mean(&x, &y).unwrap().is_computed());
}

fn tone(freq: f64, amp: f64, n: usize, phase: f64) -> Vec<f32> {
    (0..n)
        .map(|i| {
            (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / 16_000.0 + phase).sin()) as f32
        })
        .collect()
}

/// A 2.4 s clip made of 16 step segments of 2400 samples.
fn clip(left: &[f32], right: &[f32]) -> StereoClip {
    let segs = left.chunks(2400).zip(right.chunks(2400));
    StereoClip::concat(segs, VGGISH_SAMPLE_RATE).unwrap()
}

#[test]
fn fad_pipeline() {
    let (_dir, nets) = all_nets();
    let n = 16 * 2400;
    let noise = |seed: u64, amp: f32| -> Vec<f32> {
        uniform(seed, n)
            .iter()
            .map(|v| (v - 0.5) * 2.0 * amp)
            .collect()
    };
    // Real: tones with varying pitch in both ears; fake A = same as real; fake B differs on the
    // right only.
    let real: Vec<StereoClip> = (0..4)
        .map(|i| {
            clip(
                &tone(300.0 + 50.0 * i as f64, 0.3, n, 0.1),
                &tone(500.0 + 70.0 * i as f64, 0.2, n, 0.0),
            )
        })
        .collect();
    let fake_right: Vec<StereoClip> = (0..4)
        .map(|i| clip(&tone(300.0 + 50.0 * i as f64, 0.3, n, 0.1), &noise(i, 0.2)))
        .collect();
    let e = nets
        .vggish_embeddings(&real[0].left, 16_000)
        .unwrap()
        .unwrap();
    assert_eq!(e.size(), [2, 128], "2.4 s gives 2 examples");
    let same = nets.fad(&real, &real).unwrap().value().unwrap();
    assert!(same.abs() < 1e-6, "FAD(x, x) = {same}");
    let [l, r] = nets.fad_per_channel(&real, &fake_right).unwrap().unwrap();
    eprintln!("FAD per channel [{l:.3e}, {r:.4}], FAD(x, x) = {same:.2e}");
    assert!(l.abs() < 1e-6, "left channels are identical: {l}");
    assert!(r > 1e-3, "right channels differ: {r}");
    let avg = nets.fad(&real, &fake_right).unwrap().value().unwrap();
    assert!(
        (avg - 0.5 * (l + r)).abs() < 1e-12,
        "per channel, then averaged"
    );
    // Another sample rate is refused (no resampling).
    let mut wrong = real.clone();
    wrong[0].sample_rate_hz = 48_000;
    assert!(nets.fad(&wrong, &real).is_err());
}

#[test]
fn all_metrics_present_are_numbers() {
    let (_dir, nets) = all_nets();
    let x = images(51, 4, 64);
    let y = images(52, 4, 64);
    let n = 2400 * 7;
    let clips = |ph: f64| -> Vec<StereoClip> {
        (0..3)
            .map(|i| {
                clip(
                    &tone(200.0 + 100.0 * i as f64, 0.3, n, ph),
                    &tone(700.0, 0.1 * (i + 1) as f64, n, ph),
                )
            })
            .collect()
    };
    let (ca, cb) = (clips(0.0), clips(1.0));
    // 7 steps = 16,800 samples ≥ MIN_SAMPLES: one example per clip and channel.
    assert!(n >= MIN_SAMPLES);
    let m = nets.metrics(&x, &y, &ca, &cb).unwrap();
    for v in [m.lpips, m.dreamsim, m.fid, m.fad] {
        assert!(
            v.value().is_some_and(|v| v.is_finite() && v >= 0.0),
            "{m:?}"
        );
    }
    let json = serde_json::to_value(m).unwrap();
    assert!(
        json.as_object().unwrap().values().all(|v| v.is_f64()),
        "{json}"
    );
}

#[test]
fn short_segments_are_padded_to_one_example() {
    let seg = tone(440.0, 0.5, 2400, 0.0);
    let ex = log_mel_examples(&seg, VGGISH_SAMPLE_RATE).unwrap();
    assert_eq!(ex.size(), [1, 1, 96, 64]);
    assert_eq!(ex.kind(), Kind::Float);
}
