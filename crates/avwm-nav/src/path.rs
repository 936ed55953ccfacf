//! Geodesic distances and shortest paths on the 16-connected grid graph.

use crate::grid::{CellKind, NavGrid};
use glam::Vec2;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A polyline on the floor plane (m) with its length.
#[derive(Debug, Clone, PartialEq)]
pub struct NavPath {
    /// Vertices (m), from the start to the end.
    pub points: Vec<Vec2>,
    /// Total length (m): the sum of the segment lengths.
    pub length_m: f32,
}

impl NavPath {
    /// A path through `points`; its length is computed.
    pub fn new(points: Vec<Vec2>) -> NavPath {
        let length_m = polyline_length(&points);
        NavPath { points, length_m }
    }

    /// A shortcut version by line-of-sight string pulling: from each kept vertex, jump to the
    /// farthest later vertex that is visible through reachable cells only
    /// ([`NavGrid::line_of_sight`]). Each jump replaces a sub-polyline by a straight segment, so
    /// by the triangle inequality the result is never longer than `self`. Vertices outside the
    /// reachable space (e.g. the source on a table) are kept as they are.
    pub fn smoothed(&self, grid: &NavGrid) -> NavPath {
        let pts = &self.points;
        if pts.len() <= 2 {
            return self.clone();
        }
        let mut out = vec![pts[0]];
        let mut i = 0;
        while i + 1 < pts.len() {
            let mut next = i + 1;
            if grid.is_navigable(pts[i]) {
                for j in (i + 2..pts.len()).rev() {
                    if grid.is_navigable(pts[j]) && grid.line_of_sight(pts[i], pts[j]) {
                        next = j;
                        break;
                    }
                }
            }
            out.push(pts[next]);
            i = next;
        }
        NavPath::new(out)
    }
}

fn polyline_length(points: &[Vec2]) -> f32 {
    points
        .windows(2)
        .map(|w| f64::from(w[0].distance(w[1])))
        .sum::<f64>() as f32
}

