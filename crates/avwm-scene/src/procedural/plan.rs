//! Floor plans: recursive rectangle splitting (BSP) of an apartment footprint, adjacency and doors.

use super::ProceduralConfig;
use avwm_geom::Vec2;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Tolerance (m) for comparing coordinates that were produced by the same split.
pub(crate) const EPS: f32 = 1e-4;

/// An axis-aligned rectangle on the floor (m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub(crate) min: Vec2,
    pub(crate) max: Vec2,
}

impl Rect {
    pub(crate) fn size(&self) -> Vec2 {
        self.max - self.min
    }

    pub(crate) fn area(&self) -> f32 {
        let s = self.size();
        s.x * s.y
    }

    pub(crate) fn center(&self) -> Vec2 {
        0.5 * (self.min + self.max)
    }

    /// Shrinks by `d` on every side.
    pub(crate) fn shrink(&self, d: f32) -> Rect {
        Rect {
            min: self.min + Vec2::splat(d),
            max: self.max - Vec2::splat(d),
        }
    }

    /// True if the open interiors overlap.
    pub(crate) fn overlaps(&self, o: &Rect) -> bool {
        self.min.x < o.max.x && o.min.x < self.max.x && self.min.y < o.max.y && o.min.y < self.max.y
    }

    /// True if `o` lies inside `self` (closed).
    #[cfg(test)]
    pub(crate) fn contains_rect(&self, o: &Rect) -> bool {
        o.min.x >= self.min.x - EPS
            && o.min.y >= self.min.y - EPS
            && o.max.x <= self.max.x + EPS
            && o.max.y <= self.max.y + EPS
    }
}

/// A leaf of the BSP: one room (or corridor), bounded by wall centre lines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell {
    pub(crate) rect: Rect,
    pub(crate) corridor: bool,
}

/// A wall centre-line segment. `axis` is the axis the line is constant in: `0` = the line `x = at`
/// (the wall runs along y), `1` = the line `y = at` (runs along x). It spans `[a, b]` along the wall.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub(crate) axis: usize,
    pub(crate) at: f32,
    pub(crate) a: f32,
    pub(crate) b: f32,
}

/// A door opening on a wall centre line, between cells `rooms.0` and `rooms.1`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanDoor {
    pub(crate) axis: usize,
    pub(crate) at: f32,
    /// Centre of the opening along the wall (m).
    pub(crate) s: f32,
    pub(crate) width: f32,
    pub(crate) rooms: (usize, usize),
}

impl PlanDoor {
    /// Centre of the opening on the floor (m).
    pub(crate) fn center(&self) -> Vec2 {
        if self.axis == 0 {
            Vec2::new(self.at, self.s)
        } else {
            Vec2::new(self.s, self.at)
        }
    }

    /// Unit vector along the wall.
    pub(crate) fn along(&self) -> Vec2 {
        if self.axis == 0 { Vec2::Y } else { Vec2::X }
    }
}

/// A complete floor plan.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The footprint (outer wall centre lines).
    pub(crate) footprint: Rect,
    pub(crate) cells: Vec<Cell>,
    /// Wall centre lines: the four outer walls first, then one per split.
    pub(crate) segments: Vec<Segment>,
    pub(crate) doors: Vec<PlanDoor>,
}

/// A shared wall between two cells: the line and the overlap interval.
#[derive(Debug, Clone, Copy)]
struct Adjacency {
    i: usize,
    j: usize,
    axis: usize,
    at: f32,
    lo: f32,
    hi: f32,
}

fn adjacency(cells: &[Cell], i: usize, j: usize) -> Option<Adjacency> {
    let (a, b) = (cells[i].rect, cells[j].rect);
    for axis in 0..2 {
        let o = 1 - axis;
        let at = if (a.max[axis] - b.min[axis]).abs() < EPS {
            a.max[axis]
        } else if (b.max[axis] - a.min[axis]).abs() < EPS {
            a.min[axis]
        } else {
            continue;
        };
        let lo = a.min[o].max(b.min[o]);
        let hi = a.max[o].min(b.max[o]);
        if hi > lo + EPS {
            return Some(Adjacency {
                i,
                j,
                axis,
                at,
                lo,
                hi,
            });
        }
    }
    None
}

