//! Procedural multi-room apartments.
//!
//! [`generate`] turns a seed and a [`ProceduralConfig`] into a [`Scene`]:
//!
//! 1. **Floor plan.** A rectangular footprint (gross area and aspect ratio drawn from the config) is
//!    split recursively (BSP): the chosen cell is cut across its long side, or, with
//!    [`ProceduralConfig::corridor_probability`], a corridor strip is cut along it. Every cut is one
//!    wall centre line; the four outer walls bound the footprint.
//! 2. **Doors.** A random spanning tree of the cell adjacency graph (links to corridors preferred)
//!    guarantees that every room is reachable; other adjacent pairs get an extra door with
//!    [`ProceduralConfig::extra_door_probability`].
//! 3. **Geometry.** Walls are boxes of [`ProceduralConfig::wall_thickness_m`] centred on the
//!    centre lines, cut where the neighbouring room changes (so each face carries the material of
//!    the room it faces) and at doors (jamb faces and a lintel from the door height to the
//!    ceiling). Wall ends overlap the walls they meet, floors and ceilings tile the footprint: the
//!    inside is closed for rays. Furniture stands against walls, never in front of a door or in
//!    the middle of a room. A small table or cabinet in a random room carries a phone, and the
//!    sound source sits 2 cm above the phone's screen.
//! 4. **Annotations.** Rooms (free interiors), doors, the diffracting edges of every door opening
//!    (4 vertical jamb edges and 2 lintel edges, wedge 3π/2) and one point light per room.
//!
//! All randomness comes from ChaCha8 generators seeded by [`Seed::derive`] of `Seed(seed)`: the
//! same seed and configuration give the same scene, bit for bit, on every platform.

mod furnish;
mod plan;

use crate::build::{FaceMats, MeshBuilder, NZ, PZ};
use crate::material::{Material, material_library};
use crate::scene::{
    DiffractionEdge, Door, Light, Room, Scene, SceneError, SceneOrigin, SoundSource,
};
use avwm_core::Seed;
use avwm_geom::{Vec2, Vec3};
use plan::{EPS, Plan, Rect};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Parameters of the procedural generator. Every field has a default (see [`Default`]); a TOML
/// table may override any subset. Ranges are inclusive `min..=max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProceduralConfig {
    /// Fewest rooms, corridors included (default 3).
    pub rooms_min: u32,
    /// Most rooms, corridors included (default 10).
    pub rooms_max: u32,
    /// Smallest gross floor area (m², measured at the outer wall centre lines; default 150).
    /// Matterport3D houses average a few hundred m²; SoundSpaces' continuous scenes ≈ 435 m².
    pub floor_area_min_m2: f32,
    /// Largest gross floor area (m², default 450).
    pub floor_area_max_m2: f32,
    /// Largest footprint aspect ratio, long side / short side (≥ 1, default 1.8).
    pub aspect_max: f32,
    /// Smallest free room width (m, default 2.4): no room is narrower than this between its walls.
    pub min_room_size_m: f32,
    /// Lowest ceiling (m above the floor, default 2.5).
    pub ceiling_height_min_m: f32,
    /// Highest ceiling (m above the floor, default 3.0).
    pub ceiling_height_max_m: f32,
    /// Wall thickness (m, default 0.15, a typical interior partition).
    pub wall_thickness_m: f32,
    /// Narrowest door opening (m, default 0.9).
    pub door_width_min_m: f32,
    /// Widest door opening (m, default 1.0).
    pub door_width_max_m: f32,
    /// Door opening height (m, default 2.1, the usual interior door).
    pub door_height_m: f32,
    /// Probability (0–1) that a split cuts a corridor strip instead of two rooms (default 0.3).
    pub corridor_probability: f32,
    /// Narrowest free corridor width (m, default 1.2).
    pub corridor_width_min_m: f32,
    /// Widest free corridor width (m, default 1.6).
    pub corridor_width_max_m: f32,
    /// Probability (0–1) of a door between two adjacent rooms beyond those that connect all rooms
    /// (default 0.3): loops make navigation and sound paths more varied.
    pub extra_door_probability: f32,
    /// Furniture per metre of wall, roughly (0 = empty rooms, 1 = packed; default 0.8).
    pub furniture_density: f32,
}

