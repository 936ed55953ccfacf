//! Write a synthetic dataset, read it back, and check every error path.

use avwm_core::{Action, BinauralAudio, Pose, RgbImage, Seed};
use avwm_data::media::{encode_png, encode_wav};
use avwm_data::{
    AggregatedAction, AudioEncoding, DataError, Dataset, DatasetInfo, EpisodeHeader, Filter,
    FrameRecord, MotionPattern, Prefetch, ShardWriter, Split, StatsBuilder, WindowConfig,
    WindowSampler,
};
use std::path::Path;
use std::sync::Arc;

fn frame(ep: u64, k: u32, pose: Pose, action: Option<Action>) -> FrameRecord {
    let mut img = RgbImage::new(8, 6);
    for (i, b) in img.data.iter_mut().enumerate() {
        *b = (i as u64 * 7 + ep * 13 + u64::from(k)) as u8;
    }
    let left: Vec<f32> = (0..2400)
        .map(|i| ((i as f32) * 0.01 + k as f32).sin() * 0.1)
        .collect();
    let audio = BinauralAudio {
        sample_rate_hz: 16_000,
        right: left.iter().map(|x| x * 0.5).collect(),
        left,
    };
    FrameRecord {
        step: k,
        action,
        pose,
        png: encode_png(&img).unwrap(),
        wav: encode_wav(&audio, AudioEncoding::Float32).unwrap(),
        geodesic_m: 5.0 - 0.15 * k as f32,
        reward: if k == 0 { 0.0 } else { 0.14 },
        distance_reduction_m: if k == 0 { 0.0 } else { 0.15 },
        collided: false,
    }
}

/// An episode walking forward along the heading with a left turn every 5th step.
fn episode(ep: u64, n: u32) -> Vec<FrameRecord> {
    let mut pose = Pose::new(1.0, 2.0, 0.3 * ep as f32);
    let mut out = vec![frame(ep, 0, pose, None)];
    for k in 1..n {
        let a = if k % 5 == 0 {
            Action::TurnLeft
        } else {
            Action::Forward
        };
        pose = match a {
            Action::TurnLeft => Pose::new(pose.x, pose.y, pose.yaw + 10f32.to_radians()),
            _ => Pose::new(
                pose.x + 0.15 * pose.yaw.cos(),
                pose.y + 0.15 * pose.yaw.sin(),
                pose.yaw,
            ),
        };
        out.push(frame(ep, k, pose, Some(a)));
    }
    out
}

fn header(ep: u64, split: Split, pattern: MotionPattern) -> EpisodeHeader {
    EpisodeHeader {
        episode_id: ep,
        scene_id: format!("scene-{}", ep / 2),
        scene_seed: ep / 2,
        split,
        pattern,
        episode_seed: 1000 + ep,
        goal_xy: [3.0, 4.0],
    }
}

/// Writes 4 episodes: 0,1 train (2 shards), 2 validation, 3 test.
fn write_dataset(dir: &Path) {
    let plan = [
        (
            "data/train-00000-of-00002.parquet",
            Split::Train,
            vec![(0, 40, MotionPattern::SourceToGoal)],
        ),
        (
            "data/train-00001-of-00002.parquet",
            Split::Train,
            vec![(1, 25, MotionPattern::StartToSource)],
        ),
        (
            "data/validation-00000-of-00001.parquet",
            Split::Validation,
            vec![(2, 12, MotionPattern::RandomToRandom)],
        ),
        (
            "data/test-00000-of-00001.parquet",
            Split::Test,
            vec![(3, 3, MotionPattern::RandomToRandom)],
        ),
    ];
    let (mut shards, mut splits, mut stats) = (Vec::new(), Vec::new(), StatsBuilder::new());
    for (rel, split, eps) in plan {
        let mut w = ShardWriter::create(dir, rel, 16_000).unwrap();
        assert!(!dir.join(rel).exists(), "not visible before finish");
        for (ep, n, pat) in eps {
            let h = header(ep, split, pat);
            let frames = episode(ep, n);
            w.write_episode(&h, &frames).unwrap();
            let rows: Vec<_> = frames
                .into_iter()
                .map(|frame| avwm_data::RawRow {
                    header: h.clone(),
                    frame,
                })
                .collect();
            stats.add_rows(&rows);
        }
        shards.push(w.finish().unwrap());
        splits.push(split);
    }
    let info = DatasetInfo::new(
        "test",
        16_000,
        [8, 6],
        serde_json::json!({"seed": 1}),
        shards,
        &splits,
        stats.finish(),
    );
    info.write(dir).unwrap();
}

