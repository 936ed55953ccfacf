//! `avwm train | predict | model info` end to end on a shrunken `tiny` dataset, its tiny
//! tokenizers and latent cache.

mod common;

use common::{avwm, ok, read_json, stdout_json as json};

#[test]
fn train_all_stages_resume_and_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s).to_str().unwrap().to_string();
    let (cache, vt, at) = common::tiny_cache(tmp.path(), 3, 12, 3);

    // Three stages in one call.
    let model = p("run/stage3");
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--preset",
            "tiny",
            "--data",
            &cache as &str,
            "--run",
        ];
        args.extend_from_slice(extra);
        avwm(&args)
    };
    let out = train(&[&p("run"), "--steps", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for stage in ["stage1", "stage2", "stage3"] {
        for f in [
            "config.json",
            "log.jsonl",
            "model.safetensors",
            "model.json",
            "summary.json",
        ] {
            assert!(
                tmp.path().join("run").join(stage).join(f).is_file(),
                "{stage}/{f}"
            );
        }
    }
    let s = read_json(&tmp.path().join("run/train-summary.json"));
    assert_eq!(s.as_array().unwrap().len(), 3);
    assert_eq!(s[1]["stage"], "two");
    assert!(s[1]["trainable_parameters"].as_i64() < s[1]["parameters"].as_i64());
    // Raising --steps resumes the stage from its checkpoint.
    let out = train(&[&p("run"), "--stage", "3", "--steps", "5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = read_json(&tmp.path().join("run/stage3/summary.json"));
    assert_eq!(
        (s["steps"].as_u64(), s["resumed_from"].as_u64()),
        (Some(5), Some(3))
    );
    // Baselines and ablations train in one joint stage; asking for stage 1 is an error.
    let out = train(&[
        &p("vis"),
        "--variant",
        "vision-only",
        "--stage",
        "1",
        "--steps",
        "2",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("joint"));
    let out = train(&[&p("aud"), "--variant", "audio-only", "--steps", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("aud/joint/model.safetensors").is_file());
    // A broken cache is named.
    let out = avwm(&[
        "train",
        "--preset",
        "tiny",
        "--data",
        &p("ds"),
        "--run",
        &p("x"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("latent cache"));

    // Fixed-step and rollout predictions write images, audio and a report.
    let predict_args = |extra: &[&str], out: &str| -> Vec<String> {
        let o = p(out);
        let mut args = vec![
            "predict",
            "--model",
            &model as &str,
            "--data",
            &cache,
            "--split",
            "train",
            "--visual-tokenizer",
            &vt,
            "--audio-tokenizer",
            &at,
            "--sampler-steps",
            "3",
            "--out",
            &o,
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect()
    };
    let predict = |extra: &[&str], out: &str| {
        let args = predict_args(extra, out);
        json(&ok(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let r = predict(&["--dt", "2"], "fixed");
    assert_eq!(r["mode"], "fixed-step");
    let f = &r["frames"][0];
    assert!(f["predicted_reward_m"].as_f64().unwrap().is_finite());
    assert!(f["true_reward_m"].as_f64().unwrap().is_finite());
    for k in ["image", "audio", "truth_image"] {
        assert!(
            tmp.path()
                .join("fixed")
                .join(f[k].as_str().unwrap())
                .is_file(),
            "{k}"
        );
    }
    let r = predict(
        &[
            "--actions",
            "forward,left,right",
            "--rollout-context",
            "latent",
        ],
        "roll",
    );
    assert_eq!(r["frames"].as_array().unwrap().len(), 3);
    assert!(tmp.path().join("roll/pred-03.wav").is_file());
    let again = predict(
        &[
            "--actions",
            "forward,left,right",
            "--rollout-context",
            "latent",
        ],
        "roll2",
    );
    assert_eq!(
        std::fs::read(tmp.path().join("roll/pred-03.png")).unwrap(),
        std::fs::read(tmp.path().join("roll2/pred-03.png")).unwrap(),
        "same seed, different prediction"
    );
    assert_eq!(
        again["frames"][2]["predicted_reward_m"],
        r["frames"][2]["predicted_reward_m"]
    );

    // Impossible requests are refused, naming the cache and what is missing.
    let refused = |extra: &[&str]| {
        let args = predict_args(extra, "refused");
        let out = avwm(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(!out.status.success(), "{extra:?} was accepted");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = refused(&["--step", "100000"]);
    assert!(
        e.contains("has no step 100000") && e.contains(&cache),
        "{e}"
    );
    let e = refused(&["--step", "1"]);
    assert!(e.contains("frames of context"), "{e}");
    let e = refused(&["--dt", "100000"]);
    assert!(e.contains("is not a recorded step"), "{e}");
    let e = refused(&["--dt", "1", "--actions", "forward"]);
    assert!(e.contains("either --dt"), "{e}");
    let e = refused(&["--actions", "forward,jump"]);
    assert!(e.contains("`jump`"), "{e}");

    let info = json(&ok(&["model", "info", "--preset", "tiny", "--no-experts"]));
    assert!(info["parameters"].as_i64().unwrap() > 0);
    assert!(info["parameters_by_group"]["blocks.mlp"].as_i64().unwrap() > 0);
    assert!(info["gflops_forward_per_sample"].as_f64().unwrap() > 0.0);
}

/// The vision-only baseline continued from the full model's stage 1 (`--share-stage1`) is the
/// same optimisation as that stage 1 run on: after 2 shared and 2 further steps its weights equal,
/// bit for bit, those of a stage 1 trained for 4 steps, with the audio side left out.
#[test]
fn vision_only_continues_stage_one() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s).to_str().unwrap().to_string();
    let (cache, _, _) = common::tiny_cache(tmp.path(), 3, 12, 2);
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "--preset", "tiny", "--data", &cache as &str];
        args.extend_from_slice(extra);
        avwm(&args)
    };
    let check = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    };
    check(train(&["--run", &p("s2"), "--stage", "1", "--steps", "2"]));
    check(train(&["--run", &p("s4"), "--stage", "1", "--steps", "4"]));
    let vis = |run: &str, extra: &[&str]| {
        let mut args = vec!["--run", run, "--variant", "vision-only", "--steps", "4"];
        args.extend_from_slice(extra);
        train(&args)
    };
    let out = check(vis(&p("vis"), &["--share-stage1", &p("s2")]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("continues stage 1"));
    let summary = read_json(&tmp.path().join("vis/joint/summary.json"));
    assert_eq!(
        (summary["steps"].as_u64(), summary["resumed_from"].as_u64()),
        (Some(4), Some(2))
    );
    let meta = read_json(&tmp.path().join("vis/joint/model.json"));
    assert_eq!(meta["config"]["variant"], "vision-only");
    let load = |f: &str| tch::Tensor::read_safetensors(tmp.path().join(f)).unwrap();
    for file in [
        "model.safetensors",
        "ckpt/model.safetensors",
        "ckpt/ema.safetensors",
    ] {
        let full = load(&format!("s4/stage1/{file}"));
        let vision = load(&format!("vis/joint/{file}"));
        let audio_side =
            |k: &str| k.starts_with("aud.") || k.starts_with("rew.") || k.contains(".mlp_aud.");
        let kept: Vec<_> = full.iter().filter(|(k, _)| !audio_side(k)).collect();
        assert!(
            kept.len() < full.len(),
            "{file}: the full model has an audio side"
        );
        assert_eq!(kept.len(), vision.len(), "{file}");
        for (k, t) in kept {
            let (_, v) = vision.iter().find(|(n, _)| n == k).expect("same names");
            assert!(t.equal(v), "{file}: {k} differs");
        }
    }
    // Re-running is a no-op resume; other sources and settings are refused.
    check(vis(&p("vis"), &["--share-stage1", &p("s2")]));
    let out = vis(&p("vis"), &["--share-stage1", &p("s4")]);
    assert!(!out.status.success(), "another source");
    let out = vis(&p("v2"), &["--share-stage1", &p("s2"), "--contexts", "3"]);
    assert!(!out.status.success(), "other settings");
    assert!(String::from_utf8_lossy(&out.stderr).contains("other settings"));
    let out = vis(&p("v3"), &["--share-stage1", &p("nowhere")]);
    assert!(!out.status.success(), "no stage 1");
    let out = train(&[
        "--run",
        &p("v4"),
        "--variant",
        "audio-only",
        "--share-stage1",
        &p("s2"),
    ]);
    assert!(!out.status.success(), "audio-only cannot share");
}