/// Splits the footprint into `target` cells (fewer if the cells get too small). Returns `None`
/// if the plan cannot satisfy the configuration (the caller retries with another seed).
pub(crate) fn generate_plan(rng: &mut ChaCha8Rng, cfg: &ProceduralConfig) -> Option<Plan> {
    let area = rng.random_range(cfg.floor_area_min_m2..=cfg.floor_area_max_m2);
    let aspect = rng.random_range(1.0..=cfg.aspect_max);
    let mut w = (area * aspect).sqrt();
    let mut h = area / w;
    if rng.random_bool(0.5) {
        std::mem::swap(&mut w, &mut h);
    }
    let footprint = Rect {
        min: Vec2::ZERO,
        max: Vec2::new(w, h),
    };
    let target = rng.random_range(cfg.rooms_min..=cfg.rooms_max) as usize;
    let min_size = cfg.min_room_size_m + cfg.wall_thickness_m;
    let max_corridors = 1 + target / 6;

    let mut cells = vec![Cell {
        rect: footprint,
        corridor: false,
    }];
    let mut segments = vec![
        Segment {
            axis: 1,
            at: 0.0,
            a: 0.0,
            b: w,
        },
        Segment {
            axis: 1,
            at: h,
            a: 0.0,
            b: w,
        },
        Segment {
            axis: 0,
            at: 0.0,
            a: 0.0,
            b: h,
        },
        Segment {
            axis: 0,
            at: w,
            a: 0.0,
            b: h,
        },
    ];
    let mut corridors = 0;
    while cells.len() < target {
        // Candidates: non-corridor cells that can be cut across their long side.
        let candidates: Vec<usize> = (0..cells.len())
            .filter(|&i| !cells[i].corridor && cells[i].rect.size().max_element() >= 2.0 * min_size)
            .collect();
        if candidates.is_empty() {
            break;
        }
        let total: f32 = candidates.iter().map(|&i| cells[i].rect.area()).sum();
        let mut pick = rng.random_range(0.0..total);
        let mut chosen = candidates[candidates.len() - 1];
        for &i in &candidates {
            pick -= cells[i].rect.area();
            if pick < 0.0 {
                chosen = i;
                break;
            }
        }
        let r = cells[chosen].rect;
        let size = r.size();
        let long = if size.x >= size.y { 0 } else { 1 };
        let short = 1 - long;
        let cw = rng.random_range(cfg.corridor_width_min_m..=cfg.corridor_width_max_m)
            + cfg.wall_thickness_m;
        let corridor_fits = size[short] >= 2.0 * min_size + cw && size[long] >= 2.5 * min_size;
        let want_corridor = rng.random_bool(f64::from(cfg.corridor_probability));
        if want_corridor && corridor_fits && corridors < max_corridors && target - cells.len() >= 2
        {
            // A strip along the long side with a room band on each side: two walls spanning the cell.
            let y1 = rng.random_range(r.min[short] + min_size..=r.max[short] - min_size - cw);
            let y2 = y1 + cw;
            let mut lo = r;
            lo.max[short] = y1;
            let mut mid = r;
            mid.min[short] = y1;
            mid.max[short] = y2;
            let mut hi = r;
            hi.min[short] = y2;
            cells[chosen] = Cell {
                rect: lo,
                corridor: false,
            };
            cells.push(Cell {
                rect: mid,
                corridor: true,
            });
            cells.push(Cell {
                rect: hi,
                corridor: false,
            });
            for at in [y1, y2] {
                segments.push(Segment {
                    axis: short,
                    at,
                    a: r.min[long],
                    b: r.max[long],
                });
            }
            corridors += 1;
        } else {
            // Cut across the long side at 35–65 % of its length, keeping both parts large enough.
            let lo_bound = (r.min[long] + 0.35 * size[long]).max(r.min[long] + min_size);
            let hi_bound = (r.min[long] + 0.65 * size[long]).min(r.max[long] - min_size);
            if hi_bound < lo_bound {
                // Cannot happen for candidates (long side ≥ 2·min_size), kept as a guard.
                break;
            }
            let at = rng.random_range(lo_bound..=hi_bound);
            let mut a = r;
            a.max[long] = at;
            let mut b = r;
            b.min[long] = at;
            cells[chosen] = Cell {
                rect: a,
                corridor: false,
            };
            cells.push(Cell {
                rect: b,
                corridor: false,
            });
            segments.push(Segment {
                axis: long,
                at,
                a: r.min[short],
                b: r.max[short],
            });
        }
    }
    if cells.len() < cfg.rooms_min as usize {
        return None;
    }

    // Doors: a random spanning tree of the adjacency graph (corridor links preferred) plus extras.
    let t = cfg.wall_thickness_m;
    let margin = 0.5 * t + 0.1;
    let mut candidates = Vec::new();
    for i in 0..cells.len() {
        for j in i + 1..cells.len() {
            if let Some(adj) = adjacency(&cells, i, j) {
                let width = rng.random_range(cfg.door_width_min_m..=cfg.door_width_max_m);
                let lo = adj.lo + margin + 0.5 * width;
                let hi = adj.hi - margin - 0.5 * width;
                let corridor = cells[i].corridor || cells[j].corridor;
                let key: f32 = rng.random::<f32>() + if corridor { 0.0 } else { 0.5 };
                if hi >= lo {
                    candidates.push((key, adj, width, lo, hi));
                }
            }
        }
    }
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut parent: Vec<usize> = (0..cells.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut doors = Vec::new();
    let mut tree_edges = 0;
    for &(_, adj, width, lo, hi) in &candidates {
        let (ri, rj) = (find(&mut parent, adj.i), find(&mut parent, adj.j));
        let in_tree = ri != rj;
        if in_tree {
            parent[ri] = rj;
            tree_edges += 1;
        }
        if in_tree || rng.random_bool(f64::from(cfg.extra_door_probability)) {
            let s = if hi > lo {
                rng.random_range(lo..=hi)
            } else {
                lo
            };
            doors.push(PlanDoor {
                axis: adj.axis,
                at: adj.at,
                s,
                width,
                rooms: (adj.i, adj.j),
            });
        }
    }
    if tree_edges + 1 != cells.len() {
        return None;
    }
    Some(Plan {
        footprint,
        cells,
        segments,
        doors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use avwm_core::Seed;

    #[test]
    fn cells_tile_the_footprint_and_doors_connect_all_cells() {
        let cfg = ProceduralConfig::default();
        let mut plans = 0;
        for seed in 0..50 {
            let mut rng = Seed(seed).rng();
            let Some(plan) = generate_plan(&mut rng, &cfg) else {
                continue;
            };
            plans += 1;
            let sum: f32 = plan.cells.iter().map(|c| c.rect.area()).sum();
            assert!(
                (sum - plan.footprint.area()).abs() < 1e-2 * plan.footprint.area(),
                "seed {seed}"
            );
            for (i, a) in plan.cells.iter().enumerate() {
                assert!(plan.footprint.contains_rect(&a.rect));
                for b in &plan.cells[i + 1..] {
                    assert!(!a.rect.overlaps(&b.rect), "seed {seed}: cells overlap");
                }
            }
            // Flood fill over doors.
            let mut seen = vec![false; plan.cells.len()];
            let mut stack = vec![0];
            seen[0] = true;
            while let Some(c) = stack.pop() {
                for d in &plan.doors {
                    for (x, y) in [(d.rooms.0, d.rooms.1), (d.rooms.1, d.rooms.0)] {
                        if x == c && !seen[y] {
                            seen[y] = true;
                            stack.push(y);
                        }
                    }
                }
            }
            assert!(seen.iter().all(|&s| s), "seed {seed}: disconnected plan");
        }
        assert!(plans >= 40, "only {plans} of 50 first attempts gave a plan");
    }
}
