//! End to end: `avwm agent train` on the `tiny` preset (resumed), then `avwm nav eval` of the
//! agent alone and planning through the oracle, on a fixed episode file, with a paired
//! comparison, Table 8 and the trajectory figures; errors for a reused output folder.

mod common;

use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The records of an evaluation without their timings.
fn records(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("episodes.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("seconds");
            o.remove("plan_seconds");
            v
        })
        .collect()
}

#[test]
fn agent_trains_resumes_and_navigates_alone_and_with_the_oracle() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |x: &str| tmp.path().join(x);
    std::fs::write(p("train.toml"), common::agent_tiny_toml(16, 1)).unwrap();
    let train = |frames: &str| {
        common::stdout_json(&common::ok(&[
            "agent",
            "train",
            "--run",
            s(&p("run")),
            "--config",
            s(&p("train.toml")),
            "--frames",
            frames,
            "--threads",
            "1",
        ]))
    };
    let first = train("32");
    assert_eq!(first["updates"], 2);
    let second = train("48");
    assert_eq!(second["updates"], 3, "the resumed run adds one update");
    let log = std::fs::read_to_string(p("run/log.jsonl")).unwrap();
    let phases: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["phase"].to_string())
        .collect();
    assert_eq!(phases, ["\"dagger\"", "\"ppo\"", "\"ppo\""]);
    assert!(p("run/agent/agent.safetensors").is_file());

    common::ok(&[
        "data",
        "episodes",
        "--preset",
        "tiny",
        "--split",
        "test",
        "--per-scene",
        "2",
        "--min-geodesic",
        "2",
        "--out",
        s(&p("eps.jsonl")),
    ]);
    let nav = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "nav",
            "eval",
            "--agent",
            s(&p("run/agent")).to_string().leak(),
            "--episodes",
            s(&p("eps.jsonl")).to_string().leak(),
            "--limit",
            "2",
            "--max-actions",
            "6",
            "--threads",
            "1",
            "--out",
            s(&p(out)).to_string().leak(),
        ];
        args.extend_from_slice(extra);
        common::avwm(&args)
    };
    let plain = nav("plain", &[]);
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let sp = common::stdout_json(&plain);
    assert_eq!(sp["planner"], "none");
    assert_eq!(sp["episodes"], 2);
    for m in [
        "spl",
        "soft_spl",
        "na",
        "sna",
        "success",
        "distance_to_goal",
    ] {
        assert!(sp["metrics"][m]["mean"].is_number(), "{m}: {sp}");
    }
    let recs = records(&p("plain"));
    assert_eq!(recs.len(), 2);
    for r in &recs {
        let n = r["outcome"]["actions"].as_u64().unwrap();
        assert!((1..=6).contains(&n), "{r}");
        assert_eq!(r["actions"].as_str().unwrap().len() as u64, n);
        assert_eq!(r["trajectory"].as_array().unwrap().len() as u64, n + 1);
    }
    // The same evaluation again, into a new folder: the same episodes, step for step.
    assert!(nav("plain2", &[]).status.success());
    assert_eq!(records(&p("plain2")), recs);

    let planned = nav(
        "oracle",
        &[
            "--planner",
            "oracle",
            "--n",
            "2",
            "--beam",
            "2",
            "--depth",
            "2",
            "--against",
            s(&p("plain")).to_string().leak(),
        ],
    );
    assert!(
        planned.status.success(),
        "{}",
        String::from_utf8_lossy(&planned.stderr)
    );
    let so = common::stdout_json(&planned);
    assert_eq!(so["planner"], "oracle");
    assert_eq!(so["against"]["episodes"], 2);
    assert!(so["against"]["metrics"]["spl"]["diff"]["mean"].is_number());
    assert!(so["plan_seconds_per_step"].as_f64().unwrap() > 0.0);

    // The learned world model (the shipped one) in the planner's place.
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let m = |x: &str| models.join(x).to_str().unwrap().to_string().leak() as &str;
    let learned = nav(
        "wm",
        &[
            "--planner",
            "wm",
            "--n",
            "2",
            "--beam",
            "2",
            "--depth",
            "2",
            "--model",
            m("avwm-small"),
            "--visual-tokenizer",
            m("tokenizer-visual"),
            "--audio-tokenizer",
            m("tokenizer-audio-mdct"),
        ],
    );
    assert!(
        learned.status.success(),
        "{}",
        String::from_utf8_lossy(&learned.stderr)
    );
    let sw = common::stdout_json(&learned);
    assert_eq!(sw["planner"], "avwm-small");
    assert_eq!(sw["episodes"], 2);
    assert!(sw["plan_seconds_per_step"].as_f64().unwrap() > 0.0);

    // Table 8 from the three folders: one row each, the planners compared with the plain agent.
    let table = common::ok(&[
        "nav",
        "table",
        "--evals",
        s(&p("plain")),
        s(&p("oracle")),
        s(&p("wm")),
    ]);
    let md = String::from_utf8_lossy(&table.stdout);
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 4, "{md}");
    assert!(rows[2].contains("| oracle | 2 | 2 | 2 |"), "{md}");
    assert!(rows[2].contains("(p = "), "{md}");

    // Fig. 7: the three agents' paths on the same episodes.
    common::ok(&[
        "nav",
        "plot",
        "--evals",
        s(&p("plain")),
        s(&p("oracle")),
        s(&p("wm")),
        "--episodes",
        s(&p("eps.jsonl")),
        "--out",
        s(&p("fig")),
    ]);
    let figs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("fig/figures.json")).unwrap()).unwrap();
    let figs = figs.as_array().unwrap();
    assert_eq!(figs.len(), 2, "both episodes that all three finished");
    for f in figs {
        assert_eq!(f["paths"].as_array().unwrap().len(), 3);
        let png = std::fs::read(p("fig").join(f["png"].as_str().unwrap())).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
    let legend = std::fs::read_to_string(p("fig/README.md")).unwrap();
    assert!(
        legend.contains("| vermilion |") && legend.contains("| oracle |"),
        "{legend}"
    );

    // The folder of another evaluation is refused, naming its file.
    let clash = nav("plain", &["--policy", "sample"]);
    assert!(!clash.status.success());
    let err = String::from_utf8_lossy(&clash.stderr);
    assert!(err.contains("holds another evaluation"), "{err}");
    // A planner needs sane settings.
    let bad = nav("bad", &["--planner", "oracle", "--n", "9"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("n must be 1–4"));
}
