//! Foundation tests: checkpoints round-trip, AdamW matches the closed form, resume is exact,
//! EMA follows its recurrence, broken checkpoints give clear errors.

use avwm_core::Seed;
use avwm_nn::ckpt;
use avwm_nn::ema::Ema;
use avwm_nn::optim::{AdamW, AdamWConfig};
use avwm_nn::seed::torch_seed_derived;
use tch::nn::{self, Module, VarStore};
use tch::{Device, Kind, Tensor};

/// libtorch's random generator is global to the process and tests run on parallel threads:
/// every test that seeds and draws holds this lock, so seeded sections never interleave.
fn torch_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn model(vs: &VarStore) -> nn::Sequential {
    let p = vs.root();
    nn::seq()
        .add(nn::linear(&p / "a", 3, 8, Default::default()))
        .add_fn(|x| x.tanh())
        .add(nn::linear(&p / "b", 8, 1, Default::default()))
}

fn train(vs: &VarStore, net: &nn::Sequential, opt: &mut AdamW, from: u64, to: u64) {
    for step in from..to {
        torch_seed_derived(Seed(5), "batch", step);
        let x = Tensor::randn([16, 3], (Kind::Float, Device::Cpu));
        let y = x.sum_dim_intlist(1, true, Kind::Float).sin();
        let loss = (net.forward(&x) - y).square().mean(Kind::Float);
        opt.zero_grad();
        loss.backward();
        opt.clip_grad_norm(1.0);
        opt.step(1e-2);
    }
    let _ = vs;
}

fn build(seed: u64) -> (VarStore, nn::Sequential) {
    torch_seed_derived(Seed(seed), "init", 0);
    let vs = VarStore::new(Device::Cpu);
    let net = model(&vs);
    (vs, net)
}

#[test]
fn adamw_first_step_is_lr_times_sign() {
    let _torch = torch_lock();
    // With zero moments, the first AdamW update is lr * g / (|g| + eps') = lr * sign(g).
    let (vs, net) = build(1);
    let before = ckpt::named_variables(&vs)
        .into_iter()
        .map(|(n, t)| (n, t.copy()))
        .collect::<Vec<_>>();
    let mut opt = AdamW::new(&vs, AdamWConfig::default(), |_| true);
    let x = Tensor::ones([4, 3], (Kind::Float, Device::Cpu));
    let loss = net.forward(&x).sum(Kind::Float);
    opt.zero_grad();
    loss.backward();
    let grads: Vec<Tensor> = ckpt::named_variables(&vs)
        .iter()
        .map(|(_, t)| t.grad().copy())
        .collect();
    opt.step(0.1);
    for (((_, b), (_, a)), g) in before.iter().zip(ckpt::named_variables(&vs)).zip(grads) {
        let expected = b - g.sign() * 0.1;
        let diff = (a - expected).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "first step differs by {diff}");
    }
}

#[test]
fn freezing_keeps_frozen_weights_bit_identical() {
    let _torch = torch_lock();
    let (vs, net) = build(2);
    let frozen_before = vs.variables()["a.weight"].copy();
    let mut opt = AdamW::new(&vs, AdamWConfig::default(), |n| n.starts_with("b."));
    train(&vs, &net, &mut opt, 0, 5);
    assert!(vs.variables()["a.weight"].equal(&frozen_before));
    assert_eq!(opt.trainable().count(), 2);
}

#[test]
fn resume_from_checkpoint_is_bit_identical() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().unwrap();
    // Uninterrupted: 10 steps.
    let (vs_a, net_a) = build(3);
    let mut opt_a = AdamW::new(&vs_a, AdamWConfig::default(), |_| true);
    train(&vs_a, &net_a, &mut opt_a, 0, 10);
    // Interrupted after 4: save weights + optimiser, rebuild from a different init, load, finish.
    let (vs_b, net_b) = build(3);
    let mut opt_b = AdamW::new(&vs_b, AdamWConfig::default(), |_| true);
    train(&vs_b, &net_b, &mut opt_b, 0, 4);
    ckpt::save_var_store(&vs_b, &dir.path().join("m.safetensors")).unwrap();
    opt_b.save(&dir.path().join("o.safetensors")).unwrap();
    let (mut vs_c, net_c) = build(99);
    ckpt::load_var_store(&mut vs_c, &dir.path().join("m.safetensors"), false).unwrap();
    let mut opt_c = AdamW::new(&vs_c, AdamWConfig::default(), |_| true);
    opt_c.load(&dir.path().join("o.safetensors")).unwrap();
    assert_eq!(opt_c.steps(), 4);
    train(&vs_c, &net_c, &mut opt_c, 4, 10);
    for ((n, a), (_, c)) in ckpt::named_variables(&vs_a)
        .iter()
        .zip(ckpt::named_variables(&vs_c))
    {
        assert!(a.equal(&c), "{n} differs after resume");
    }
}

#[test]
fn ema_follows_its_recurrence() {
    let _torch = torch_lock();
    let (vs, net) = build(4);
    let w0 = vs.variables()["b.bias"].copy();
    let mut ema = Ema::new(&vs, 0.9);
    let mut opt = AdamW::new(&vs, AdamWConfig::default(), |_| true);
    train(&vs, &net, &mut opt, 0, 1);
    let w1 = vs.variables()["b.bias"].copy();
    ema.update(&vs);
    let expected = &w0 * 0.9 + &w1 * 0.1;
    let got = ema
        .tensors()
        .iter()
        .find(|(n, _)| n == "b.bias")
        .unwrap()
        .1
        .copy();
    assert!((got - expected).abs().max().double_value(&[]) < 1e-7);
}

#[test]
fn broken_checkpoints_are_named_errors() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().unwrap();
    let (mut vs, _net) = build(5);
    // Not a safetensors file.
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"definitely not safetensors").unwrap();
    let e = ckpt::load_var_store(&mut vs, &junk, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("junk.safetensors") && e.contains("safetensors"),
        "{e}"
    );
    // Wrong shape.
    let bad = dir.path().join("bad.safetensors");
    let mut t = ckpt::named_variables(&vs);
    t[0].1 = Tensor::zeros([2, 2], (Kind::Float, Device::Cpu));
    let name = t[0].0.clone();
    ckpt::save_tensors(&bad, &t).unwrap();
    let e = ckpt::load_var_store(&mut vs, &bad, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&name) && e.contains("shape"), "{e}");
    // NaN values.
    let nan = dir.path().join("nan.safetensors");
    let mut t = ckpt::named_variables(&vs);
    t[1].1 = t[1].1.full_like(f64::NAN);
    ckpt::save_tensors(&nan, &t).unwrap();
    let e = ckpt::load_var_store(&mut vs, &nan, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("NaN"), "{e}");
    // Missing file.
    let e = ckpt::load_var_store(&mut vs, &dir.path().join("none.safetensors"), false).unwrap_err();
    assert!(e.to_string().contains("none.safetensors"));
}

#[test]
fn same_seed_same_init() {
    let _torch = torch_lock();
    let (a, _) = build(6);
    let (b, _) = build(6);
    let (c, _) = build(7);
    let va = ckpt::named_variables(&a);
    assert!(
        va.iter()
            .zip(ckpt::named_variables(&b))
            .all(|((_, x), (_, y))| x.equal(&y))
    );
    assert!(
        !va.iter()
            .zip(ckpt::named_variables(&c))
            .all(|((_, x), (_, y))| x.equal(&y))
    );
}