impl Default for ProceduralConfig {
    fn default() -> Self {
        ProceduralConfig {
            rooms_min: 3,
            rooms_max: 10,
            floor_area_min_m2: 150.0,
            floor_area_max_m2: 450.0,
            aspect_max: 1.8,
            min_room_size_m: 2.4,
            ceiling_height_min_m: 2.5,
            ceiling_height_max_m: 3.0,
            wall_thickness_m: 0.15,
            door_width_min_m: 0.9,
            door_width_max_m: 1.0,
            door_height_m: 2.1,
            corridor_probability: 0.3,
            corridor_width_min_m: 1.2,
            corridor_width_max_m: 1.6,
            extra_door_probability: 0.3,
            furniture_density: 0.8,
        }
    }
}

impl ProceduralConfig {
    /// A small, fast configuration for tests and demos: 3–5 rooms on 60–100 m².
    pub fn small() -> Self {
        ProceduralConfig {
            rooms_min: 3,
            rooms_max: 5,
            floor_area_min_m2: 60.0,
            floor_area_max_m2: 100.0,
            ..ProceduralConfig::default()
        }
    }

    /// The named preset: `tiny` ([`ProceduralConfig::small`]) or `default`, the same names as
    /// the simulator's presets.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "tiny" => Some(ProceduralConfig::small()),
            "default" => Some(ProceduralConfig::default()),
            _ => None,
        }
    }

    /// Checks that every range is ordered, positive and physically sensible.
    ///
    /// # Errors
    /// [`SceneError::Config`] naming the first bad field.
    pub fn validate(&self) -> Result<(), SceneError> {
        let bad = |msg: String| Err(SceneError::Config(msg));
        let finite = [
            ("floor_area_min_m2", self.floor_area_min_m2),
            ("floor_area_max_m2", self.floor_area_max_m2),
            ("aspect_max", self.aspect_max),
            ("min_room_size_m", self.min_room_size_m),
            ("ceiling_height_min_m", self.ceiling_height_min_m),
            ("ceiling_height_max_m", self.ceiling_height_max_m),
            ("wall_thickness_m", self.wall_thickness_m),
            ("door_width_min_m", self.door_width_min_m),
            ("door_width_max_m", self.door_width_max_m),
            ("door_height_m", self.door_height_m),
            ("corridor_width_min_m", self.corridor_width_min_m),
            ("corridor_width_max_m", self.corridor_width_max_m),
        ];
        for (name, v) in finite {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} = {v} must be a positive number"));
            }
        }
        // Upper bounds: a building, not a city (generation time and memory grow with the floor
        // area and the wall length; found by avwm-fuzz: 2³² m² took seconds).
        for (name, v, max) in [
            (
                "floor_area_max_m2",
                self.floor_area_max_m2,
                MAX_FLOOR_AREA_M2,
            ),
            ("aspect_max", self.aspect_max, MAX_ASPECT),
            (
                "ceiling_height_max_m",
                self.ceiling_height_max_m,
                MAX_LENGTH_M,
            ),
            ("min_room_size_m", self.min_room_size_m, MAX_LENGTH_M),
            ("wall_thickness_m", self.wall_thickness_m, 1.0),
            ("door_width_max_m", self.door_width_max_m, MAX_LENGTH_M),
            ("door_height_m", self.door_height_m, MAX_LENGTH_M),
            (
                "corridor_width_max_m",
                self.corridor_width_max_m,
                MAX_LENGTH_M,
            ),
        ] {
            if v > max {
                return bad(format!("{name} = {v} is above the largest allowed, {max}"));
            }
        }
        for (name, v) in [
            ("corridor_probability", self.corridor_probability),
            ("extra_door_probability", self.extra_door_probability),
            ("furniture_density", self.furniture_density),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} = {v} must be in [0, 1]"));
            }
        }
        let ordered = [
            ("rooms", self.rooms_min as f32, self.rooms_max as f32),
            ("floor_area", self.floor_area_min_m2, self.floor_area_max_m2),
            (
                "ceiling_height",
                self.ceiling_height_min_m,
                self.ceiling_height_max_m,
            ),
            ("door_width", self.door_width_min_m, self.door_width_max_m),
            (
                "corridor_width",
                self.corridor_width_min_m,
                self.corridor_width_max_m,
            ),
        ];
        for (name, lo, hi) in ordered {
            if lo > hi {
                return bad(format!(
                    "{name}_min ({lo}) is larger than {name}_max ({hi})"
                ));
            }
        }
        if self.rooms_min < 1 || self.rooms_max > 64 {
            return bad(format!(
                "rooms must be within 1..=64, got {}..={}",
                self.rooms_min, self.rooms_max
            ));
        }
        if self.aspect_max < 1.0 {
            return bad(format!("aspect_max = {} must be ≥ 1", self.aspect_max));
        }
        if self.door_height_m + 0.05 > self.ceiling_height_min_m {
            return bad(format!(
                "door_height_m = {} leaves no lintel below ceiling_height_min_m = {}",
                self.door_height_m, self.ceiling_height_min_m
            ));
        }
        if self.door_width_max_m + 0.2 > self.min_room_size_m {
            return bad(format!(
                "door_width_max_m = {} does not fit into the wall of the narrowest room (min_room_size_m = {})",
                self.door_width_max_m, self.min_room_size_m
            ));
        }
        let min_cell = self.min_room_size_m + self.wall_thickness_m;
        if self.rooms_min as f32 * min_cell * min_cell > self.floor_area_max_m2 {
            return bad(format!(
                "{} rooms of at least {} m cannot fit into {} m²",
                self.rooms_min, self.min_room_size_m, self.floor_area_max_m2
            ));
        }
        Ok(())
    }
}

