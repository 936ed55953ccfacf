//! `avwm eval` (fixed-step, rollout, counterfactual) and `avwm report` end to end on a shrunken
//! `tiny` dataset, its tiny tokenizers, latent cache and world models.

mod common;

use common::{avwm, ok, read_json};
use serde_json::{Value, json};
use std::path::Path;

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

/// Writes a copy of `src` (an eval.json) posing as model `kind` in `mode` with the given metric
/// means (std 0), for testing the report's claims.
fn fake_eval(
    src: &Value,
    dir: &Path,
    (variant, stage, experts): (&str, &str, bool),
    mode: &str,
    means: &[(&str, f64)],
) {
    let mut s = src.clone();
    s["model"]["variant"] = json!(variant);
    s["model"]["stage"] = json!(stage);
    s["model"]["experts"] = json!(experts);
    s["config"]["mode"] = json!(mode);
    s["sheets"] = json!([]);
    for (m, v) in means {
        s["metrics"][*m] = json!({"status": "computed", "mean": v, "std": 0.0, "runs": [v], "per_horizon": [[v, 0.0]]});
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("eval.json"), serde_json::to_vec(&s).unwrap()).unwrap();
}

#[test]
fn eval_fixed_rollout_counterfactual_and_report() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s).to_str().unwrap().to_string();
    let (cache, vt, at) = common::tiny_cache(tmp.path(), 4, 14, 2);
    ok(&[
        "train",
        "--preset",
        "tiny",
        "--data",
        &cache,
        "--run",
        &p("run"),
        "--steps",
        "2",
    ]);
    // The no-experts ablation takes the full model's stage 1 (renamed) and trains stages 2, 3.
    ok(&[
        "train",
        "--preset",
        "tiny",
        "--data",
        &cache,
        "--run",
        &p("noexp"),
        "--steps",
        "2",
        "--no-experts",
        "--share-stage1",
        &p("run"),
    ]);
    let meta = read_json(&tmp.path().join("noexp/stage1/model.json"));
    assert_eq!(meta["config"]["experts"], false);
    assert!(tmp.path().join("noexp/stage1/shared_from.json").is_file());
    // The shared FFN is the full model's visual expert, bit for bit; no audio expert is left.
    let full =
        tch::Tensor::read_safetensors(tmp.path().join("run/stage1/model.safetensors")).unwrap();
    let shared =
        tch::Tensor::read_safetensors(tmp.path().join("noexp/stage1/model.safetensors")).unwrap();
    let find = |v: &[(String, tch::Tensor)], n: &str| {
        v.iter()
            .find(|(k, _)| k == n)
            .map(|(_, t)| t.shallow_clone())
    };
    assert!(find(&shared, "blocks.0.mlp_aud.fc1.weight").is_none());
    assert!(find(&shared, "blocks.0.mlp_vis.fc1.weight").is_none());
    assert!(
        find(&full, "blocks.0.mlp_vis.fc1.weight")
            .unwrap()
            .equal(&find(&shared, "blocks.0.mlp.fc1.weight").unwrap())
    );
    assert_eq!(
        full.len(),
        shared.len() + 4 * meta["config"]["depth"].as_u64().unwrap() as usize
    );
    assert!(tmp.path().join("noexp/stage3/model.json").is_file());
    let out = avwm(&[
        "train",
        "--preset",
        "tiny",
        "--data",
        &cache,
        "--run",
        &p("bad"),
        "--steps",
        "2",
        "--share-stage1",
        &p("run"),
    ]);
    assert!(!out.status.success(), "--share-stage1 needs --no-experts");

    let eval = |model: &str, mode: &str, out: &str, extra: &[&str]| {
        let mut args = common::tiny_eval_args(model, &cache, &vt, &at, mode, out);
        args.extend(extra.iter().map(|e| e.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        avwm(&refs)
    };
    let check = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let stage3 = p("run/stage3");
    check(eval(&stage3, "fixed", &p("ev/full-fixed"), &[]));
    let s = read_json(&tmp.path().join("ev/full-fixed/eval.json"));
    let n = s["anchors"].as_u64().unwrap() as usize;
    assert!((1..=3).contains(&n), "anchors {n}");
    for m in [
        "psnr",
        "ssim",
        "lsd",
        "spec_ssim",
        "ild_db",
        "itd_us",
        "doa_deg",
        "reward_mse",
    ] {
        let r = &s["metrics"][m];
        assert_eq!(r["status"], "computed", "{m}");
        assert_eq!(r["runs"].as_array().unwrap().len(), 2, "{m}");
        assert_eq!(r["per_horizon"].as_array().unwrap().len(), 3, "{m}");
        // The table value is the mean of the per-run means.
        let runs: Vec<f64> = r["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mean = r["mean"].as_f64().unwrap();
        assert!((mean - (runs[0] + runs[1]) / 2.0).abs() < 1e-9, "{m}");
    }
    for m in ["lpips", "dreamsim", "fid", "fad"] {
        assert_eq!(s["metrics"][m]["status"], "not-computed", "{m}");
    }
    // References: copying frame t predicts reward 0; the tokenizer ceiling has no reward.
    assert_eq!(
        s["references"]["copy-frame-t"]["psnr"]["status"],
        "computed"
    );
    assert_eq!(
        s["references"]["tokenizer"]["reward_mse"]["status"],
        "not-produced"
    );
    assert_eq!(
        lines(&tmp.path().join("ev/full-fixed/samples.jsonl")),
        2 * n * 3
    );
    assert!(tmp.path().join("ev/full-fixed/plots/psnr.png").is_file());
    assert_eq!(s["sheets"].as_array().unwrap().len(), 1);
    assert!(
        tmp.path()
            .join("ev/full-fixed")
            .join(s["sheets"][0].as_str().unwrap())
            .is_file()
    );
    // Same seed, same bytes.
    check(eval(&stage3, "fixed", &p("again"), &["--no-references"]));
    assert_eq!(
        std::fs::read(tmp.path().join("ev/full-fixed/samples.jsonl")).unwrap(),
        std::fs::read(tmp.path().join("again/samples.jsonl")).unwrap()
    );
    // Rollout of the stage-1 model: vision only, audio and reward ∅.
    check(eval(
        &p("run/stage1"),
        "rollout",
        &p("ev/s1-rollout"),
        &["--no-references"],
    ));
    let r = read_json(&tmp.path().join("ev/s1-rollout/eval.json"));
    assert_eq!(r["model"]["stage"], "one");
    assert_eq!(r["metrics"]["psnr"]["status"], "computed");
    assert_eq!(r["metrics"]["lsd"]["status"], "not-produced");
    assert_eq!(r["metrics"]["reward_mse"]["status"], "not-produced");
    check(eval(&stage3, "rollout", &p("ev/full-rollout"), &[]));
    // Counterfactual: every alternative re-simulated from the saved state.
    check(eval(&stage3, "counterfactual", &p("ev/full-cf"), &[]));
    let c = read_json(&tmp.path().join("ev/full-cf/eval.json"));
    let cf = &c["counterfactual"];
    assert_eq!(cf["contexts"].as_u64().unwrap() as usize, n);
    assert_eq!(cf["single"]["alternatives"].as_array().unwrap().len(), 4);
    // The paper's model has no reward head: only the diffused reward token is ranked.
    assert!(cf["single"]["reward_expected_spearman"].is_null());
    assert!(cf["single"]["per_alternative"]["forward"]["reward_expected"].is_null());
    for alt in ["forward", "left", "right", "stop"] {
        let a = &cf["single"]["per_alternative"][alt];
        assert!(a["psnr"].as_f64().unwrap() > 0.0, "{alt}");
        assert!(a["reward_pred"].as_f64().is_some(), "{alt}");
    }
    // Turning in place and pausing do not change the geodesic distance.
    for alt in ["left", "right", "stop", "LLLL", "RRRR"] {
        let g = if alt.len() == 4 && alt.chars().all(|c| c.is_ascii_uppercase()) {
            "sequences"
        } else {
            "single"
        };
        assert_eq!(cf[g]["per_alternative"][alt]["reward_true"], 0.0, "{alt}");
    }
    // Bad input is named.
    let o = eval(&stage3, "sideways", &p("x"), &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("sideways"));
    let o = eval(&p("nope"), "fixed", &p("x"), &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope"));

    // The report from the real evaluations.
    ok(&["report", "--evals", &p("ev"), "--out", &p("report")]);
    let md = std::fs::read_to_string(tmp.path().join("report/report.md")).unwrap();
    for needle in [
        "Table 3",
        "Table 4",
        "Table 5",
        "Table 6",
        "Table 7",
        "not computed",
        "∅",
    ] {
        assert!(md.contains(needle), "{needle}");
    }
    let html = std::fs::read_to_string(tmp.path().join("report/report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert!(
        !html.contains("src=\"figures/"),
        "the HTML embeds its pictures"
    );
    let rj = read_json(&tmp.path().join("report/report.json"));
    assert!(rj["tables"].as_array().unwrap().len() >= 9);
    // The reward agreement of the real evaluations, from their samples.jsonl.
    for mode in ["fixed", "rollout"] {
        let a = &rj["reward_agreement"][format!("av-cdit-{mode}")];
        assert!(a["samples"].as_u64().unwrap() > 0, "{mode}: {a}");
        let r = a["pearson"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&r));
    }
    assert!(md.contains("signs agree"));
    // Claims follow the numbers: fake evaluations with chosen means.
    let base = read_json(&tmp.path().join("ev/full-fixed/eval.json"));
    let f = tmp.path().join("fake");
    for mode in ["fixed", "rollout"] {
        let both = |psnr: f64, lsd: f64, mse: f64| {
            vec![
                ("psnr", psnr),
                ("ssim", 0.5),
                ("lsd", lsd),
                ("spec_ssim", 0.5),
                ("reward_mse", mse),
            ]
        };
        fake_eval(
            &base,
            &f.join(format!("full-{mode}")),
            ("full", "three", true),
            mode,
            &both(20.0, 1.0, 0.5),
        );
        // Vision-only baseline: slightly worse vision -> "at least as good" confirmed.
        fake_eval(
            &base,
            &f.join(format!("vis-{mode}")),
            ("vision-only", "joint", true),
            mode,
            &[("psnr", 19.0), ("ssim", 0.5)],
        );
        // Audio-only baseline better on audio -> "better on audio" not confirmed.
        fake_eval(
            &base,
            &f.join(format!("aud-{mode}")),
            ("audio-only", "joint", true),
            mode,
            &[("lsd", 0.5), ("spec_ssim", 0.6), ("reward_mse", 0.5)],
        );
        // No-experts: worse audio and reward -> experts claim confirmed.
        fake_eval(
            &base,
            &f.join(format!("noexp-{mode}")),
            ("full", "three", false),
            mode,
            &[
                ("psnr", 20.0),
                ("lsd", 2.0),
                ("spec_ssim", 0.4),
                ("reward_mse", 1.0),
            ],
        );
    }
    ok(&[
        "report",
        "--evals",
        f.to_str().unwrap(),
        "--out",
        &p("fake-report"),
    ]);
    let rj = read_json(&tmp.path().join("fake-report/report.json"));
    let verdict = |needle: &str| -> String {
        rj["claims"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["claim"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("claim {needle}"))["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(verdict("vision-only baseline"), "confirmed");
    assert_eq!(verdict("audio-only baseline"), "not confirmed");
    assert_eq!(verdict("Modality experts"), "confirmed");
    assert_eq!(verdict("Stagewise training"), "not testable");
    assert_eq!(verdict("Stage 3"), "not testable");
    // The reading states the ablation's vision against the full model; the time section lists
    // every evaluated model.
    let md = std::fs::read_to_string(tmp.path().join("fake-report/report.md")).unwrap();
    assert!(
        md.contains(
            "fixed: vision w/o modality experts against AV-CDiT: PSNR (dB) 20.000 vs 20.000, SSIM"
        ),
        "{md}"
    );
    let time = &md[md.find("## Time").expect("a time section")..];
    for label in [
        "AV-CDiT (stage 1+2+3) rollout",
        "CDiT (vision only) fixed",
        "w/o modality experts, fixed-step + rollout together",
    ] {
        assert!(time.contains(label), "{label}");
    }
}

#[test]
fn a_model_and_a_cache_of_other_shapes_are_refused_naming_both() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, _, _) = common::tiny_cache(tmp.path(), 3, 6, 2);
    let shipped = |s: &str| {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../models")
            .join(s);
        p.to_str().unwrap().to_string()
    };
    // The shipped model with its own tokenizers, on a cache of the tiny preset.
    let (model, vt, at) = (
        shipped("avcdit-small"),
        shipped("tokenizer-visual"),
        shipped("tokenizer-audio"),
    );
    let model = model.as_str();
    for cmd in [
        vec!["eval", "--mode", "fixed", "--out", "unused"],
        vec!["predict", "--dt", "1", "--out", "unused"],
    ] {
        let mut args = cmd.clone();
        args.extend([
            "--model",
            model,
            "--data",
            &cache,
            "--visual-tokenizer",
            &vt,
            "--audio-tokenizer",
            &at,
        ]);
        let out = common::avwm(&args);
        assert!(!out.status.success(), "{cmd:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        // The shipped model: 16×16 visual latents; the tiny preset's 32×32 images give 4×4.
        assert!(
            err.contains("avcdit-small") && err.contains(&cache) && err.contains("[4, 16, 16]"),
            "{cmd:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
