//! The navigation grid: construction and point queries.

use crate::config::NavConfig;
use crate::error::{NavError, Result};
use crate::raster::{clip_to_slab, cover_convex_polygon, segment_cells};
use avwm_geom::{Bvh, Ray};
use avwm_scene::Scene;
use glam::{DVec2, Vec2, Vec3};
use rand::Rng;
use std::collections::VecDeque;

/// What occupies one grid cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CellKind {
    /// No floor under the cell centre (outside the building, holes, the padding ring).
    Outside,
    /// Geometry inside the obstacle height band touches the cell (walls, furniture), or the cell
    /// lies in a pocket of floor too narrow ever to hold the agent: the inside of a wall or of a
    /// piece of furniture modelled by its surfaces, a sliver between two objects.
    Obstacle,
    /// Floor, but closer than the agent radius to an obstacle or to the floor's edge.
    Clearance,
    /// Navigable floor that is not connected to the goal.
    Disconnected,
    /// Navigable floor connected to the goal: the agent lives here.
    Reachable,
}

/// One edge type of the 16-connected grid graph: the offset, its length in cells, and the
/// cells (relative to the start) the straight segment between the two cell centres touches.
#[derive(Debug, Clone)]
pub(crate) struct EdgeType {
    pub(crate) di: i32,
    pub(crate) dj: i32,
    pub(crate) len_cells: f64,
    pub(crate) cells: Vec<(i32, i32)>,
}

fn edge_types() -> Vec<EdgeType> {
    let mut out = Vec::with_capacity(16);
    let offsets = [
        (1, 0),
        (0, 1),
        (-1, 0),
        (0, -1),
        (1, 1),
        (-1, 1),
        (-1, -1),
        (1, -1),
    ];
    let knights = [
        (2, 1),
        (1, 2),
        (-1, 2),
        (-2, 1),
        (-2, -1),
        (-1, -2),
        (1, -2),
        (2, -1),
    ];
    for (di, dj) in offsets.into_iter().chain(knights) {
        let mut cells = Vec::new();
        segment_cells(
            DVec2::splat(0.5),
            DVec2::new(f64::from(di) + 0.5, f64::from(dj) + 0.5),
            |i, j| {
                if (i, j) != (0, 0) {
                    cells.push((i as i32, j as i32));
                }
                true
            },
        );
        let len_cells = f64::from(di * di + dj * dj).sqrt();
        out.push(EdgeType {
            di,
            dj,
            len_cells,
            cells,
        });
    }
    out
}

/// The navigable space of one scene floor, rasterised on a square grid, with the geodesic
/// distance field to the sound source.
///
/// Build it once per scene with [`NavGrid::build`]; every query afterwards is read-only, and the
/// type is `Sync` so that many episodes may share one grid.
///
/// # Geodesic error bound
/// Distances are shortest paths on the 16-connected graph of cell centres (8 neighbours plus the
/// 8 knight moves; an edge exists only if the straight segment between the two centres touches no
/// cell outside the reachable region). In open space the graph path overestimates the straight
/// line by at most `1/cos(atan(1/2)/2) − 1 = 2.75 %` (worst between the 0° and 26.57° directions;
/// 1.31 % between 26.57° and 45°), never underestimates it, and every geodesic is ≥ the Euclidean
/// distance. Around obstacles the distance is that of the eroded grid free space (the agent disc
/// of radius `agent_radius_m` cannot cut corners), plus the same ≤ 2.75 % factor.
#[derive(Debug, Clone)]
pub struct NavGrid {
    pub(crate) cfg: NavConfig,
    /// World xy (m) of the minimum corner of cell (0, 0).
    pub(crate) origin: Vec2,
    pub(crate) nx: usize,
    pub(crate) ny: usize,
    pub(crate) kind: Vec<CellKind>,
    /// Indices of reachable cells, ascending.
    pub(crate) reachable: Vec<u32>,
    /// Graph distance (m) from each cell centre to the goal cell centre; infinite if unreachable.
    pub(crate) dist: Vec<f32>,
    /// Next cell towards the goal (`u32::MAX` for the goal and unreachable cells).
    pub(crate) parent: Vec<u32>,
    pub(crate) goal_cell: usize,
    pub(crate) source_xy: Vec2,
    pub(crate) goal_offset_m: f32,
    pub(crate) edges: Vec<EdgeType>,
}

