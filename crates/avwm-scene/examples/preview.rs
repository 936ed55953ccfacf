//! Writes a plan view and an eye-level view of a procedural scene as PPM images (a quick look
//! without the renderer): `cargo run -p avwm-scene --example preview -- <seed> <out-dir>`.

use avwm_geom::{Bvh, Ray, Vec3};
use avwm_scene::procedural::{ProceduralConfig, generate};
use std::io::Write;

fn write_ppm(path: &std::path::Path, w: usize, h: usize, px: &[[f32; 3]]) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(f, "P6\n{w} {h}\n255\n")?;
    for p in px {
        f.write_all(&p.map(|c| (c.clamp(0.0, 1.0).powf(1.0 / 2.2) * 255.0) as u8))?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args.get(1).map_or(Ok(0), |s| s.parse())?;
    let out = std::path::PathBuf::from(args.get(2).map_or("/tmp", String::as_str));
    let t0 = std::time::Instant::now();
    let scene = generate(seed, &ProceduralConfig::default())?;
    println!(
        "{}: {} rooms, {} doors, {} triangles, generated in {:?}",
        scene.name,
        scene.rooms.len(),
        scene.doors.len(),
        scene.mesh.len(),
        t0.elapsed()
    );
    let bvh = Bvh::build(&scene.mesh);
    let shade = |ray: &Ray| -> [f32; 3] {
        let Some(hit) = bvh.cast_ray(ray) else {
            return [1.0, 0.0, 1.0];
        };
        let m = &scene.materials[scene.mesh.material[hit.triangle as usize] as usize];
        let n = scene.mesh.normal(hit.triangle as usize);
        let p = ray.point_at(hit.t);
        let mut light = 0.25f32;
        for l in &scene.lights {
            let d = l.position - p;
            let dist = d.length();
            if dist < 8.0 && bvh.visible(p + n * 1e-3, l.position, 1e-3) {
                light += l.intensity[1] * n.dot(d / dist).max(0.0) / (dist * dist) * 0.5;
            }
        }
        std::array::from_fn(|k| m.visual.color[k] * light + m.visual.emission[k])
    };
    let (lo, hi) = scene.mesh.bounds().ok_or("empty")?;
    let scale = 40.0;
    let (w, h) = (
        ((hi.x - lo.x) * scale) as usize,
        ((hi.y - lo.y) * scale) as usize,
    );
    let plan: Vec<[f32; 3]> = (0..w * h)
        .map(|k| {
            let (i, j) = (k % w, h - 1 - k / w);
            let o = Vec3::new(
                lo.x + (i as f32 + 0.5) / scale,
                lo.y + (j as f32 + 0.5) / scale,
                scene.ceiling_h - 0.1,
            );
            let mut c = shade(&Ray::new(o, Vec3::NEG_Z));
            if (o.truncate() - scene.source.position.truncate()).length() < 0.15 {
                c = [1.0, 0.0, 0.0];
            }
            c
        })
        .collect();
    write_ppm(&out.join(format!("{}-plan.ppm", scene.name)), w, h, &plan)?;
    // Eye-level view from the middle of the source's room towards the source.
    let room =
        avwm_scene::procedural::room_at(&scene, scene.source.position.truncate()).unwrap_or(0);
    let r = &scene.rooms[room];
    let eye = (0.5 * (r.min + r.max)).extend(1.25);
    let fwd = (scene.source.position - eye)
        .with_z(0.0)
        .normalize_or(Vec3::X);
    let right = fwd.cross(Vec3::Z);
    let (w, h) = (256, 256);
    let f = 1.0 / (45f32.to_radians()).tan();
    let view: Vec<[f32; 3]> = (0..w * h)
        .map(|k| {
            let (i, j) = (k % w, k / w);
            let x = (i as f32 + 0.5) / w as f32 * 2.0 - 1.0;
            let y = 1.0 - (j as f32 + 0.5) / h as f32 * 2.0;
            shade(&Ray::new(
                eye,
                (fwd * f + right * x + Vec3::Z * y).normalize(),
            ))
        })
        .collect();
    write_ppm(&out.join(format!("{}-view.ppm", scene.name)), w, h, &view)?;
    Ok(())
}
