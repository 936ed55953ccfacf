//! The avwm model design end to end: the spectral audio tokenizer, a latent cache, training with
//! the audio memory, the residual bases and the reward head, resuming, prediction and the
//! fixed-step evaluation against the copy references on the same 16-frame-history anchors.

mod common;

use common::{avwm, ok, read_json};

#[test]
fn avwm_design_trains_predicts_and_evaluates() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s).to_str().unwrap().to_string();
    // Episodes long enough for 16 frames of history and a few future frames.
    let (cache, vt, at) = common::tiny_cache_with(tmp.path(), 3, 30, 2, "mdct-tiny");
    let tok = read_json(&tmp.path().join("tok-audio/tokenizer.json"));
    assert_eq!(tok["arch"]["modality"], "audio_mdct");
    let train = |steps: &str| {
        ok(&[
            "train",
            "--design",
            "avwm",
            "--preset",
            "tiny",
            "--data",
            &cache,
            "--run",
            &p("run"),
            "--steps",
            steps,
        ]);
        read_json(&tmp.path().join("run/train-summary.json"))
    };
    train("2");
    let summary = train("4");
    let meta = read_json(&tmp.path().join("run/head/model.json"));
    assert_eq!(meta["config"]["prediction"], "residual_v");
    assert_eq!(meta["config"]["audio_memory"], 16);
    assert_eq!(meta["config"]["reward_head"], true);
    // The spectral tokenizer's latent: 2 × (5 bands + 160 coefficients) channels per frame,
    // of which the network models the 2 × 5 band levels.
    assert_eq!(meta["config"]["audio_latent_dim"], 330);
    assert_eq!(meta["config"]["audio_dim"], 10);
    assert_eq!(meta["stage"], "head");
    // The joint stage trains the network, then the head stage the reward head; both resume.
    let (joint, head) = (&summary[0], &summary[1]);
    assert_eq!(
        (&joint["stage"], &head["stage"]),
        (&"joint".into(), &"head".into())
    );
    assert_eq!(joint["resumed_from"], 2, "{summary}");
    assert_eq!(head["resumed_from"], 2, "{summary}");
    let val = &joint["val_curve"][0][1];
    assert!(
        val["against_copy"]["visual"][1].as_f64().unwrap() > 0.0,
        "{val}"
    );
    let val = &head["val_curve"][0][1];
    assert!(
        val["terms"]["head_reward_mse"]
            .as_f64()
            .unwrap()
            .is_finite(),
        "{val}"
    );
    // The paper's stagewise recipe is refused for this design, and ablations need it.
    let out = avwm(&[
        "train",
        "--design",
        "avwm",
        "--preset",
        "tiny",
        "--data",
        &cache,
        "--run",
        &p("x"),
        "--stage",
        "1",
    ]);
    assert!(!out.status.success());
    let out = avwm(&[
        "train",
        "--no-memory",
        "--preset",
        "tiny",
        "--data",
        &cache,
        "--run",
        &p("y"),
    ]);
    assert!(!out.status.success());
    // Fixed-step evaluation on anchors with 16 frames of history, with both copy references.
    let model = p("run/head/model");
    ok(&[
        "eval",
        "--model",
        &model,
        "--data",
        &cache,
        "--visual-tokenizer",
        &vt,
        "--audio-tokenizer",
        &at,
        "--mode",
        "fixed",
        "--runs",
        "1",
        "--anchors",
        "2",
        "--horizon",
        "3",
        "--sampler-steps",
        "2",
        "--out",
        &p("eval"),
    ]);
    let e = read_json(&tmp.path().join("eval/eval.json"));
    assert_eq!(e["config"]["history"], 16);
    assert_eq!(e["model"]["design"], "avwm");
    assert_eq!(
        e["metrics"]["reward_head_mse"]["status"], "computed",
        "{}",
        e["metrics"]
    );
    // The head stage's model still predicts both streams.
    for m in ["psnr", "lsd"] {
        assert_eq!(e["metrics"][m]["status"], "computed", "{m}");
    }
    for r in ["copy-frame-t", "copy-aligned", "tokenizer"] {
        assert_eq!(e["references"][r]["lsd"]["status"], "computed", "{r}");
    }
    // The tokenizer ceiling of a lossless tokenizer: LSD ≈ 0.
    let ceiling = e["references"]["tokenizer"]["lsd"]["mean"]
        .as_f64()
        .unwrap();
    assert!(ceiling < 1e-3, "{ceiling}");
    let samples = std::fs::read_to_string(tmp.path().join("eval/samples.jsonl")).unwrap();
    assert!(samples.lines().all(|l| l.contains("\"reward_head\"")));
    // Counterfactual: the reward head's expected reward is ranked beside the reward token.
    ok(&[
        "eval",
        "--model",
        &model,
        "--data",
        &cache,
        "--visual-tokenizer",
        &vt,
        "--audio-tokenizer",
        &at,
        "--mode",
        "counterfactual",
        "--runs",
        "1",
        "--anchors",
        "2",
        "--horizon",
        "4",
        "--sampler-steps",
        "1",
        "--no-references",
        "--out",
        &p("cf"),
    ]);
    let c = read_json(&tmp.path().join("cf/eval.json"));
    let single = &c["counterfactual"]["single"];
    for alt in ["forward", "left", "right", "stop"] {
        let r = single["per_alternative"][alt]["reward_expected"].as_f64();
        assert!(r.is_some_and(f64::is_finite), "{alt}: {single}");
    }
    // Turning in place keeps the geodesic distance: the ranking counts only contexts where the
    // true rewards differ, and its ρ is a correlation.
    if let Some(rho) = single["reward_expected_spearman"]["mean"].as_f64() {
        assert!((-1.0..=1.0).contains(&rho), "{rho}");
    }
}