/// Largest floor area a configuration may ask for (m²): a large office floor, 40 times the
/// default house.
pub const MAX_FLOOR_AREA_M2: f32 = 20_000.0;
/// Largest footprint aspect ratio a configuration may ask for.
const MAX_ASPECT: f32 = 20.0;
/// Largest room size, ceiling height, door or corridor width (m).
const MAX_LENGTH_M: f32 = 50.0;

/// How many floor plans are tried before giving up (each attempt has its own sub-seed).
const MAX_PLAN_ATTEMPTS: u64 = 64;

/// The path used in errors about generated scenes.
pub(crate) const PROCEDURAL_PATH: &str = "<procedural>";

/// The material table of a generated scene, with per-room colour variants.
pub(crate) struct Materials {
    library: Vec<Material>,
    pub(crate) list: Vec<Material>,
}

impl Materials {
    fn new() -> Self {
        Materials {
            library: material_library(),
            list: Vec::new(),
        }
    }

    fn library(&self, name: &str) -> Material {
        self.library
            .iter()
            .find(|m| m.name == name)
            .cloned()
            .expect("procedural generator only names built-in materials")
    }

    /// Adds `m` (its name must be unique) and returns its id.
    pub(crate) fn push(&mut self, m: Material) -> u32 {
        if let Some(i) = self.list.iter().position(|x| x.name == m.name) {
            return i as u32;
        }
        self.list.push(m);
        (self.list.len() - 1) as u32
    }

    /// The library material `name`, unchanged.
    pub(crate) fn base(&mut self, name: &str) -> u32 {
        let m = self.library(name);
        self.push(m)
    }

    /// A copy of library material `name` with a random brightness and tint, named `name#tag`.
    pub(crate) fn variant(&mut self, name: &str, tag: &str, rng: &mut ChaCha8Rng) -> u32 {
        let mut m = self.library(name);
        let brightness = rng.random_range(0.8f32..1.12);
        let tint: [f32; 3] = std::array::from_fn(|_| rng.random_range(0.92f32..1.08));
        for c in [&mut m.visual.color, &mut m.visual.color2] {
            for (v, t) in c.iter_mut().zip(tint) {
                *v = (*v * brightness * t).clamp(0.0, 1.0);
            }
        }
        m.name = format!("{name}#{tag}");
        self.push(m)
    }
}

/// What a room is used for; decides materials and furniture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoomKind {
    Living,
    Kitchen,
    Bedroom,
    Bathroom,
    Study,
    Dining,
    Corridor,
}

impl RoomKind {
    fn name(self) -> &'static str {
        match self {
            RoomKind::Living => "living",
            RoomKind::Kitchen => "kitchen",
            RoomKind::Bedroom => "bedroom",
            RoomKind::Bathroom => "bathroom",
            RoomKind::Study => "study",
            RoomKind::Dining => "dining",
            RoomKind::Corridor => "corridor",
        }
    }
}

/// Per-room data the geometry passes need.
pub(crate) struct RoomInfo {
    pub(crate) kind: RoomKind,
    /// Free interior (cell shrunk by half a wall).
    pub(crate) interior: Rect,
    floor: u32,
    wall: u32,
    ceiling: u32,
}

