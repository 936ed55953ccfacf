//! Furniture and the visible sound-source object.
//!
//! Pieces are built in a local frame (x along the wall from the piece's left end, y = depth away
//! from the wall, z up) and placed against one of the four walls of a room. A piece may not
//! overlap another, nor the clear band in front of any door of the room (door width + 0.3 m wide,
//! at least 1 m deep and reaching past the room's middle), and its depth is at most 40 % of the
//! room's size across that wall: the middle 20 % of the room in both directions stays free, and
//! every door band reaches it, so every door is connected to every other through the room.

use super::plan::{Plan, Rect};
use super::{Materials, ProceduralConfig, RoomInfo, RoomKind};
use crate::build::{FaceMats, MeshBuilder, NZ, PZ, all_faces};
use avwm_core::Seed;
use avwm_geom::{Vec2, Vec3};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Gap between a piece and the wall behind it (m), so their faces are never coplanar.
const WALL_GAP_M: f32 = 0.01;
/// Smallest gap between two pieces (m).
const PIECE_GAP_M: f32 = 0.05;
/// Largest depth of a piece relative to the room size across its wall.
const MAX_DEPTH_FRACTION: f32 = 0.4;

/// Phone size (m): 15 × 8 × 3 cm.
const PHONE_SIZE_M: Vec3 = Vec3::new(0.15, 0.08, 0.03);
/// Height of the sound source above the phone's screen (m), so the emitter is in free space.
const SOURCE_ABOVE_PHONE_M: f32 = 0.02;

/// A piece standing against a wall: `side` 0..4 = the wall at min y, max y, min x, max x.
#[derive(Debug, Clone, Copy)]
struct Placement {
    interior: Rect,
    side: u8,
    s: f32,
    len: f32,
    depth: f32,
}

impl Placement {
    /// Maps a local box to world coordinates (rotations by multiples of 90° keep boxes axis-aligned).
    fn world(&self, lo: Vec3, hi: Vec3) -> (Vec3, Vec3) {
        let r = self.interior;
        let (g, s) = (WALL_GAP_M, self.s);
        let (x, y) = match self.side {
            0 => (
                (r.min.x + s + lo.x, r.min.x + s + hi.x),
                (r.min.y + g + lo.y, r.min.y + g + hi.y),
            ),
            1 => (
                (r.min.x + s + lo.x, r.min.x + s + hi.x),
                (r.max.y - g - hi.y, r.max.y - g - lo.y),
            ),
            2 => (
                (r.min.x + g + lo.y, r.min.x + g + hi.y),
                (r.min.y + s + lo.x, r.min.y + s + hi.x),
            ),
            _ => (
                (r.max.x - g - hi.y, r.max.x - g - lo.y),
                (r.min.y + s + lo.x, r.min.y + s + hi.x),
            ),
        };
        (Vec3::new(x.0, y.0, lo.z), Vec3::new(x.1, y.1, hi.z))
    }

    fn footprint(&self) -> Rect {
        let (lo, hi) = self.world(Vec3::ZERO, Vec3::new(self.len, self.depth, 0.0));
        Rect {
            min: lo.truncate(),
            max: hi.truncate(),
        }
    }
}

/// Finds a free spot for a `len` × `depth` piece against a random wall of `interior`.
fn place(
    rng: &mut ChaCha8Rng,
    interior: Rect,
    len: f32,
    depth: f32,
    forbidden: &[Rect],
    occupied: &[Rect],
    tries: usize,
) -> Option<Placement> {
    let size = interior.size();
    for _ in 0..tries {
        let side = rng.random_range(0..4u8);
        let (wall_len, across) = if side < 2 {
            (size.x, size.y)
        } else {
            (size.y, size.x)
        };
        if depth > MAX_DEPTH_FRACTION * across || len + 0.1 > wall_len {
            continue;
        }
        let s = rng.random_range(0.05..=wall_len - len - 0.05);
        let p = Placement {
            interior,
            side,
            s,
            len,
            depth,
        };
        let fp = p.footprint();
        let grown = Rect {
            min: fp.min - Vec2::splat(PIECE_GAP_M),
            max: fp.max + Vec2::splat(PIECE_GAP_M),
        };
        if forbidden.iter().any(|f| f.overlaps(&fp)) || occupied.iter().any(|o| o.overlaps(&grown))
        {
            continue;
        }
        return Some(p);
    }
    None
}

