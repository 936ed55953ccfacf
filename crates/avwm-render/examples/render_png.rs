//! Renders views of a procedural apartment to PNG files and prints timings.
//!
//! ```text
//! cargo run --release -p avwm-render --example render_png -- [seed] [out_dir] [camera.toml]
//! ```
//! One PNG per room (from the room centre, four headings 90° apart, tiled 2 × 2) is written to
//! `out_dir` (default `target/render_png`); `camera.toml` holds [`CameraConfig`] fields to change.

use avwm_core::{Pose, RgbImage};
use avwm_geom::Bvh;
use avwm_render::{CameraConfig, Renderer};
use avwm_scene::procedural::{ProceduralConfig, generate};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn write_png(path: &Path, img: &RgbImage) -> Result<(), Box<dyn Error>> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut enc = png::Encoder::new(file, img.width, img.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
    enc.write_header()?.write_image_data(&img.data)?;
    Ok(())
}

/// Tiles four equally sized images 2 × 2.
fn tile(imgs: &[RgbImage; 4]) -> RgbImage {
    let (w, h) = (imgs[0].width as usize, imgs[0].height as usize);
    let mut out = RgbImage::new(2 * w as u32, 2 * h as u32);
    for (k, img) in imgs.iter().enumerate() {
        let (ox, oy) = ((k % 2) * w, (k / 2) * h);
        for y in 0..h {
            let src = &img.data[y * w * 3..(y + 1) * w * 3];
            let start = ((oy + y) * 2 * w + ox) * 3;
            out.data[start..start + w * 3].copy_from_slice(src);
        }
    }
    out
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "target/render_png".into()));
    let cfg: CameraConfig = match args.next() {
        Some(path) => toml::from_str(&std::fs::read_to_string(&path)?)?,
        None => CameraConfig::default(),
    };
    std::fs::create_dir_all(&out)?;

    let t = Instant::now();
    let scene = generate(seed, &ProceduralConfig::default())?;
    let gen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let bvh = Arc::new(Bvh::build(&scene.mesh));
    let bvh_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let renderer = Renderer::new(&scene, bvh, &cfg)?;
    let bake_s = t.elapsed().as_secs_f64();
    println!(
        "scene {} ({} triangles, {} rooms, {} lights): generate {gen_s:.3} s, BVH {bvh_s:.3} s, renderer {bake_s:.3} s ({:?})",
        scene.name,
        scene.mesh.len(),
        scene.rooms.len(),
        scene.lights.len(),
        renderer.lightmap_stats()
    );

    let mut frames = 0u32;
    let t = Instant::now();
    for (i, room) in scene.rooms.iter().enumerate() {
        let c = (room.min + room.max) * 0.5;
        let views: [RgbImage; 4] = std::array::from_fn(|k| {
            renderer.render_single_thread(Pose::new(
                c.x,
                c.y,
                k as f32 * std::f32::consts::FRAC_PI_2,
            ))
        });
        frames += 4;
        write_png(
            &out.join(format!("seed{seed}_room{i}_{}.png", room.kind)),
            &tile(&views),
        )?;
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "{frames} frames of {}² on one thread: {:.2} ms/frame (incl. PNG writing), PNGs in {}",
        renderer.config().width,
        1e3 * dt / f64::from(frames),
        out.display()
    );
    Ok(())
}