fn read_all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn round_trip_random_access_and_stats() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset(tmp.path());
    let ds = Dataset::open(tmp.path()).unwrap();
    assert_eq!(ds.episodes().len(), 4);
    let stats = &ds.info().statistics;
    assert_eq!(stats.all.frames, 40 + 25 + 12 + 3);
    assert_eq!(stats.splits["train"].episodes, 2);
    assert_eq!(stats.splits["train"].pattern_share["source_to_goal"], 0.5);
    assert_eq!(stats.all.length_frames.max, 40.0);
    assert_eq!(stats.all.length_frames.min, 3.0);
    assert_eq!(stats.all.length_frames.mean, 80.0 / 4.0);
    assert_eq!(
        ds.info().splits["train"].scenes,
        vec!["scene-0".to_string()]
    );
    // Every frame reads back exactly as written.
    for ep in 0..4u64 {
        let n = ds.episode(ep).unwrap().entry.frames as u32;
        let want = episode(ep, n);
        let got = ds.episode_frames(ep).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.pose, w.pose);
            assert_eq!(g.action, w.action);
            assert_eq!(avwm_data::media::encode_png(&g.rgb).unwrap(), w.png);
            assert_eq!(g.audio.left.len(), 2400);
        }
        // Single-frame random access equals the full read.
        let k = (n as usize - 1) / 2;
        assert_eq!(ds.frame(ep, k).unwrap(), got[k]);
    }
    assert!(matches!(ds.frame(9, 0), Err(DataError::NoSuchEpisode(9))));
    assert!(matches!(ds.frame(3, 3), Err(DataError::NoSuchFrame { .. })));
}

#[test]
fn writing_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_dataset(a.path());
    write_dataset(b.path());
    let (fa, fb) = (read_all_bytes(a.path()), read_all_bytes(b.path()));
    assert_eq!(
        fa.len(),
        5,
        "4 shards + info.json, no temporaries left: {:?}",
        fa.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(fa, fb);
}

#[test]
fn windows_filters_shuffle_and_prefetch() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset(tmp.path());
    let ds = Arc::new(Dataset::open(tmp.path()).unwrap());
    let cfg = WindowConfig::default();
    let train = WindowSampler::new(&ds, &Filter::split(Split::Train), cfg, Seed(5)).unwrap();
    // Anchors t = 3..n for each train episode: (40 − 3) + (25 − 3).
    assert_eq!(train.len(), 37 + 22);
    let pat = Filter {
        splits: None,
        patterns: Some(vec![MotionPattern::RandomToRandom]),
    };
    let rr = WindowSampler::new(&ds, &pat, cfg, Seed(5)).unwrap();
    assert_eq!(
        rr.len(),
        9,
        "12-frame episode only (the 3-frame one has no full context)"
    );
    // Seeded shuffling: a permutation, reproducible, epoch-dependent.
    let o = train.epoch_order(0);
    let mut sorted = o.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..train.len()).collect::<Vec<_>>());
    assert_eq!(o, train.epoch_order(0));
    assert_ne!(o, train.epoch_order(1));
    // Window content: context is t−3..=t, targets within ±16 and inside the episode, and the
    // aggregated action is the target pose seen from the current pose.
    for i in 0..train.len() {
        let w = train.window(&ds, i, 0).unwrap();
        assert_eq!(
            w.context.iter().map(|f| f.step).collect::<Vec<_>>(),
            (w.t - 3..=w.t).collect::<Vec<_>>()
        );
        assert_eq!(w.targets.len(), 4);
        let now = w.context[3].pose;
        for t in &w.targets {
            assert!(t.dt != 0 && t.dt.abs() <= 16);
            assert_eq!(t.frame.step as i64, w.t as i64 + i64::from(t.dt));
            let a = t.action;
            // Rotating back must give the world displacement.
            let (s, c) = now.yaw.sin_cos();
            let (dx, dy) = (
                c * a.forward_m - s * a.left_m,
                s * a.forward_m + c * a.left_m,
            );
            assert!(
                (now.x + dx - t.frame.pose.x).abs() < 1e-4
                    && (now.y + dy - t.frame.pose.y).abs() < 1e-4
            );
        }
    }
    // Straight walk, no turn in between: 3 forward steps = 0.45 m ahead, 0 left, 0 rotation.
    let a = AggregatedAction::between(
        Pose::new(1.0, 1.0, 0.7),
        Pose::new(1.0 + 0.45 * 0.7f32.cos(), 1.0 + 0.45 * 0.7f32.sin(), 0.7),
    );
    assert!((a.forward_m - 0.45).abs() < 1e-5 && a.left_m.abs() < 1e-5 && a.yaw_rad.abs() < 1e-6);
    // Prefetch yields the same windows in the same order as the sequential path, any worker count.
    let seq: Vec<_> = train
        .epoch_order(2)
        .iter()
        .map(|&i| train.window(&ds, i, 2).unwrap())
        .collect();
    let sampler = Arc::new(train);
    for workers in [1, 3] {
        let got: Vec<_> = Prefetch::spawn(ds.clone(), sampler.clone(), 2, workers, 4)
            .map(|w| w.unwrap())
            .collect();
        assert_eq!(got, seq);
    }
    // Dropping a prefetch early must not hang.
    let mut p = Prefetch::spawn(ds.clone(), sampler, 3, 2, 1);
    assert!(p.next().is_some());
    drop(p);
}