/// Per-room furniture materials.
struct Palette {
    wood: u32,
    books: [u32; 3],
    fabric: u32,
    metal: u32,
    plastic: u32,
    white: u32,
}

#[derive(Debug, Clone, Copy)]
enum Piece {
    Table,
    Desk,
    Bed,
    Sofa,
    Shelf,
    Cabinet,
    Wardrobe,
    Counter,
    Bathtub,
    TvStand,
}

impl Piece {
    /// Whether a room may hold more than one (a second shelf yes, a second bed no).
    fn repeatable(self) -> bool {
        !matches!(
            self,
            Piece::Bed | Piece::Sofa | Piece::Bathtub | Piece::TvStand
        )
    }

    /// Length along the wall and depth ranges (m).
    fn size_ranges(self) -> ((f32, f32), (f32, f32)) {
        match self {
            Piece::Table => ((0.8, 1.6), (0.6 + CHAIR_DEPTH_M, 0.9 + CHAIR_DEPTH_M)),
            Piece::Desk => ((0.9, 1.4), (0.5 + CHAIR_DEPTH_M, 0.7 + CHAIR_DEPTH_M)),
            Piece::Bed => ((1.4, 1.8), (1.9, 2.1)),
            Piece::Sofa => ((1.6, 2.2), (0.8, 0.95)),
            Piece::Shelf => ((0.8, 1.2), (0.3, 0.4)),
            Piece::Cabinet => ((0.6, 1.2), (0.4, 0.6)),
            Piece::Wardrobe => ((1.0, 2.0), (0.55, 0.65)),
            Piece::Counter => ((1.6, 3.0), (0.6, 0.65)),
            Piece::Bathtub => ((1.5, 1.7), (0.7, 0.8)),
            Piece::TvStand => ((1.2, 1.8), (0.4, 0.5)),
        }
    }

