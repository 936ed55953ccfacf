//! Throughput of the training reader on a synthetic dataset shaped like `small`/`avw4k`
//! (128×128 images, float32 stereo WAV, 160-frame episodes, one row group per episode).
//!
//! Run: `cargo bench -p avwm-data`.

use avwm_core::{Action, BinauralAudio, Pose, RgbImage, Seed};
use avwm_data::media::{encode_png, encode_wav};
use avwm_data::{
    AudioEncoding, Dataset, DatasetInfo, EpisodeHeader, Filter, FrameRecord, MotionPattern,
    ShardWriter, Split, StatsBuilder, WindowConfig, WindowSampler,
};
use divan::Bencher;
use divan::counter::ItemsCount;
use rand::Rng;
use std::sync::LazyLock;

fn main() {
    divan::main();
}

const EPISODES: u64 = 12;
const FRAMES: u32 = 160;

fn frame(rng: &mut impl Rng, k: u32) -> FrameRecord {
    // Smooth gradients plus a little noise compress like rendered frames (≈ 10–20 kB PNG).
    let mut img = RgbImage::new(128, 128);
    for (i, b) in img.data.iter_mut().enumerate() {
        let (x, y) = ((i / 3) % 128, (i / 3) / 128);
        *b = ((x + y + k as usize) / 2) as u8 ^ (rng.random::<u8>() & 7);
    }
    let left: Vec<f32> = (0..2400).map(|_| rng.random_range(-0.1..0.1)).collect();
    let audio = BinauralAudio {
        sample_rate_hz: 16_000,
        right: left.clone(),
        left,
    };
    FrameRecord {
        step: k,
        action: (k > 0).then_some(Action::Forward),
        pose: Pose::new(0.15 * k as f32, 0.0, 0.0),
        png: encode_png(&img).expect("png"),
        wav: encode_wav(&audio, AudioEncoding::Float32).expect("wav"),
        geodesic_m: 5.0,
        reward: 0.0,
        distance_reduction_m: 0.0,
        collided: false,
    }
}

static DATA: LazyLock<(tempfile::TempDir, Dataset)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Seed(1).rng();
    let mut w = ShardWriter::create(dir.path(), "data/train-00000-of-00001.parquet", 16_000)
        .expect("create");
    let mut stats = StatsBuilder::new();
    for ep in 0..EPISODES {
        let h = EpisodeHeader {
            episode_id: ep,
            scene_id: "s".into(),
            scene_seed: 0,
            split: Split::Train,
            pattern: MotionPattern::RandomToRandom,
            episode_seed: ep,
            goal_xy: [0.0, 0.0],
        };
        let frames: Vec<_> = (0..FRAMES).map(|k| frame(&mut rng, k)).collect();
        w.write_episode(&h, &frames).expect("write");
        let rows: Vec<_> = frames
            .into_iter()
            .map(|frame| avwm_data::RawRow {
                header: h.clone(),
                frame,
            })
            .collect();
        stats.add_rows(&rows);
    }
    let shard = w.finish().expect("finish");
    DatasetInfo::new(
        "bench",
        16_000,
        [128, 128],
        serde_json::json!({}),
        vec![shard],
        &[Split::Train],
        stats.finish(),
    )
    .write(dir.path())
    .expect("info");
    let ds = Dataset::open(dir.path()).expect("open");
    (dir, ds)
});

/// One training window (4 context + 4 targets within ±16, decoded), random anchors (counter: windows).
#[divan::bench(sample_count = 20)]
fn window_4_context_4_targets(bencher: Bencher) {
    let ds = &DATA.1;
    let s = WindowSampler::new(ds, &Filter::default(), WindowConfig::default(), Seed(3))
        .expect("sampler");
    let order = s.epoch_order(0);
    let mut i = 0;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        i = (i + 1) % order.len();
        s.window(ds, order[i], 0).expect("window")
    });
}

/// One random frame, decoded (counter: frames).
#[divan::bench(sample_count = 20)]
fn random_frame(bencher: Bencher) {
    let ds = &DATA.1;
    let mut rng = Seed(4).rng();
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        ds.frame(
            rng.random_range(0..EPISODES),
            rng.random_range(0..FRAMES as usize),
        )
        .expect("frame")
    });
}