/// Min-heap entry ordered by `(cost, cell)` so that ties resolve identically on every run.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    cost: f64,
    cell: u32,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| other.cell.cmp(&self.cell))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl NavGrid {
    /// Calls `f(neighbour, edge_length_m)` for every graph edge leaving reachable cell `k`.
    #[inline]
    fn for_each_edge(&self, k: usize, mut f: impl FnMut(usize, f64)) {
        let (nx, ny) = (self.nx as i64, self.ny as i64);
        let (i, j) = ((k % self.nx) as i64, (k / self.nx) as i64);
        let cell = f64::from(self.cfg.cell_m);
        'edges: for e in &self.edges {
            let (ti, tj) = (i + i64::from(e.di), j + i64::from(e.dj));
            if ti < 0 || tj < 0 || ti >= nx || tj >= ny {
                continue;
            }
            for &(ci, cj) in &e.cells {
                let q = ((j + i64::from(cj)) * nx + i + i64::from(ci)) as usize;
                if self.kind[q] != CellKind::Reachable {
                    continue 'edges;
                }
            }
            f((tj * nx + ti) as usize, e.len_cells * cell);
        }
    }

    /// Dijkstra from `source` over the reachable cells: distance (m) and next cell towards `source`.
    pub(crate) fn dijkstra(&self, source: usize) -> (Vec<f32>, Vec<u32>) {
        let n = self.kind.len();
        let mut dist = vec![f64::INFINITY; n];
        let mut parent = vec![u32::MAX; n];
        let mut heap = BinaryHeap::new();
        dist[source] = 0.0;
        heap.push(Entry {
            cost: 0.0,
            cell: source as u32,
        });
        while let Some(Entry { cost, cell }) = heap.pop() {
            let k = cell as usize;
            if cost > dist[k] {
                continue;
            }
            self.for_each_edge(k, |q, w| {
                let c = cost + w;
                if c < dist[q] {
                    dist[q] = c;
                    parent[q] = cell;
                    heap.push(Entry {
                        cost: c,
                        cell: q as u32,
                    });
                }
            });
        }
        (dist.into_iter().map(|d| d as f32).collect(), parent)
    }

    /// A* from cell `a` to cell `b` (Euclidean heuristic, admissible and consistent on this graph):
    /// the cell sequence `a ..= b`, or `None` if `b` cannot be reached.
    fn astar(&self, a: usize, b: usize) -> Option<Vec<usize>> {
        let n = self.kind.len();
        let mut g = vec![f64::INFINITY; n];
        let mut parent = vec![u32::MAX; n];
        let mut closed = vec![false; n];
        let target = self.to_index_space(self.centre(b));
        let cell = f64::from(self.cfg.cell_m);
        let h = |k: usize| (self.to_index_space(self.centre(k)) - target).length() * cell;
        let mut heap = BinaryHeap::new();
        g[a] = 0.0;
        heap.push(Entry {
            cost: h(a),
            cell: a as u32,
        });
        while let Some(Entry { cell: c, .. }) = heap.pop() {
            let k = c as usize;
            if closed[k] {
                continue;
            }
            closed[k] = true;
            if k == b {
                let mut cells = vec![b];
                let mut cur = b;
                while cur != a {
                    cur = parent[cur] as usize;
                    cells.push(cur);
                }
                cells.reverse();
                return Some(cells);
            }
            let gk = g[k];
            self.for_each_edge(k, |q, w| {
                let c2 = gk + w;
                if c2 < g[q] && !closed[q] {
                    g[q] = c2;
                    parent[q] = k as u32;
                    heap.push(Entry {
                        cost: c2 + h(q),
                        cell: q as u32,
                    });
                }
            });
        }
        None
    }

    /// Cell centres of a cell sequence, dropping the middle cell of every pair of equal
    /// consecutive steps (the polyline and its length are unchanged).
    fn cells_to_points(&self, cells: &[usize]) -> Vec<Vec2> {
        let nx = self.nx as i64;
        let step =
            |a: usize, b: usize| (b as i64 % nx - a as i64 % nx, b as i64 / nx - a as i64 / nx);
        let mut pts = Vec::with_capacity(cells.len());
        for (m, &c) in cells.iter().enumerate() {
            let interior = m > 0 && m + 1 < cells.len();
            if interior && step(cells[m - 1], c) == step(c, cells[m + 1]) {
                continue;
            }
            pts.push(self.centre(c));
        }
        pts
    }

    /// Geodesic distance (m) from `p` to the sound source, O(1):
    /// `|p − centre(cell(p))| + D[cell(p)] + |goal − source_xy|`, where `D` is the grid-graph
    /// distance from the cell centre to the goal cell centre (see the error bound on [`NavGrid`]).
    /// `f32::INFINITY` if `p` is not navigable.
    pub fn geodesic_to_source(&self, p: Vec2) -> f32 {
        match self.cell_index(p) {
            Some(k) if self.kind[k] == CellKind::Reachable => {
                p.distance(self.centre(k)) + self.dist[k] + self.goal_offset_m
            }
            _ => f32::INFINITY,
        }
    }

    /// The path behind [`NavGrid::geodesic_to_source`]: `p → centre(cell(p)) → … → goal →
    /// source_xy`; its length equals the geodesic (to float precision). `None` if `p` is not
    /// navigable.
    pub fn path_to_source(&self, p: Vec2) -> Option<NavPath> {
        let k = self
            .cell_index(p)
            .filter(|&k| self.kind[k] == CellKind::Reachable)?;
        let mut cells = vec![k];
        let mut cur = k;
        while cur != self.goal_cell {
            cur = self.parent[cur] as usize;
            cells.push(cur);
        }
        let mut pts = vec![p];
        pts.extend(self.cells_to_points(&cells));
        pts.push(self.source_xy);
        Some(NavPath::new(pts))
    }

    /// Shortest grid path between two navigable points (A* on the same graph, same length
    /// convention: `a → centre(cell(a)) → … → centre(cell(b)) → b`). `None` if either point is
    /// not navigable.
    pub fn shortest_path(&self, a: Vec2, b: Vec2) -> Option<NavPath> {
        let ka = self
            .cell_index(a)
            .filter(|&k| self.kind[k] == CellKind::Reachable)?;
        let kb = self
            .cell_index(b)
            .filter(|&k| self.kind[k] == CellKind::Reachable)?;
        let cells = self.astar(ka, kb)?;
        let mut pts = vec![a];
        pts.extend(self.cells_to_points(&cells));
        pts.push(b);
        Some(NavPath::new(pts))
    }

    /// Geodesic distance (m) between two navigable points: the length of
    /// [`NavGrid::shortest_path`]. `None` if either point is not navigable.
    pub fn geodesic(&self, a: Vec2, b: Vec2) -> Option<f32> {
        self.shortest_path(a, b).map(|p| p.length_m)
    }
}
