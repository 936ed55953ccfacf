//! `avwm acoustics …`: room impulse responses for checking against other simulators.

use crate::common::{Preset, load_scene, parse_floats, write_json};
use anyhow::{Context, Result, bail};
use avwm_audio::binaural::{Hrtf, RenderConfig, render_binaural, render_omni};
use avwm_audio::propagation::shoebox::ShoeboxRoom;
use avwm_audio::propagation::{AcousticScene, AcousticsConfig};
use avwm_audio::{AcousticResponse, PathKind, write_wav};
use avwm_core::{NUM_BANDS, Seed};
use avwm_geom::{Bvh, Vec3};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum AcousticsCmd {
    /// RIR between a source and a listener in a scene: writes OUT (binaural, 2 channels),
    /// OUT with `_omni` (omnidirectional) and a JSON summary beside them.
    Rir {
        /// Scene file (TOML); the procedural scene of --scene-seed if omitted.
        #[arg(long)]
        scene: Option<PathBuf>,
        /// Procedural scene seed (when --scene is not given).
        #[arg(long, default_value_t = 0)]
        scene_seed: u64,
        /// Source position x,y,z (m); the scene's own source if omitted.
        #[arg(long)]
        source: Option<String>,
        #[command(flatten)]
        common: RirArgs,
    },
    /// RIR of a rectangular room `[0,X]×[0,Y]×[0,Z]` (analytic image sources to order 10 + ray-traced tail).
    Shoebox {
        /// Room size X,Y,Z (m).
        #[arg(long, default_value = "6,5,3")]
        size: String,
        /// Absorption of every wall: one value, or 6 values (125 Hz … 4 kHz).
        #[arg(long, default_value = "0.2")]
        absorption: String,
        /// Scattering of every wall: one value, or 6 values.
        #[arg(long, default_value = "0.1")]
        scattering: String,
        /// Source position x,y,z (m).
        #[arg(long, default_value = "4.5,3.5,1.2")]
        source: String,
        #[command(flatten)]
        common: RirArgs,
    },
}