fn assign_kinds(plan: &Plan) -> Vec<RoomKind> {
    let mut order: Vec<usize> = (0..plan.cells.len())
        .filter(|&i| !plan.cells[i].corridor)
        .collect();
    // Largest first; ties by index keep this deterministic.
    order.sort_by(|&a, &b| {
        plan.cells[b]
            .rect
            .area()
            .total_cmp(&plan.cells[a].rect.area())
            .then(a.cmp(&b))
    });
    let mut kinds = vec![RoomKind::Corridor; plan.cells.len()];
    let n = order.len();
    const REST: [RoomKind; 5] = [
        RoomKind::Bedroom,
        RoomKind::Bedroom,
        RoomKind::Study,
        RoomKind::Dining,
        RoomKind::Bedroom,
    ];
    for (rank, &i) in order.iter().enumerate() {
        kinds[i] = match rank {
            0 => RoomKind::Living,
            1 if n >= 3 => RoomKind::Kitchen,
            r if r == n - 1 && n >= 3 => RoomKind::Bathroom,
            r => REST[(r.saturating_sub(2)) % REST.len()],
        };
    }
    kinds
}

fn pick<'a>(rng: &mut ChaCha8Rng, options: &[(&'a str, f32)]) -> &'a str {
    let total: f32 = options.iter().map(|o| o.1).sum();
    let mut x = rng.random_range(0.0..total);
    for &(name, w) in options {
        x -= w;
        if x < 0.0 {
            return name;
        }
    }
    options[options.len() - 1].0
}

fn room_materials(
    kind: RoomKind,
    index: usize,
    mats: &mut Materials,
    rng: &mut ChaCha8Rng,
) -> (u32, u32, u32) {
    use RoomKind::*;
    let floor = match kind {
        Kitchen | Bathroom => "tile",
        Corridor => pick(rng, &[("wood_floor", 0.6), ("tile", 0.4)]),
        Bedroom => pick(rng, &[("wood_floor", 0.4), ("carpet", 0.6)]),
        Living | Study | Dining => pick(rng, &[("wood_floor", 0.7), ("carpet", 0.3)]),
    };
    let wall = pick(
        rng,
        &[("plaster", 0.5), ("plasterboard", 0.4), ("brick", 0.1)],
    );
    let ceiling = pick(rng, &[("plaster", 0.6), ("ceiling_tile", 0.4)]);
    let tag = format!("r{index}");
    (
        mats.variant(floor, &format!("floor.{tag}"), rng),
        mats.variant(wall, &format!("wall.{tag}"), rng),
        mats.variant(ceiling, &format!("ceiling.{tag}"), rng),
    )
}

fn face(axis: usize, positive: bool) -> usize {
    2 * axis + usize::from(positive)
}