impl NavGrid {
    /// Rasterises the navigable space of `scene` and computes the geodesic field to its source.
    ///
    /// Steps: (1) every triangle is clipped to the obstacle height band and every cell its
    /// footprint touches becomes [`CellKind::Obstacle`] (conservative); (2) a cell has floor if a
    /// ray cast down from `floor_z + obstacle_min_h_m` at its centre hits a surface within
    /// `2 · obstacle_min_h_m`; (3) floor cells whose centre is within `agent_radius_m` of an
    /// obstacle or floorless cell (distance from the centre to that cell's square) become
    /// [`CellKind::Clearance`]; (4) the goal is the navigable cell nearest (horizontally) to the
    /// source whose 4-connected region has at least `min_goal_region_m2`; that region is
    /// [`CellKind::Reachable`]; (5) Dijkstra from the goal on the 16-connected graph.
    ///
    /// Agent clearance: the walls lie inside obstacle cells, so an agent whose centre is at a
    /// reachable cell centre is at least `agent_radius_m` from any wall in the band, and anywhere
    /// in a reachable cell at least `agent_radius_m − cell_m/√2`.
    ///
    /// # Errors
    /// [`NavError::Config`] for an invalid config, [`NavError::EmptyScene`],
    /// [`NavError::GridTooLarge`], [`NavError::NoNavigableCell`] and
    /// [`NavError::GoalComponentTooSmall`].
    pub fn build(scene: &Scene, cfg: &NavConfig) -> Result<NavGrid> {
        cfg.validate()?;
        let mesh = &scene.mesh;
        let (lo, hi) = match mesh.bounds() {
            Some(b) if !mesh.is_empty() => b,
            _ => return Err(NavError::EmptyScene),
        };
        if !lo.is_finite()
            || !hi.is_finite()
            || !scene.floor_z.is_finite()
            || !scene.source.position.is_finite()
        {
            return Err(NavError::Config(
                "scene bounds, floor_z or source position is not finite".into(),
            ));
        }
        let cell = cfg.cell_m;
        // One padding ring of floorless cells keeps every reachable cell away from the border.
        let origin = lo.truncate() - Vec2::splat(cell);
        let nx = ((hi.x - lo.x) / cell).ceil() as usize + 2;
        let ny = ((hi.y - lo.y) / cell).ceil() as usize + 2;
        if nx.saturating_mul(ny) > cfg.max_cells {
            return Err(NavError::GridTooLarge {
                nx,
                ny,
                max_cells: cfg.max_cells,
            });
        }
        let n = nx * ny;

        // (1) Obstacles.
        let mut obstacle = vec![false; n];
        let z_lo = scene.floor_z + cfg.obstacle_min_h_m;
        let z_hi = scene.floor_z + cfg.obstacle_max_h_m;
        let mut poly = Vec::with_capacity(8);
        for t in 0..mesh.len() {
            let clipped = clip_to_slab(mesh.corners(t), z_lo, z_hi);
            if clipped.is_empty() {
                continue;
            }
            poly.clear();
            poly.extend(clipped.iter().map(|p| {
                DVec2::new(
                    f64::from(p.x - origin.x) / f64::from(cell),
                    f64::from(p.y - origin.y) / f64::from(cell),
                )
            }));
            cover_convex_polygon(&poly, nx, ny, |i, j| obstacle[j * nx + i] = true);
        }

        // (2) Floor under the cell centre.
        let bvh = Bvh::build(mesh);
        let probe_z = scene.floor_z + cfg.obstacle_min_h_m;
        let mut walkable = vec![false; n];
        for j in 0..ny {
            for i in 0..nx {
                let k = j * nx + i;
                if obstacle[k] {
                    continue;
                }
                let c = origin + Vec2::new(i as f32 + 0.5, j as f32 + 0.5) * cell;
                let ray = Ray::bounded(
                    Vec3::new(c.x, c.y, probe_z),
                    Vec3::NEG_Z,
                    0.0,
                    2.0 * cfg.obstacle_min_h_m,
                );
                walkable[k] = bvh.occluded(&ray);
            }
        }

        // (3) Erode by the agent disc. Stamping from boundary cells is enough: the nearest
        // non-walkable cell of any walkable cell can always be chosen on the boundary.
        let rc = f64::from(cfg.agent_radius_m / cell);
        let reach = rc.ceil() as i64 + 1;
        let mut kernel = Vec::new();
        for dj in -reach..=reach {
            for di in -reach..=reach {
                let gx = (di.abs() as f64 - 0.5).max(0.0);
                let gy = (dj.abs() as f64 - 0.5).max(0.0);
                if gx * gx + gy * gy <= rc * rc && (di, dj) != (0, 0) {
                    kernel.push((di, dj));
                }
            }
        }
        let mut kind: Vec<CellKind> = (0..n)
            .map(|k| {
                if obstacle[k] {
                    CellKind::Obstacle
                } else if walkable[k] {
                    CellKind::Disconnected
                } else {
                    CellKind::Outside
                }
            })
            .collect();
        for j in 0..ny as i64 {
            for i in 0..nx as i64 {
                let k = j as usize * nx + i as usize;
                if walkable[k] {
                    continue;
                }
                let boundary = [(1, 0), (-1, 0), (0, 1), (0, -1)].iter().any(|(di, dj)| {
                    let (a, b) = (i + di, j + dj);
                    a >= 0
                        && b >= 0
                        && (a as usize) < nx
                        && (b as usize) < ny
                        && walkable[b as usize * nx + a as usize]
                });
                if !boundary {
                    continue;
                }
                for (di, dj) in &kernel {
                    let (a, b) = (i + di, j + dj);
                    if a >= 0 && b >= 0 && (a as usize) < nx && (b as usize) < ny {
                        let q = b as usize * nx + a as usize;
                        if walkable[q] {
                            kind[q] = CellKind::Clearance;
                        }
                    }
                }
            }
        }
        // Cells touching the grid border are never navigable (they lack a full neighbourhood).
        for (k, c) in kind.iter_mut().enumerate() {
            let (i, j) = (k % nx, k / nx);
            if (i == 0 || j == 0 || i + 1 == nx || j + 1 == ny) && *c == CellKind::Disconnected {
                *c = CellKind::Clearance;
            }
        }

        // Walkable pockets that contain no navigable cell (the inside of walls and furniture given
        // as closed surfaces, slivers between objects) can never hold the agent: mark them as
        // obstacles so that maps and queries see solid matter there.
        let mut seen = vec![false; n];
        let mut queue = VecDeque::new();
        let mut pocket = Vec::new();
        for start in 0..n {
            if !walkable[start] || seen[start] {
                continue;
            }
            seen[start] = true;
            queue.push_back(start);
            pocket.clear();
            let mut has_navigable = false;
            while let Some(k) = queue.pop_front() {
                pocket.push(k);
                has_navigable |= kind[k] == CellKind::Disconnected;
                let (i, j) = (k % nx, k / nx);
                let neighbours = [
                    (i + 1 < nx).then(|| k + 1),
                    (i > 0).then(|| k - 1),
                    (j + 1 < ny).then(|| k + nx),
                    (j > 0).then(|| k - nx),
                ];
                for q in neighbours.into_iter().flatten() {
                    if walkable[q] && !seen[q] {
                        seen[q] = true;
                        queue.push_back(q);
                    }
                }
            }
            if !has_navigable {
                for &k in &pocket {
                    kind[k] = CellKind::Obstacle;
                }
            }
        }

        // (4) 4-connected regions of navigable cells; snap the goal.
        let mut label = vec![u32::MAX; n];
        let mut sizes: Vec<usize> = Vec::new();
        for start in 0..n {
            if kind[start] != CellKind::Disconnected || label[start] != u32::MAX {
                continue;
            }
            let id = sizes.len() as u32;
            let mut size = 0;
            label[start] = id;
            queue.push_back(start);
            while let Some(k) = queue.pop_front() {
                size += 1;
                for q in [k + 1, k - 1, k + nx, k - nx] {
                    if kind[q] == CellKind::Disconnected && label[q] == u32::MAX {
                        label[q] = id;
                        queue.push_back(q);
                    }
                }
            }
            sizes.push(size);
        }
        if sizes.is_empty() {
            return Err(NavError::NoNavigableCell {
                floor_z: scene.floor_z,
            });
        }
        let cell_area = cell * cell;
        let min_cells = (cfg.min_goal_region_m2 / cell_area).ceil() as usize;
        let source_xy = scene.source.position.truncate();
        let mut best: Option<(f32, usize)> = None;
        for k in 0..n {
            if label[k] == u32::MAX || sizes[label[k] as usize] < min_cells.max(1) {
                continue;
            }
            let c = origin + Vec2::new((k % nx) as f32 + 0.5, (k / nx) as f32 + 0.5) * cell;
            let d = c.distance_squared(source_xy);
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, k));
            }
        }
        let Some((_, goal_cell)) = best else {
            let cells = sizes.iter().copied().max().unwrap_or(0);
            return Err(NavError::GoalComponentTooSmall {
                cells,
                area_m2: cells as f32 * cell_area,
                min_area_m2: cfg.min_goal_region_m2,
            });
        };
        let goal_label = label[goal_cell];
        let mut reachable = Vec::with_capacity(sizes[goal_label as usize]);
        for k in 0..n {
            if label[k] == goal_label {
                kind[k] = CellKind::Reachable;
                reachable.push(k as u32);
            }
        }

        let mut grid = NavGrid {
            cfg: cfg.clone(),
            origin,
            nx,
            ny,
            kind,
            reachable,
            dist: Vec::new(),
            parent: Vec::new(),
            goal_cell,
            source_xy,
            goal_offset_m: 0.0,
            edges: edge_types(),
        };
        grid.goal_offset_m = grid.centre(goal_cell).distance(source_xy);
        // (5) The geodesic field.
        let (dist, parent) = grid.dijkstra(goal_cell);
        grid.dist = dist;
        grid.parent = parent;
        Ok(grid)
    }

    /// The configuration the grid was built with.
    pub fn config(&self) -> &NavConfig {
        &self.cfg
    }

    /// Cell edge length (m).
    pub fn cell_m(&self) -> f32 {
        self.cfg.cell_m
    }

    /// Grid size in cells `(nx, ny)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.nx, self.ny)
    }

    /// World-frame bounds of the grid `(min, max)` (m, horizontal plane).
    pub fn bounds(&self) -> (Vec2, Vec2) {
        (
            self.origin,
            self.origin + Vec2::new(self.nx as f32, self.ny as f32) * self.cfg.cell_m,
        )
    }

    /// Index of the cell containing `p` (m), or `None` outside the grid.
    pub(crate) fn cell_index(&self, p: Vec2) -> Option<usize> {
        let q = (p - self.origin) / self.cfg.cell_m;
        if !(q.x >= 0.0 && q.y >= 0.0) {
            return None;
        }
        let (i, j) = (q.x as usize, q.y as usize);
        (i < self.nx && j < self.ny).then_some(j * self.nx + i)
    }

    /// Centre (m) of cell `k`.
    pub(crate) fn centre(&self, k: usize) -> Vec2 {
        self.origin
            + Vec2::new((k % self.nx) as f32 + 0.5, (k / self.nx) as f32 + 0.5) * self.cfg.cell_m
    }

    /// World point (m) → grid index space (f64).
    pub(crate) fn to_index_space(&self, p: Vec2) -> DVec2 {
        (p - self.origin).as_dvec2() / f64::from(self.cfg.cell_m)
    }

    /// What occupies the cell containing `p` ([`CellKind::Outside`] outside the grid).
    pub fn cell_kind(&self, p: Vec2) -> CellKind {
        self.cell_index(p)
            .map_or(CellKind::Outside, |k| self.kind[k])
    }

    /// True if the agent's centre may be at `p` (m): its cell is reachable from the goal.
    pub fn is_navigable(&self, p: Vec2) -> bool {
        self.cell_kind(p) == CellKind::Reachable
    }

    /// The goal (m): centre of the reachable cell nearest to the source, where the source is
    /// snapped onto the navigable space (the source itself may stand on a table).
    pub fn goal(&self) -> Vec2 {
        self.centre(self.goal_cell)
    }

    /// Horizontal position of the sound source (m).
    pub fn source_xy(&self) -> Vec2 {
        self.source_xy
    }

    /// Number of reachable cells.
    pub fn reachable_cells(&self) -> usize {
        self.reachable.len()
    }

    /// Reachable area (m²): reachable cells × cell area.
    pub fn area_m2(&self) -> f32 {
        self.reachable.len() as f32 * self.cfg.cell_m * self.cfg.cell_m
    }

    /// A random navigable point: a reachable cell drawn uniformly, then a uniform position inside
    /// it (so the result is uniform over the reachable area).
    pub fn random_navigable_point(&self, rng: &mut impl Rng) -> Vec2 {
        let k = self.reachable[rng.random_range(0..self.reachable.len())] as usize;
        // Stay a hair inside the cell so that rounding cannot move the point to a neighbour.
        let u = Vec2::new(
            rng.random_range(0.001..0.999),
            rng.random_range(0.001..0.999),
        );
        let corner =
            self.origin + Vec2::new((k % self.nx) as f32, (k / self.nx) as f32) * self.cfg.cell_m;
        corner + u * self.cfg.cell_m
    }

    /// True if the straight segment `a → b` (m) touches only reachable cells.
    pub fn line_of_sight(&self, a: Vec2, b: Vec2) -> bool {
        let (nx, ny) = (self.nx as i64, self.ny as i64);
        segment_cells(self.to_index_space(a), self.to_index_space(b), |i, j| {
            i >= 0
                && j >= 0
                && i < nx
                && j < ny
                && self.kind[(j * nx + i) as usize] == CellKind::Reachable
        })
    }
}