#[test]
fn clear_errors_for_bad_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert!(matches!(
        Dataset::open(dir),
        Err(DataError::MissingInfo { .. })
    ));
    write_dataset(dir);
    let info_path = dir.join("info.json");
    let good = std::fs::read_to_string(&info_path).unwrap();
    // Another format version.
    std::fs::write(
        &info_path,
        good.replacen("\"format_version\": 1", "\"format_version\": 99", 1),
    )
    .unwrap();
    let e = Dataset::open(dir).unwrap_err();
    assert!(matches!(e, DataError::Version { .. }), "{e}");
    assert!(e.to_string().contains("99"));
    // Not JSON.
    std::fs::write(&info_path, "{ not json").unwrap();
    assert!(matches!(Dataset::open(dir), Err(DataError::BadInfo { .. })));
    std::fs::write(&info_path, &good).unwrap();
    // Truncated shard.
    let shard = dir.join("data/test-00000-of-00001.parquet");
    let bytes = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, &bytes[..bytes.len() / 2]).unwrap();
    let e = Dataset::open(dir).unwrap_err();
    assert!(matches!(e, DataError::Parquet { .. }), "{e}");
    // Not Parquet at all.
    std::fs::write(&shard, b"hello world, definitely not parquet").unwrap();
    assert!(matches!(Dataset::open(dir), Err(DataError::Parquet { .. })));
    // A valid Parquet file written by someone else.
    {
        use arrow_array::{Int32Array, RecordBatch};
        let batch =
            RecordBatch::try_from_iter([("a", Arc::new(Int32Array::from(vec![1, 2])) as _)])
                .unwrap();
        let f = std::fs::File::create(&shard).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let e = Dataset::open(dir).unwrap_err();
    assert!(matches!(e, DataError::Foreign { .. }), "{e}");
    // Missing shard.
    std::fs::remove_file(&shard).unwrap();
    assert!(matches!(Dataset::open(dir), Err(DataError::Io { .. })));
}

/// Hugging Face `datasets`, pandas and pyarrow open the folder with no avwm code.
#[test]
fn python_ecosystem_opens_it() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset(tmp.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check_dataset.py");
    match avwm_data_test_python() {
        None => eprintln!(
            "SKIPPED: no python with pyarrow, pandas, datasets, soundfile, librosa, PIL (set AVWM_PYTHON)"
        ),
        Some(py) => {
            let out = std::process::Command::new(py)
                .arg(&script)
                .arg(tmp.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            eprintln!("{}", String::from_utf8_lossy(&out.stdout));
        }
    }
}

fn avwm_data_test_python() -> Option<String> {
    let candidates = [
        std::env::var("AVWM_PYTHON").ok(),
        Some("/tmp/avwm-data-venv/bin/python".into()),
        Some("python3".into()),
    ];
    candidates.into_iter().flatten().find(|py| {
        std::process::Command::new(py)
            .args([
                "-c",
                "import pyarrow, pandas, datasets, soundfile, librosa, PIL",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}