    /// Local boxes `(lo, hi, material)` of a `l` × `d` piece.
    fn boxes(self, l: f32, d: f32, rng: &mut ChaCha8Rng, p: &Palette) -> Vec<(Vec3, Vec3, u32)> {
        let bx = |x0: f32, y0: f32, z0: f32, x1: f32, y1: f32, z1: f32, m: u32| {
            (Vec3::new(x0, y0, z0), Vec3::new(x1, y1, z1), m)
        };
        match self {
            Piece::Table | Piece::Desk => {
                // The footprint depth includes the chair(s) pulled up to the table.
                let top = d - CHAIR_DEPTH_M;
                let mut v = table(l, top, 0.75, p.wood);
                let chairs: &[f32] = if l >= 1.4 {
                    &[1.0 / 3.0, 2.0 / 3.0]
                } else {
                    &[0.5]
                };
                for &f in chairs {
                    v.extend(chair(f * l, top, p.wood, p.fabric));
                }
                if rng.random_bool(0.5) {
                    // Something on the table: a box (book, vase).
                    let x = rng.random_range(0.1..(l - 0.35).max(0.11));
                    v.push(bx(
                        x,
                        0.1,
                        0.75,
                        x + 0.25,
                        0.3,
                        0.75 + rng.random_range(0.05..0.25),
                        p.books[0],
                    ));
                }
                v
            }
            Piece::Bed => vec![
                bx(0.0, 0.0, 0.0, l, d, 0.3, p.wood),
                bx(0.03, 0.08, 0.3, l - 0.03, d - 0.03, 0.5, p.fabric),
                bx(0.0, 0.0, 0.3, l, 0.06, 1.0, p.wood),
            ],
            Piece::Sofa => vec![
                bx(0.0, 0.0, 0.0, l, d, 0.42, p.fabric),
                bx(0.0, 0.0, 0.42, l, 0.2, 0.85, p.fabric),
                bx(0.0, 0.2, 0.42, 0.16, d, 0.62, p.fabric),
                bx(l - 0.16, 0.2, 0.42, l, d, 0.62, p.fabric),
            ],
            Piece::Shelf => {
                let h = rng.random_range(1.6f32..2.0);
                let mut v = vec![
                    bx(0.0, 0.0, 0.0, 0.03, d, h, p.wood),
                    bx(l - 0.03, 0.0, 0.0, l, d, h, p.wood),
                    bx(0.03, 0.0, 0.0, l - 0.03, 0.02, h, p.wood),
                ];
                let boards = 4;
                let gap = (h - 0.03) / boards as f32;
                for i in 0..=boards {
                    let z = i as f32 * gap;
                    v.push(bx(0.03, 0.02, z, l - 0.03, d, z + 0.03, p.wood));
                    if i < boards && rng.random_bool(0.75) {
                        // A run of books standing on the board.
                        let mut x = rng.random_range(0.04..0.3f32.min(0.5 * l));
                        for _ in 0..rng.random_range(3..8) {
                            let w = rng.random_range(0.025..0.05);
                            if x + w > l - 0.04 {
                                break;
                            }
                            let bh = rng.random_range(0.15..(gap - 0.06).clamp(0.16, 0.3));
                            let m = p.books[rng.random_range(0..3)];
                            v.push(bx(x, 0.04, z + 0.03, x + w, d - 0.02, z + 0.03 + bh, m));
                            x += w + 0.002;
                        }
                    }
                }
                v
            }
            Piece::Cabinet => {
                let h = rng.random_range(0.8f32..1.0);
                vec![bx(0.0, 0.0, 0.0, l, d, h, p.wood)]
            }
            Piece::Wardrobe => vec![bx(0.0, 0.0, 0.0, l, d, 2.0, p.wood)],
            Piece::Counter => vec![
                bx(0.0, 0.0, 0.0, l, d - 0.03, 0.86, p.white),
                bx(0.0, 0.0, 0.86, l, d, 0.9, p.metal),
            ],
            Piece::Bathtub => vec![bx(0.0, 0.0, 0.0, l, d, 0.55, p.white)],
            Piece::TvStand => vec![
                bx(0.0, 0.0, 0.0, l, d, 0.5, p.wood),
                bx(
                    0.1,
                    0.12,
                    0.5,
                    l - 0.1,
                    0.18,
                    0.5 + 0.55 * (l - 0.2) / 1.6,
                    p.plastic,
                ),
            ],
        }
    }
}

/// Depth a chair adds in front of a table (m).
const CHAIR_DEPTH_M: f32 = 0.35;

/// A chair centred at `x`, its seat pushed 15 cm under the table edge at depth `edge`.
fn chair(x: f32, edge: f32, frame: u32, seat: u32) -> Vec<(Vec3, Vec3, u32)> {
    let (y0, y1) = (edge - 0.1, edge + CHAIR_DEPTH_M - 0.02);
    let (x0, x1) = (x - 0.21, x + 0.21);
    let mut v = vec![
        (Vec3::new(x0, y0, 0.43), Vec3::new(x1, y1, 0.47), seat),
        (
            Vec3::new(x0, y1 - 0.04, 0.47),
            Vec3::new(x1, y1, 0.9),
            frame,
        ),
    ];
    for (lx, ly) in [
        (x0, y0),
        (x1 - 0.04, y0),
        (x0, y1 - 0.04),
        (x1 - 0.04, y1 - 0.04),
    ] {
        v.push((
            Vec3::new(lx, ly, 0.0),
            Vec3::new(lx + 0.04, ly + 0.04, 0.43),
            frame,
        ));
    }
    v
}