#[derive(Debug, Args)]
pub struct RirArgs {
    /// Listener x,y,z,yaw_deg (yaw counter-clockwise from +x).
    #[arg(long)]
    listener: String,
    /// Output WAV (binaural); `<stem>_omni.wav` and `<stem>.json` are written beside it.
    #[arg(long, default_value = "rir.wav")]
    out: PathBuf,
    /// HRTF: `kemar` (vendored), `spherical` (Brown–Duda), or a path to a SOFA file.
    #[arg(long, default_value = "kemar")]
    hrtf: String,
    /// Seed of the stochastic parts (ray tracing, tail noise).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Parses one value or one per band.
fn parse_bands(s: &str, what: &str) -> Result<[f32; NUM_BANDS]> {
    if s.contains(',') {
        parse_floats::<NUM_BANDS>(s, what)
    } else {
        Ok([parse_floats::<1>(s, what)?[0]; NUM_BANDS])
    }
}

fn load_hrtf(spec: &str) -> Result<Hrtf> {
    Ok(match spec {
        "kemar" => Hrtf::kemar_default().context("loading the vendored KEMAR HRTF")?,
        "spherical" => Hrtf::spherical_head(avwm_core::SAMPLE_RATE_HZ),
        path => Hrtf::from_sofa(path, avwm_core::SAMPLE_RATE_HZ)
            .with_context(|| format!("loading HRTF {path}"))?,
    })
}

#[derive(Debug, Serialize)]
struct RirSummary {
    source: [f32; 3],
    listener: [f32; 4],
    paths_direct: usize,
    paths_transmitted: usize,
    paths_diffracted: usize,
    paths_reflection: usize,
    first_arrival_s: Option<f32>,
    band_centers_hz: [f32; NUM_BANDS],
    /// Energy of the discrete paths per band (free-field 1 m = 1).
    early_energy: [f32; NUM_BANDS],
    /// Energy of the late histogram per band.
    late_energy: [f32; NUM_BANDS],
    rir_samples: usize,
    /// Broadband T20 / T30 from the omnidirectional RIR (s).
    t20_s: Option<f32>,
    t30_s: Option<f32>,
    eyring_rt60_s: Option<[f32; NUM_BANDS]>,
    compute_ms: f64,
}

fn write_outputs(
    resp: &AcousticResponse,
    src: Vec3,
    lis: [f32; 4],
    args: &RirArgs,
    eyring: Option<[f32; NUM_BANDS]>,
    compute_ms: f64,
) -> Result<()> {
    let hrtf = load_hrtf(&args.hrtf)?;
    let rcfg = RenderConfig::default();
    let seed = Seed(args.seed).derive("tail", 0);
    let bin = render_binaural(resp, lis[3].to_radians(), &hrtf, &rcfg, seed);
    let omni = render_omni(resp, &rcfg, seed);
    let fs = avwm_core::SAMPLE_RATE_HZ;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // The WAV writer's errors name the file already.
    write_wav(&args.out, &[&bin.left, &bin.right], fs)?;
    let stem = args
        .out
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("rir");
    let dir = args.out.parent().unwrap_or(Path::new("."));
    let omni_path = dir.join(format!("{stem}_omni.wav"));
    write_wav(&omni_path, &[&omni], fs)?;
    let count = |f: &dyn Fn(&PathKind) -> bool| resp.paths.iter().filter(|p| f(&p.kind)).count();
    let mut early = [0.0; NUM_BANDS];
    for p in &resp.paths {
        for (e, g) in early.iter_mut().zip(p.gain) {
            *e += g * g;
        }
    }
    let mut late = [0.0; NUM_BANDS];
    for b in &resp.late.bins {
        for (e, v) in late.iter_mut().zip(b) {
            *e += v;
        }
    }
    let summary = RirSummary {
        source: src.to_array(),
        listener: lis,
        paths_direct: count(&|k| matches!(k, PathKind::Direct)),
        paths_transmitted: count(&|k| matches!(k, PathKind::Transmitted)),
        paths_diffracted: count(&|k| matches!(k, PathKind::Diffracted { .. })),
        paths_reflection: count(&|k| matches!(k, PathKind::Reflection { .. })),
        first_arrival_s: resp.paths.iter().map(|p| p.delay_s).reduce(f32::min),
        band_centers_hz: avwm_core::BAND_CENTERS_HZ,
        early_energy: early,
        late_energy: late,
        rir_samples: omni.len(),
        t20_s: avwm_audio::dsp::decay::schroeder_rt(&omni, fs as f32, 20.0),
        t30_s: avwm_audio::dsp::decay::schroeder_rt(&omni, fs as f32, 30.0),
        eyring_rt60_s: eyring,
        compute_ms,
    };
    write_json(&dir.join(format!("{stem}.json")), &summary)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

pub fn run(cmd: AcousticsCmd) -> Result<()> {
    match cmd {
        AcousticsCmd::Rir {
            scene,
            scene_seed,
            source,
            common,
        } => {
            let scene = load_scene(scene.as_deref(), scene_seed, Preset::Default)?;
            let lis = parse_floats::<4>(&common.listener, "--listener")?;
            let src = match source {
                Some(s) => Vec3::from_array(parse_floats::<3>(&s, "--source")?),
                None => scene.source.position,
            };
            let t = std::time::Instant::now();
            let bvh = Arc::new(Bvh::build(&scene.mesh));
            let cfg = AcousticsConfig::default();
            let ac = AcousticScene::new(&scene, bvh, &cfg, Seed(common.seed))
                .context("preparing the scene's acoustics")?;
            let resp = ac.response_between(
                src,
                Vec3::new(lis[0], lis[1], lis[2]),
                Seed(common.seed).derive("response", 0),
            );
            write_outputs(
                &resp,
                src,
                lis,
                &common,
                None,
                t.elapsed().as_secs_f64() * 1e3,
            )
        }
        AcousticsCmd::Shoebox {
            size,
            absorption,
            scattering,
            source,
            common,
        } => {
            let size = Vec3::from_array(parse_floats::<3>(&size, "--size")?);
            if size.min_element() <= 0.0 {
                bail!("--size: every dimension must be positive");
            }
            let a = parse_bands(&absorption, "--absorption")?;
            let s = parse_bands(&scattering, "--scattering")?;
            if a.iter().chain(&s).any(|v| !(0.0..=1.0).contains(v)) || a.iter().any(|v| *v >= 1.0) {
                bail!("--absorption must be in [0, 1) and --scattering in [0, 1]");
            }
            let room = ShoeboxRoom {
                size,
                absorption: [a; 6],
                scattering: [s; 6],
            };
            let src = Vec3::from_array(parse_floats::<3>(&source, "--source")?);
            let lis = parse_floats::<4>(&common.listener, "--listener")?;
            let t = std::time::Instant::now();
            let resp = room
                .response(
                    src,
                    Vec3::new(lis[0], lis[1], lis[2]),
                    &AcousticsConfig::default(),
                    Seed(common.seed),
                )
                .context("shoebox response")?;
            write_outputs(
                &resp,
                src,
                lis,
                &common,
                Some(room.eyring_rt60_s()),
                t.elapsed().as_secs_f64() * 1e3,
            )
        }
    }
}