/// Walls as boxes along every centre-line segment, split where the room on either side changes
/// and at doors.
fn build_walls(
    b: &mut MeshBuilder,
    plan: &Plan,
    rooms: &[RoomInfo],
    exterior: u32,
    ceiling_h: f32,
    cfg: &ProceduralConfig,
) {
    let t = cfg.wall_thickness_m;
    let door_h = cfg.door_height_m;
    for seg in &plan.segments {
        let k = seg.axis;
        let o = 1 - k;
        let on_side = |positive: bool| {
            plan.cells.iter().enumerate().filter(move |(_, c)| {
                let edge = if positive {
                    c.rect.min[k]
                } else {
                    c.rect.max[k]
                };
                (edge - seg.at).abs() < EPS
                    && c.rect.max[o] > seg.a + EPS
                    && c.rect.min[o] < seg.b - EPS
            })
        };
        let doors: Vec<_> = plan
            .doors
            .iter()
            .filter(|d| d.axis == k && (d.at - seg.at).abs() < EPS && d.s > seg.a && d.s < seg.b)
            .collect();
        let mut breaks = vec![seg.a, seg.b];
        for positive in [false, true] {
            for (_, c) in on_side(positive) {
                breaks.extend([c.rect.min[o].max(seg.a), c.rect.max[o].min(seg.b)]);
            }
        }
        for d in &doors {
            breaks.extend([d.s - 0.5 * d.width, d.s + 0.5 * d.width]);
        }
        breaks.sort_by(f32::total_cmp);
        breaks.dedup_by(|x, y| (*x - *y).abs() < EPS);
        let wall_mat = |positive: bool, s: f32| {
            on_side(positive)
                .find(|(_, c)| c.rect.min[o] <= s && s <= c.rect.max[o])
                .map_or(exterior, |(i, _)| rooms[i].wall)
        };
        let is_door_end = |s: f32| {
            doors.iter().any(|d| {
                (d.s - 0.5 * d.width - s).abs() < EPS || (d.s + 0.5 * d.width - s).abs() < EPS
            })
        };
        for w in breaks.windows(2) {
            let (p, q) = (w[0], w[1]);
            let m = 0.5 * (p + q);
            let (neg, pos) = (wall_mat(false, m), wall_mat(true, m));
            let in_door = doors.iter().any(|d| (m - d.s).abs() < 0.5 * d.width);
            let mut lo = Vec3::ZERO;
            let mut hi = Vec3::ZERO;
            lo[o] = if (p - seg.a).abs() < EPS {
                p - 0.5 * t
            } else {
                p
            };
            hi[o] = if (q - seg.b).abs() < EPS {
                q + 0.5 * t
            } else {
                q
            };
            lo[k] = seg.at - 0.5 * t;
            hi[k] = seg.at + 0.5 * t;
            lo.z = if in_door { door_h } else { 0.0 };
            hi.z = ceiling_h;
            let mut faces: FaceMats = [None; 6];
            faces[face(k, false)] = Some(neg);
            faces[face(k, true)] = Some(pos);
            faces[PZ] = Some(neg);
            if in_door {
                faces[NZ] = Some(neg);
            }
            b.cuboid(lo, hi, faces);
            if !in_door {
                // Jamb faces, floor to door height, where this solid piece borders an opening.
                for (at_end, positive) in [(p, false), (q, true)] {
                    if is_door_end(at_end) {
                        let mut jamb: FaceMats = [None; 6];
                        jamb[face(o, positive)] = Some(neg);
                        b.cuboid(lo, Vec3::new(hi.x, hi.y, door_h), jamb);
                    }
                }
            }
        }
    }
}

fn door_edges(door: &Door, t: f32) -> [DiffractionEdge; 6] {
    let wedge_rad = 1.5 * std::f32::consts::PI;
    let along = door.along.extend(0.0);
    let normal = Vec3::new(-door.along.y, door.along.x, 0.0);
    let c = door.center.extend(0.0);
    let h = Vec3::Z * door.height_m;
    let half = 0.5 * door.width_m;
    let mut e = [DiffractionEdge {
        a: Vec3::ZERO,
        b: Vec3::ZERO,
        wedge_rad,
    }; 6];
    let mut n = 0;
    for side in [-0.5 * t, 0.5 * t] {
        for s in [-half, half] {
            let base = c + along * s + normal * side;
            e[n] = DiffractionEdge {
                a: base,
                b: base + h,
                wedge_rad,
            };
            n += 1;
        }
        let base = c + normal * side + h;
        e[n] = DiffractionEdge {
            a: base - along * half,
            b: base + along * half,
            wedge_rad,
        };
        n += 1;
    }
    e
}

