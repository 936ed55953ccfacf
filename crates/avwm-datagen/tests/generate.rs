//! End-to-end generation of the `tiny` preset: content invariants, determinism, resumption.

use avwm_core::{Action, SLACK_REWARD};
use avwm_data::{Dataset, MotionPattern, Split};
use avwm_datagen::{GenConfig, Plan, generate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn plan_is_scene_disjoint_6_1_2() {
    let cfg = GenConfig {
        scenes: 76,
        episodes: 4560,
        ..GenConfig::avw4k()
    };
    let plan = Plan::new(&cfg).unwrap();
    let count = |s: Split| plan.scenes.iter().filter(|p| p.split == s).count();
    // 76 × 1/9 = 8.4 → 8 validation, 76 × 2/9 = 16.9 → 17 test, 51 train.
    assert_eq!(
        (
            count(Split::Train),
            count(Split::Validation),
            count(Split::Test)
        ),
        (51, 8, 17)
    );
    let idx: BTreeSet<usize> = plan.scenes.iter().map(|p| p.index).collect();
    assert_eq!(idx.len(), 76, "every scene in exactly one split");
    let eps: u64 = plan
        .scenes
        .iter()
        .map(|p| p.episodes.end - p.episodes.start)
        .sum();
    assert_eq!(eps, 4560);
    assert_eq!(plan, Plan::new(&cfg).unwrap());
}

#[test]
fn tiny_generation_is_valid_deterministic_and_resumable() {
    let cfg = GenConfig::tiny();
    let a = tempfile::tempdir().unwrap();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let summary = generate(&cfg, a.path(), &|_| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(
        calls.into_inner(),
        cfg.episodes,
        "one progress call per episode"
    );
    assert_eq!(summary.shards_written, cfg.episodes);

    // Content.
    let ds = Dataset::open(a.path()).unwrap();
    let info = ds.info();
    let scenes: Vec<BTreeSet<&String>> = ["train", "validation", "test"]
        .iter()
        .map(|s| info.splits[*s].scenes.iter().collect())
        .collect();
    assert!(scenes.iter().all(|s| !s.is_empty()));
    assert!(
        scenes[0].is_disjoint(&scenes[1])
            && scenes[0].is_disjoint(&scenes[2])
            && scenes[1].is_disjoint(&scenes[2])
    );
    let mut patterns = BTreeSet::new();
    for e in ds.episodes() {
        patterns.insert(e.entry.pattern);
        assert!(e.entry.frames >= 2 && e.entry.frames <= cfg.max_frames);
        let rows = ds
            .raw_rows(e.entry.episode_id, 0..e.entry.frames, false)
            .unwrap();
        for (k, r) in rows.iter().enumerate() {
            let f = &r.frame;
            assert!(
                f.geodesic_m <= cfg.max_source_geodesic_m + 0.2,
                "never silent: {}",
                f.geodesic_m
            );
            if k > 0 {
                // Reward = step penalty + geodesic reduction (+10 only for a final successful STOP).
                let prev = rows[k - 1].frame.geodesic_m;
                assert!((f.distance_reduction_m - (prev - f.geodesic_m)).abs() < 1e-5);
                let bonus = f.reward - SLACK_REWARD - f.distance_reduction_m;
                let last = k + 1 == rows.len();
                assert!(
                    bonus.abs() < 1e-4
                        || (last && f.action == Some(Action::Stop) && (bonus - 10.0).abs() < 1e-4)
                );
                if f.action == Some(Action::Forward) || f.action == Some(Action::Stop) {
                    assert!((f.pose.yaw - rows[k - 1].frame.pose.yaw).abs() < 1e-6);
                }
                if f.action == Some(Action::Stop) {
                    assert_eq!(f.pose, rows[k - 1].frame.pose);
                }
            } else {
                assert_eq!(f.action, None);
            }
        }
        if e.entry.pattern == MotionPattern::StartToSource && rows.len() < cfg.max_frames {
            assert!(rows.last().unwrap().frame.geodesic_m < avwm_core::SUCCESS_DISTANCE_M);
        }
    }
    assert_eq!(patterns.len(), 3, "patterns seen: {patterns:?}");
    let actions = &info.statistics.all.action_share;
    assert!(
        actions.values().all(|&s| s > 0.0),
        "every action occurs: {actions:?}"
    );
    let frame = ds.frame(0, 1).unwrap();
    assert_eq!((frame.rgb.width, frame.rgb.height), (32, 32));
    assert_eq!(frame.audio.left.len(), 2400);
    assert!(
        frame.audio.left.iter().any(|s| s.abs() > 0.0),
        "the source is audible"
    );

    // Determinism: a second run in another folder gives the same bytes.
    let b = tempfile::tempdir().unwrap();
    generate(&cfg, b.path(), &|_| {}).unwrap();
    let fa = files(a.path());
    assert_eq!(fa, files(b.path()));
    assert!(fa.keys().all(|k| !k.ends_with(".tmp")));

    // Resumption after a "kill": one shard gone, another half-written temporary left behind,
    // info.json gone. The restart rewrites only the missing shard and ends with the same files.
    let shard = info.shards[1].file.clone();
    let p = b.path().join(&shard);
    std::fs::remove_file(&p).unwrap();
    std::fs::write(
        p.with_file_name(format!(".{}.tmp", p.file_name().unwrap().to_string_lossy())),
        b"PAR1 garbage",
    )
    .unwrap();
    std::fs::remove_file(b.path().join("info.json")).unwrap();
    let s = generate(&cfg, b.path(), &|_| {}).unwrap();
    assert_eq!((s.shards_written, s.shards_skipped), (1, cfg.episodes - 1));
    let mut fb = files(b.path());
    fb.retain(|k, _| !k.ends_with(".tmp"));
    assert_eq!(fa, fb);

    // Another config in the same folder is refused.
    let other = GenConfig { seed: 1, ..cfg };
    assert!(matches!(
        generate(&other, b.path(), &|_| {}),
        Err(avwm_datagen::GenError::ConfigMismatch(_))
    ));
}

#[test]
fn pattern_shares_follow_the_weights_in_every_run_of_episodes() {
    let cfg = GenConfig::avw4k();
    for start in [0u64, 60, 1000] {
        let mut n = [0usize; 3];
        for id in start..start + 60 {
            let p = avwm_datagen::pattern_of(&cfg, id);
            n[MotionPattern::ALL.iter().position(|q| *q == p).unwrap()] += 1;
        }
        // Golden-ratio sequence: each share within ±2 of 20 in any 60 consecutive episodes.
        assert!(n.iter().all(|&c| (18..=22).contains(&c)), "{n:?}");
    }
    let skew = GenConfig {
        pattern_weights: [2.0, 1.0, 0.0],
        ..GenConfig::avw4k()
    };
    let src: usize = (0..300)
        .filter(|&i| avwm_datagen::pattern_of(&skew, i) == MotionPattern::SourceToGoal)
        .count();
    assert!((195..=205).contains(&src), "{src}");
    assert!((0..300).all(|i| avwm_datagen::pattern_of(&skew, i) != MotionPattern::RandomToRandom));
}

#[test]
fn parts_merged_are_byte_identical_to_one_run() {
    use avwm_datagen::{Part, generate_part, merge};
    let cfg = GenConfig::tiny();
    let one = tempfile::tempdir().unwrap();
    generate(&cfg, one.path(), &|_| {}).unwrap();
    let reference = files(one.path());
    let part = |i, n| Part { index: i, count: n };

    // Every machine writes into one shared folder, then `merge` in place.
    let shared = tempfile::tempdir().unwrap();
    let mut scenes = 0;
    for i in 0..2 {
        let s = generate_part(&cfg, shared.path(), part(i, 2), &|_| {}).unwrap();
        assert_eq!(s.shards_written, s.shards.len());
        scenes += s.scenes;
    }
    assert_eq!(scenes, cfg.scenes, "the parts cover every scene once");
    assert!(!shared.path().join("info.json").exists());
    let m = merge(shared.path(), &[], &|_| {}).unwrap();
    assert_eq!((m.parts, m.shards_copied), (2, 0));
    assert_eq!(files(shared.path()), reference);

    // Each machine writes its own folder; `merge` copies the shards into a new one. More parts
    // than scenes leaves some parts empty, which is fine.
    let own: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, d) in own.iter().enumerate() {
        generate_part(&cfg, d.path(), part(i, 4), &|_| {}).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let inputs: Vec<_> = own.iter().map(|d| d.path().to_path_buf()).collect();
    // A part missing is named.
    let e = merge(out.path(), &inputs[..3], &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("3/4"), "{e}");
    let m = merge(out.path(), &inputs, &|_| {}).unwrap();
    assert_eq!(m.parts, 4);
    assert_eq!(files(out.path()), reference);
    // Merging again is a no-op that ends with the same files.
    merge(out.path(), &inputs, &|_| {}).unwrap();
    assert_eq!(files(out.path()), reference);

    // A part of another config is refused; a part given twice is named.
    let other = tempfile::tempdir().unwrap();
    generate_part(
        &GenConfig {
            seed: 9,
            ..cfg.clone()
        },
        other.path(),
        part(0, 4),
        &|_| {},
    )
    .unwrap();
    let mixed = [other.path().to_path_buf(), inputs[1].clone()];
    assert!(matches!(
        merge(tempfile::tempdir().unwrap().path(), &mixed, &|_| {}),
        Err(avwm_datagen::GenError::ConfigMismatch(_))
    ));
    let twice = [inputs[0].clone(), inputs[0].clone()];
    let e = merge(tempfile::tempdir().unwrap().path(), &twice, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("also in"), "{e}");
}

#[test]
fn part_specs_parse_and_refuse_nonsense() {
    use avwm_datagen::Part;
    assert_eq!("3/8".parse::<Part>().unwrap(), Part { index: 3, count: 8 });
    for bad in ["8/8", "1/0", "3", "a/b", "-1/4", ""] {
        assert!(bad.parse::<Part>().is_err(), "{bad}");
    }
}