/// A table of height `h`: a 4 cm top on four 5 cm legs.
fn table(l: f32, d: f32, h: f32, m: u32) -> Vec<(Vec3, Vec3, u32)> {
    let mut v = vec![(Vec3::new(0.0, 0.0, h - 0.04), Vec3::new(l, d, h), m)];
    for (x, y) in [
        (0.03, 0.03),
        (l - 0.08, 0.03),
        (0.03, d - 0.08),
        (l - 0.08, d - 0.08),
    ] {
        v.push((
            Vec3::new(x, y, 0.0),
            Vec3::new(x + 0.05, y + 0.05, h - 0.04),
            m,
        ));
    }
    v
}

fn pieces_for(kind: RoomKind) -> &'static [Piece] {
    use Piece::*;
    match kind {
        RoomKind::Living => &[Sofa, Shelf, TvStand, Cabinet, Table, Shelf],
        RoomKind::Bedroom => &[Bed, Wardrobe, Desk, Shelf, Cabinet],
        RoomKind::Kitchen => &[Counter, Counter, Cabinet, Table, Shelf],
        RoomKind::Bathroom => &[Bathtub, Cabinet],
        RoomKind::Study => &[Desk, Shelf, Shelf, Cabinet, Table],
        RoomKind::Dining => &[Table, Cabinet, Shelf, Table],
        RoomKind::Corridor => &[],
    }
}

/// Emits a local box of a placed piece; the bottom face is left out when it rests on the floor.
fn emit(b: &mut MeshBuilder, p: &Placement, lo: Vec3, hi: Vec3, faces: FaceMats) {
    let (wlo, whi) = p.world(lo, hi);
    let mut faces = faces;
    if lo.z <= 0.0 {
        faces[NZ] = None;
    }
    b.cuboid(wlo, whi, faces);
}

/// The clear bands in front of the doors of room `index` (world rectangles).
fn door_bands(plan: &Plan, index: usize, interior: Rect, t: f32) -> Vec<Rect> {
    let cell = plan.cells[index].rect;
    plan.doors
        .iter()
        .filter(|d| d.rooms.0 == index || d.rooms.1 == index)
        .map(|d| {
            let k = d.axis;
            let o = 1 - k;
            let depth = (0.65 * interior.size()[k]).max(1.0);
            let mut r = Rect {
                min: Vec2::ZERO,
                max: Vec2::ZERO,
            };
            r.min[o] = d.s - 0.5 * d.width - 0.15;
            r.max[o] = d.s + 0.5 * d.width + 0.15;
            if (cell.min[k] - d.at).abs() < super::plan::EPS {
                r.min[k] = d.at + 0.5 * t;
                r.max[k] = d.at + 0.5 * t + depth;
            } else {
                r.max[k] = d.at - 0.5 * t;
                r.min[k] = d.at - 0.5 * t - depth;
            }
            r
        })
        .collect()
}