/// Generates an apartment from `seed` (see the [module docs](self) for the steps).
///
/// ```
/// use avwm_scene::procedural::{ProceduralConfig, generate};
/// let scene = generate(7, &ProceduralConfig::small()).unwrap();
/// assert!(scene.rooms.len() >= 3 && scene.doors.len() >= scene.rooms.len() - 1);
/// assert_eq!(scene, generate(7, &ProceduralConfig::small()).unwrap());
/// ```
///
/// # Errors
/// [`SceneError::Config`] if the configuration is invalid or no connected floor plan satisfies it.
pub fn generate(seed: u64, cfg: &ProceduralConfig) -> Result<Scene, SceneError> {
    cfg.validate()?;
    let root = Seed(seed);
    let plan = (0..MAX_PLAN_ATTEMPTS)
        .find_map(|k| plan::generate_plan(&mut root.derive("plan", k).rng(), cfg))
        .ok_or_else(|| {
            SceneError::Config(format!(
                "no connected floor plan with {}..={} rooms found in {MAX_PLAN_ATTEMPTS} attempts (seed {seed}); \
                 widen the area or room-count ranges",
                cfg.rooms_min, cfg.rooms_max
            ))
        })?;
    let mut rng = root.derive("style", 0).rng();
    let ceiling_h = rng.random_range(cfg.ceiling_height_min_m..=cfg.ceiling_height_max_m);
    let t = cfg.wall_thickness_m;

    let mut mats = Materials::new();
    let exterior = mats.base("concrete");
    let kinds = assign_kinds(&plan);
    let rooms: Vec<RoomInfo> = plan
        .cells
        .iter()
        .zip(&kinds)
        .enumerate()
        .map(|(i, (cell, &kind))| {
            let (floor, wall, ceiling) = room_materials(kind, i, &mut mats, &mut rng);
            RoomInfo {
                kind,
                interior: cell.rect.shrink(0.5 * t),
                floor,
                wall,
                ceiling,
            }
        })
        .collect();

    let mut b = MeshBuilder::default();
    // Floors and ceilings tile the footprint (outer cells reach the outer face of the outer wall).
    for (cell, room) in plan.cells.iter().zip(&rooms) {
        let mut r = cell.rect;
        for axis in 0..2 {
            if (r.min[axis] - plan.footprint.min[axis]).abs() < EPS {
                r.min[axis] -= 0.5 * t;
            }
            if (r.max[axis] - plan.footprint.max[axis]).abs() < EPS {
                r.max[axis] += 0.5 * t;
            }
        }
        b.rect(
            2,
            true,
            0.0,
            (r.min.x, r.max.x),
            (r.min.y, r.max.y),
            room.floor,
        );
        b.rect(
            2,
            false,
            ceiling_h,
            (r.min.x, r.max.x),
            (r.min.y, r.max.y),
            room.ceiling,
        );
    }
    build_walls(&mut b, &plan, &rooms, exterior, ceiling_h, cfg);

    let doors: Vec<Door> = plan
        .doors
        .iter()
        .map(|d| Door {
            center: d.center(),
            along: d.along(),
            width_m: d.width,
            height_m: cfg.door_height_m,
        })
        .collect();
    let edges: Vec<DiffractionEdge> = doors.iter().flat_map(|d| door_edges(d, t)).collect();

    let source = furnish::furnish(&mut b, &mut mats, &plan, &rooms, cfg, root, ceiling_h);

    // One point light per room under the ceiling, warm or cool, stronger in larger rooms, with a
    // small emissive fixture above it.
    let mut lights = Vec::with_capacity(rooms.len());
    let mut light_rng = root.derive("lights", 0).rng();
    for (i, room) in rooms.iter().enumerate() {
        let tone: [f32; 3] = match light_rng.random_range(0..3) {
            0 => [1.0, 0.86, 0.68],
            1 => [1.0, 0.95, 0.88],
            _ => [0.86, 0.92, 1.0],
        };
        let power = (2.5 * (room.interior.area() / 12.0).sqrt()).clamp(2.0, 6.0)
            * light_rng.random_range(0.9f32..1.1);
        let c = room.interior.center();
        lights.push(Light {
            position: Vec3::new(c.x, c.y, ceiling_h - 0.3),
            intensity: tone.map(|v| v * power),
        });
        let mut lamp = mats.library("glass");
        lamp.name = format!("lamp#r{i}");
        lamp.visual.color = tone;
        lamp.visual.color2 = tone;
        lamp.visual.emission = tone.map(|v| 0.9 * v);
        let lamp = mats.push(lamp);
        b.cuboid(
            Vec3::new(c.x - 0.15, c.y - 0.15, ceiling_h - 0.06),
            Vec3::new(c.x + 0.15, c.y + 0.15, ceiling_h),
            {
                let mut f = crate::build::all_faces(lamp);
                f[PZ] = None;
                f
            },
        );
    }

    let scene = Scene {
        name: format!("proc-{seed:05}"),
        origin: SceneOrigin::Procedural { seed },
        mesh: b.mesh,
        materials: mats.list,
        floor_z: 0.0,
        ceiling_h,
        source: SoundSource { position: source },
        lights,
        rooms: rooms
            .iter()
            .map(|r| Room {
                kind: r.kind.name().to_string(),
                min: r.interior.min,
                max: r.interior.max,
            })
            .collect(),
        doors,
        edges,
    };
    scene.validate(Path::new(PROCEDURAL_PATH))?;
    Ok(scene)
}

/// The room of `scene` whose interior contains `p` (m), if any.
pub fn room_at(scene: &Scene, p: Vec2) -> Option<usize> {
    scene
        .rooms
        .iter()
        .position(|r| p.x >= r.min.x && p.x <= r.max.x && p.y >= r.min.y && p.y <= r.max.y)
}

#[cfg(test)]
mod tests;
