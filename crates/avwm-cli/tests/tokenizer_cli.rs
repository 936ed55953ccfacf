//! `avwm tokenizer train | eval | encode` end to end on a shrunken `tiny` dataset.

mod common;

use common::avwm;

fn ok(args: &[&str]) -> serde_json::Value {
    common::stdout_json(&common::ok(args))
}

#[test]
fn train_eval_encode_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s).to_str().unwrap().to_string();
    std::fs::write(p("gen.toml"), "episodes = 3\nmax_frames = 12\n").unwrap();
    let (gen_cfg, ds) = (p("gen.toml"), p("ds"));
    let out = avwm(&[
        "data", "generate", "--preset", "tiny", "--config", &gen_cfg, "--out", &ds,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for m in ["visual", "audio"] {
        let run = p(&format!("run-{m}"));
        let s = ok(&[
            "tokenizer",
            "train",
            "--modality",
            m,
            "--data",
            &ds,
            "--run",
            &run,
            "--preset",
            "tiny",
            "--steps",
            "10",
        ]);
        assert_eq!(s["steps"], 10);
        assert!(s["scaling_factor"].as_f64().unwrap() > 0.0);
        // Raising --steps on the same folder resumes from the last checkpoint.
        let s = ok(&[
            "tokenizer",
            "train",
            "--modality",
            m,
            "--data",
            &ds,
            "--run",
            &run,
            "--preset",
            "tiny",
            "--steps",
            "12",
        ]);
        assert_eq!(
            (s["steps"].as_u64(), s["resumed_from"].as_u64()),
            (Some(12), Some(10))
        );
        for f in [
            "config.json",
            "log.jsonl",
            "tokenizer.safetensors",
            "tokenizer.json",
            "summary.json",
        ] {
            assert!(tmp.path().join(format!("run-{m}/{f}")).is_file(), "{f}");
        }
    }

    let v = ok(&[
        "tokenizer",
        "eval",
        "--tokenizer",
        &p("run-visual/tokenizer"),
        "--data",
        &ds,
        "--out",
        &p("ev.json"),
    ]);
    let psnr = v["quality"]["psnr_db"]["mean"].as_f64().unwrap();
    assert!(psnr.is_finite() && psnr > 5.0, "{v}");
    assert_eq!(v["split"], "test");
    assert!(tmp.path().join("ev.json").is_file());
    let a = ok(&[
        "tokenizer",
        "eval",
        "--tokenizer",
        &p("run-audio/tokenizer.json"),
        "--data",
        &ds,
    ]);
    for k in [
        "lsd",
        "spectrogram_ssim",
        "ild_error_db",
        "itd_error_samples",
        "doa_error_deg",
    ] {
        assert!(
            a["quality"][k]["mean"].as_f64().unwrap().is_finite(),
            "{k}: {a}"
        );
    }

    let (vt, at, cache) = (
        p("run-visual/tokenizer"),
        p("run-audio/tokenizer"),
        p("cache"),
    );
    let enc = [
        "tokenizer",
        "encode",
        "--data",
        &ds,
        "--visual",
        &vt,
        "--audio",
        &at,
        "--out",
        &cache,
    ];
    let first = ok(&enc);
    let frames = first["frames"].as_u64().unwrap();
    assert!(frames > 0);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("cache/cache.json")).unwrap())
            .unwrap();
    assert_eq!(meta["format"], "avwm-latents");
    assert_eq!(meta["visual"]["sha256"].as_str().unwrap().len(), 64);
    let bytes = std::fs::read(tmp.path().join("cache/test.safetensors")).unwrap();
    // Re-running resumes: every split is already there, nothing is rewritten.
    let again = ok(&enc);
    assert_eq!(again["frames"].as_u64(), Some(frames));
    assert_eq!(
        std::fs::read(tmp.path().join("cache/test.safetensors")).unwrap(),
        bytes
    );

    // Swapped tokenizers and a broken tokenizer file are clear errors naming the problem.
    let out = avwm(&[
        "tokenizer",
        "encode",
        "--data",
        &ds,
        "--visual",
        &at,
        "--audio",
        &vt,
        "--out",
        &p("c2"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("visual tokenizer"));
    std::fs::write(p("run-audio/tokenizer.json"), "{ not json").unwrap();
    let out = avwm(&["tokenizer", "eval", "--tokenizer", &at, "--data", &ds]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tokenizer.json"));
}