/// Places the source object and furniture; returns the sound source position (m).
pub(crate) fn furnish(
    b: &mut MeshBuilder,
    mats: &mut Materials,
    plan: &Plan,
    rooms: &[RoomInfo],
    cfg: &ProceduralConfig,
    root: Seed,
    _ceiling_h: f32,
) -> Vec3 {
    let t = cfg.wall_thickness_m;
    let bands: Vec<Vec<Rect>> = (0..rooms.len())
        .map(|i| door_bands(plan, i, rooms[i].interior, t))
        .collect();
    let mut occupied: Vec<Vec<Rect>> = vec![Vec::new(); rooms.len()];

    // The sound source: a phone on a small table or a low cabinet in a random (non-corridor) room.
    let mut rng = root.derive("source", 0).rng();
    let body = mats.base("plastic");
    let mut screen = mats.library("glass");
    screen.name = "phone_screen".into();
    screen.visual.color = [0.05, 0.08, 0.12];
    screen.visual.color2 = [0.05, 0.08, 0.12];
    screen.visual.emission = [0.25, 0.45, 0.8];
    let screen = mats.push(screen);
    let source_wood = mats.variant("wood", "source_table", &mut rng);
    let candidates: Vec<usize> = (0..rooms.len())
        .filter(|&i| rooms[i].kind != RoomKind::Corridor)
        .collect();
    let start = rng.random_range(0..candidates.len().max(1));
    let on_cabinet = rng.random_bool(0.3);
    let (len, depth, h) = if on_cabinet {
        (0.7, 0.4, 0.8)
    } else {
        (0.6, 0.45, 0.75)
    };
    let mut source = None;
    for k in 0..candidates.len() {
        let i = candidates[(start + k) % candidates.len()];
        if let Some(p) = place(
            &mut rng,
            rooms[i].interior,
            len,
            depth,
            &bands[i],
            &occupied[i],
            40,
        ) {
            let parts = if on_cabinet {
                vec![(Vec3::ZERO, Vec3::new(len, depth, h), source_wood)]
            } else {
                table(len, depth, h, source_wood)
            };
            for (lo, hi, m) in parts {
                emit(b, &p, lo, hi, all_faces(m));
            }
            let c = Vec3::new(0.5 * len, 0.5 * depth, h);
            let half = 0.5 * PHONE_SIZE_M.truncate().extend(0.0);
            let (plo, phi) = p.world(c - half, c + half + Vec3::Z * PHONE_SIZE_M.z);
            let mut faces = all_faces(body);
            faces[PZ] = Some(screen);
            b.cuboid(plo, phi, faces);
            occupied[i].push(p.footprint());
            let top = 0.5 * (plo + phi);
            source = Some(Vec3::new(top.x, top.y, phi.z + SOURCE_ABOVE_PHONE_M));
            break;
        }
    }
    let source = source.unwrap_or_else(|| {
        // No wall spot anywhere (tiny rooms): the phone lies on the floor in the middle of room 0.
        let c = rooms[0].interior.center();
        let lo = Vec3::new(c.x - 0.075, c.y - 0.04, 0.0);
        let hi = Vec3::new(c.x + 0.075, c.y + 0.04, PHONE_SIZE_M.z);
        let mut faces = all_faces(body);
        faces[PZ] = Some(screen);
        b.cuboid(lo, hi, faces);
        Vec3::new(c.x, c.y, PHONE_SIZE_M.z + SOURCE_ABOVE_PHONE_M)
    });

    for (i, room) in rooms.iter().enumerate() {
        let list = pieces_for(room.kind);
        if list.is_empty() || cfg.furniture_density <= 0.0 {
            continue;
        }
        let mut rng = root.derive("furniture", i as u64).rng();
        let tag = format!("r{i}");
        let palette = Palette {
            wood: mats.variant("wood", &format!("furniture.{tag}"), &mut rng),
            fabric: mats.variant("fabric", &format!("furniture.{tag}"), &mut rng),
            books: [0, 1, 2].map(|k| {
                let base = ["fabric", "plastic", "carpet"][k];
                mats.variant(base, &format!("books{k}.{tag}"), &mut rng)
            }),
            metal: mats.base("metal"),
            plastic: body,
            white: mats.base("tile"),
        };
        let size = room.interior.size();
        let perimeter = 2.0 * (size.x + size.y);
        // About one piece per 3 m of wall at density 1; large rooms cycle through their list
        // again (a second shelf, another table, ...).
        let count = ((cfg.furniture_density * perimeter / 3.0).round() as usize).max(1);
        let repeatable = list.iter().copied().filter(|p| p.repeatable());
        let pieces = list.iter().copied().chain(repeatable.cycle()).take(count);
        for piece in pieces {
            let ((l0, l1), (d0, d1)) = piece.size_ranges();
            let l = rng.random_range(l0..=l1);
            let d = rng.random_range(d0..=d1);
            let Some(p) = place(&mut rng, room.interior, l, d, &bands[i], &occupied[i], 25) else {
                continue;
            };
            for (lo, hi, m) in piece.boxes(l, d, &mut rng, &palette) {
                emit(b, &p, lo, hi, all_faces(m));
            }
            occupied[i].push(p.footprint());
        }
    }
    source
}
