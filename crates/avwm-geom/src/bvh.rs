//! BVH over a [`TriMesh`]: `obvhs`' PLOC builder makes a binary BVH, which is collapsed into a
//! 4-wide BVH whose child boxes are stored as SIMD lanes (`glam::Vec4`, SSE on x86-64), and
//! traversed by our own ordered, stack-based loop (no per-ray allocation). Triangles are stored
//! in leaf order with precomputed edges.

use crate::mesh::{Hit, Ray, TriMesh};
use glam::{Vec3, Vec3A, Vec4};
use obvhs::{BvhBuildParams, bvh2::Bvh2, bvh2::builder::build_bvh2_from_tris};
use std::time::Duration;

/// Traversal stack entries kept on the machine stack; deeper trees use a heap stack.
const INLINE_STACK: usize = 64;

/// Stand-in for `1/0` in the slab test: `Δ·INV_ZERO` exceeds any scene distance for any
/// `|Δ| ≥ 1e-20` m and stays finite for `|Δ| ≤ 1e8` m (so no `0·∞ = NaN`).
const INV_ZERO: f32 = 1e30;

/// Relative widening of the slab test's exit distance (≈ 8 ulps).
const FAR_SCALE: f32 = 1.0 + 1e-6;

/// Box padding (m) per metre of coordinate magnitude (at least 1 m), far above `f32` rounding of
/// the coordinates; negligible for traversal cost.
const BOX_PAD: f32 = 1e-5;

/// A 4-wide node: per-lane child boxes, and per child either an inner node index
/// (`count == 0`) or a leaf's first triangle and triangle count.
#[derive(Clone, Copy, Debug)]
struct Node {
    lo_x: Vec4,
    lo_y: Vec4,
    lo_z: Vec4,
    hi_x: Vec4,
    hi_y: Vec4,
    hi_z: Vec4,
    child: [u32; 4],
    count: [u32; 4],
    /// Bit `i` set if lane `i` holds a child.
    valid: u32,
}

/// A triangle in leaf order: first corner, the two edges from it, and the mesh index.
#[derive(Clone, Copy, Debug)]
struct Tri {
    a: Vec3,
    e1: Vec3,
    e2: Vec3,
    original: u32,
}

/// A ray prepared for box tests.
struct Prepared {
    ox: Vec4,
    oy: Vec4,
    oz: Vec4,
    ix: Vec4,
    iy: Vec4,
    iz: Vec4,
    t_min: Vec4,
}

impl Prepared {
    #[inline(always)]
    fn new(ray: &Ray) -> Prepared {
        // `+ 0.0` turns `-0.0` into `+0.0`, so that an axis-parallel component gets a positive
        // stand-in reciprocal, consistently with its sign.
        let dir = Vec3A::from(ray.dir) + Vec3A::ZERO;
        let inv = dir.recip();
        let inv = Vec3A::select(
            inv.is_finite_mask(),
            inv,
            Vec3A::splat(INV_ZERO).copysign(dir),
        );
        Prepared {
            ox: Vec4::splat(ray.origin.x),
            oy: Vec4::splat(ray.origin.y),
            oz: Vec4::splat(ray.origin.z),
            ix: Vec4::splat(inv.x),
            iy: Vec4::splat(inv.y),
            iz: Vec4::splat(inv.z),
            t_min: Vec4::splat(ray.t_min),
        }
    }

    /// Entry distances of the four child boxes and the mask of those overlapping
    /// `[t_min, t_max]`.
    #[inline(always)]
    fn test(&self, n: &Node, t_max: f32) -> (Vec4, u32) {
        let x1 = (n.lo_x - self.ox) * self.ix;
        let x2 = (n.hi_x - self.ox) * self.ix;
        let y1 = (n.lo_y - self.oy) * self.iy;
        let y2 = (n.hi_y - self.oy) * self.iy;
        let z1 = (n.lo_z - self.oz) * self.iz;
        let z2 = (n.hi_z - self.oz) * self.iz;
        let near = x1.min(x2).max(y1.min(y2)).max(z1.min(z2)).max(self.t_min);
        // Rounding in the slab distances can put `near` an ulp past `far` for a ray through a box
        // edge (flat boxes of axis-aligned walls make this common); widen `far` by a few ulps,
        // as in Ize's robust BVH traversal (the boxes are also padded at build time).
        let far = (x1.max(x2).min(y1.max(y2)).min(z1.max(z2)) * FAR_SCALE).min(Vec4::splat(t_max));
        (near, near.cmple(far).bitmask() & n.valid)
    }
}

/// Möller–Trumbore with precomputed edges: the arithmetic of [`crate::mesh::intersect_triangle`]
/// (hence identical results) minus the two edge subtractions.
#[inline(always)]
fn intersect(
    origin: Vec3,
    dir: Vec3,
    tri: &Tri,
    t_min: f32,
    t_max: f32,
) -> Option<(f32, f32, f32)> {
    let p = dir.cross(tri.e2);
    let det = tri.e1.dot(p);
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = 1.0 / det;
    let s = origin - tri.a;
    let u = s.dot(p) * inv;
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = s.cross(tri.e1);
    let v = dir.dot(q) * inv;
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let t = tri.e2.dot(q) * inv;
    (t >= t_min && t <= t_max).then_some((t, u, v))
}

/// A bounding volume hierarchy over the triangles of one mesh, for closest-hit and
/// any-hit (occlusion) queries. Immutable after construction; `Sync`, so rays may be cast from
/// many threads at once.
#[derive(Clone)]
pub struct Bvh {
    nodes: Vec<Node>,
    /// Triangles in leaf order (with spatial splits a triangle may appear in several leaves).
    tris: Vec<Tri>,
    /// Number of mesh triangles.
    triangles: usize,
    /// Traversal stack entries needed in the worst case.
    stack_len: usize,
}

impl std::fmt::Debug for Bvh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bvh")
            .field("triangles", &self.triangles)
            .field("nodes", &self.nodes.len())
            .field("leaf_triangles", &self.tris.len())
            .field("stack_len", &self.stack_len)
            .finish()
    }
}

/// What a traversal does with a triangle hit.
trait Visitor {
    /// Called for a hit at `t` (closer than any before); returns true to stop the traversal.
    fn hit(&mut self, tri: u32, t: f32, u: f32, v: f32) -> bool;
}

/// Keeps the closest hit; among triangles hit at exactly the same distance, the one with the
/// highest mesh index, like [`TriMesh::cast_ray_brute_force`], so that the answer does not
/// depend on the tree layout (coplanar twins, e.g. the two sides of a wall, are common).
struct Closest(Option<(f32, f32, f32, u32)>);

impl Visitor for Closest {
    #[inline(always)]
    fn hit(&mut self, tri: u32, t: f32, u: f32, v: f32) -> bool {
        // Hits arrive with `t` no farther than the best so far.
        if !matches!(self.0, Some((bt, _, _, bi)) if bt == t && bi > tri) {
            self.0 = Some((t, u, v, tri));
        }
        false
    }
}

/// Stops at the first hit.
struct Any(bool);

impl Visitor for Any {
    #[inline(always)]
    fn hit(&mut self, _tri: u32, _t: f32, _u: f32, _v: f32) -> bool {
        self.0 = true;
        true
    }
}

/// Collapses the binary BVH below `b2` node `i` into 4-wide nodes appended to `out`; returns
/// the index of the node made for `i`, and updates `depth` (4-wide levels).
fn collapse(bvh2: &Bvh2, i: usize, out: &mut Vec<Node>, level: usize, depth: &mut usize) -> u32 {
    *depth = (*depth).max(level + 1);
    let n2 = &bvh2.nodes;
    // Open the largest inner child until there are four children (or only leaves).
    let mut kids: Vec<usize> = vec![n2[i].first_index as usize, n2[i].first_index as usize + 1];
    while kids.len() < 4 {
        let Some(pos) = kids
            .iter()
            .enumerate()
            .filter(|(_, k)| n2[**k].prim_count == 0)
            .max_by(|a, b| {
                n2[*a.1]
                    .aabb
                    .half_area()
                    .total_cmp(&n2[*b.1].aabb.half_area())
            })
            .map(|(p, _)| p)
        else {
            break;
        };
        let k = kids.swap_remove(pos);
        kids.push(n2[k].first_index as usize);
        kids.push(n2[k].first_index as usize + 1);
    }
    let me = out.len();
    // Unused lanes keep a zero box and are masked out by `valid`.
    out.push(Node {
        lo_x: Vec4::ZERO,
        lo_y: Vec4::ZERO,
        lo_z: Vec4::ZERO,
        hi_x: Vec4::ZERO,
        hi_y: Vec4::ZERO,
        hi_z: Vec4::ZERO,
        child: [0; 4],
        count: [0; 4],
        valid: 0,
    });
    let mut node = out[me];
    for (lane, &k) in kids.iter().enumerate() {
        let b = n2[k].aabb;
        let pad = BOX_PAD * b.min.abs().max(b.max.abs()).max_element().max(1.0);
        let b = obvhs::aabb::Aabb {
            min: b.min - pad,
            max: b.max + pad,
        };
        node.lo_x[lane] = b.min.x;
        node.lo_y[lane] = b.min.y;
        node.lo_z[lane] = b.min.z;
        node.hi_x[lane] = b.max.x;
        node.hi_y[lane] = b.max.y;
        node.hi_z[lane] = b.max.z;
        node.valid |= 1 << lane;
        if n2[k].prim_count > 0 {
            node.child[lane] = n2[k].first_index;
            node.count[lane] = n2[k].prim_count;
        } else {
            node.child[lane] = collapse(bvh2, k, out, level + 1, depth);
        }
    }
    out[me] = node;
    me as u32
}

impl Bvh {
    /// Builds the BVH (deterministic: the build runs single-threaded).
    ///
    /// ```
    /// use avwm_geom::{Bvh, Ray, TriMesh, Vec3};
    /// let mesh = TriMesh {
    ///     positions: vec![Vec3::new(1.0, -1.0, -1.0), Vec3::new(1.0, 1.0, -1.0), Vec3::new(1.0, 0.0, 1.0)],
    ///     triangles: vec![[0, 1, 2]],
    ///     material: vec![0],
    ///     vertex_colors: None,
    /// };
    /// let bvh = Bvh::build(&mesh);
    /// let hit = bvh.cast_ray(&Ray::new(Vec3::ZERO, Vec3::X)).unwrap();
    /// assert!((hit.t - 1.0).abs() < 1e-6);
    /// ```
    pub fn build(mesh: &TriMesh) -> Bvh {
        // `slow_build` (PLOC with a wide search, reinsertion, spatial pre-splits) with leaves of
        // at most 4 triangles measured fastest on the procedural apartments (benches/bvh.rs); the
        // build takes ~3 ms for 4 300 triangles, once per scene.
        let mut params = BvhBuildParams::slow_build();
        params.max_prims_per_leaf = 4;
        Self::build_with(mesh, params)
    }

    fn build_with(mesh: &TriMesh, params: BvhBuildParams) -> Bvh {
        let input: Vec<obvhs::triangle::Triangle> = (0..mesh.len())
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                obvhs::triangle::Triangle {
                    v0: a.into(),
                    v1: b.into(),
                    v2: c.into(),
                }
            })
            .collect();
        if input.is_empty() {
            return Bvh {
                nodes: Vec::new(),
                tris: Vec::new(),
                triangles: 0,
                stack_len: 0,
            };
        }
        let bvh2 = build_bvh2_from_tris(&input, params, &mut Duration::default());
        let tris = bvh2
            .primitive_indices
            .iter()
            .map(|&i| {
                let [a, b, c] = mesh.corners(i as usize);
                Tri {
                    a,
                    e1: b - a,
                    e2: c - a,
                    original: i,
                }
            })
            .collect();
        let mut nodes = Vec::new();
        let mut depth = 0;
        if bvh2.nodes[0].prim_count > 0 {
            // The whole mesh is one leaf: a root with that leaf in lane 0.
            let (b, lane0) = (bvh2.nodes[0].aabb, |v: f32| Vec4::new(v, 0.0, 0.0, 0.0));
            nodes.push(Node {
                lo_x: lane0(b.min.x),
                lo_y: lane0(b.min.y),
                lo_z: lane0(b.min.z),
                hi_x: lane0(b.max.x),
                hi_y: lane0(b.max.y),
                hi_z: lane0(b.max.z),
                child: [bvh2.nodes[0].first_index, 0, 0, 0],
                count: [bvh2.nodes[0].prim_count, 0, 0, 0],
                valid: 1,
            });
            depth = 1;
        } else {
            collapse(&bvh2, 0, &mut nodes, 0, &mut depth);
        }
        Bvh {
            nodes,
            tris,
            triangles: mesh.len(),
            // Each level leaves at most three entries behind on the stack, plus the current four.
            stack_len: 3 * depth + 4,
        }
    }

    /// Number of triangles.
    pub fn len(&self) -> usize {
        self.triangles
    }

    /// True if there are no triangles.
    pub fn is_empty(&self) -> bool {
        self.triangles == 0
    }

    /// Runs the traversal with a stack sized for this tree.
    #[inline(always)]
    fn traverse<V: Visitor>(&self, ray: &Ray, visitor: &mut V) {
        if self.nodes.is_empty() {
            return;
        }
        if self.stack_len <= INLINE_STACK {
            let mut stack = [(0u32, 0.0f32); INLINE_STACK];
            self.traverse_with(ray, visitor, &mut stack);
        } else {
            let mut stack = vec![(0u32, 0.0f32); self.stack_len];
            self.traverse_with(ray, visitor, &mut stack);
        }
    }

    /// Ordered depth-first traversal. The nearest child box hit is visited next; the others are
    /// pushed farthest first as `(4·node + lane, entry distance)` and skipped when popped if
    /// their box starts beyond the closest hit found meanwhile.
    #[inline(always)]
    fn traverse_with<V: Visitor>(&self, ray: &Ray, visitor: &mut V, stack: &mut [(u32, f32)]) {
        let r = Prepared::new(ray);
        let (o, d) = (ray.origin, ray.dir);
        let mut t_max = ray.t_max;
        let mut sp = 0usize;
        let mut slot = usize::MAX;
        loop {
            if slot == usize::MAX {
                // Root.
                slot = 0;
            } else {
                let (n, lane) = (&self.nodes[slot / 4], slot % 4);
                let count = n.count[lane] as usize;
                if count == 0 {
                    slot = n.child[lane] as usize * 4;
                } else {
                    let first = n.child[lane] as usize;
                    for tri in &self.tris[first..first + count] {
                        if let Some((t, u, v)) = intersect(o, d, tri, ray.t_min, t_max) {
                            t_max = t;
                            if visitor.hit(tri.original, t, u, v) {
                                return;
                            }
                        }
                    }
                    match pop_in_reach(stack, &mut sp, t_max) {
                        Some(s) => slot = s,
                        None => return,
                    }
                    continue;
                }
            }
            // `slot` is now 4 × an inner node's index: test its children.
            let current = slot / 4;
            let (near, mut mask) = r.test(&self.nodes[current], t_max);
            if mask == 0 {
                match pop_in_reach(stack, &mut sp, t_max) {
                    Some(s) => slot = s,
                    None => return,
                }
                continue;
            }
            let near = near.to_array();
            // Hit lanes sorted by decreasing entry distance; the last one is visited next.
            let mut lanes = [(0u32, 0.0f32); 4];
            let mut k = 0;
            while mask != 0 {
                let lane = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                let t = near[lane];
                let mut j = k;
                while j > 0 && lanes[j - 1].1 < t {
                    lanes[j] = lanes[j - 1];
                    j -= 1;
                }
                lanes[j] = ((current * 4 + lane) as u32, t);
                k += 1;
            }
            for &entry in &lanes[..k - 1] {
                stack[sp] = entry;
                sp += 1;
            }
            slot = lanes[k - 1].0 as usize;
        }
    }

    /// Closest hit along the ray within `[t_min, t_max]`, or `None`.
    pub fn cast_ray(&self, ray: &Ray) -> Option<Hit> {
        let mut best = Closest(None);
        self.traverse(ray, &mut best);
        best.0.map(|(t, u, v, triangle)| Hit { t, triangle, u, v })
    }

    /// True if any triangle intersects the ray within `[t_min, t_max]` (early exit).
    pub fn occluded(&self, ray: &Ray) -> bool {
        let mut any = Any(false);
        self.traverse(ray, &mut any);
        any.0
    }

    /// True if the open segment from `a` to `b` is free of geometry, ignoring `eps` metres at
    /// both ends (so that points lying on surfaces can see each other).
    pub fn visible(&self, a: Vec3, b: Vec3, eps: f32) -> bool {
        let delta = b - a;
        let len = delta.length();
        if len <= 2.0 * eps {
            return true;
        }
        !self.occluded(&Ray::bounded(a, delta / len, eps, len - eps))
    }
}

/// Pops stack entries until one whose entry distance is within `t_max` (the nearest hit so far)
/// and returns its slot; `None` when the stack runs empty.
#[inline(always)]
fn pop_in_reach(stack: &[(u32, f32)], sp: &mut usize, t_max: f32) -> Option<usize> {
    while *sp > 0 {
        *sp -= 1;
        let (slot, t) = stack[*sp];
        if t <= t_max {
            return Some(slot as usize);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_mesh(rng: &mut ChaCha8Rng, n: usize) -> TriMesh {
        let mut m = TriMesh::default();
        for i in 0..n {
            let c = Vec3::new(
                rng.random_range(-5.0..5.0),
                rng.random_range(-5.0..5.0),
                rng.random_range(-5.0..5.0),
            );
            for _ in 0..3 {
                m.positions.push(
                    c + Vec3::new(
                        rng.random_range(-0.6..0.6),
                        rng.random_range(-0.6..0.6),
                        rng.random_range(-0.6..0.6),
                    ),
                );
            }
            m.triangles
                .push([3 * i as u32, 3 * i as u32 + 1, 3 * i as u32 + 2]);
            m.material.push(0);
        }
        m
    }

    /// A closed unit box made of 12 triangles.
    fn unit_box() -> TriMesh {
        let mut m = TriMesh::default();
        m.push_box(Vec3::ZERO, Vec3::ONE, [0; 6], false);
        m
    }

    #[test]
    fn rays_with_negative_zero_direction_components_do_not_escape_a_closed_box() {
        let mesh = unit_box();
        let bvh = Bvh::build(&mesh);
        let o = Vec3::new(0.3, 0.6, 0.45);
        for dir in [
            Vec3::new(-0.0, -1.0, 0.0),
            Vec3::new(1.0, -0.0, -0.0),
            Vec3::new(-0.0, -0.0, 1.0),
            Vec3::new(-1.0, 0.0, -0.0),
        ] {
            let ray = Ray::new(o, dir);
            let hit = bvh
                .cast_ray(&ray)
                .expect("a ray inside a closed box must hit it");
            assert_eq!(Some(hit.t), mesh.cast_ray_brute_force(&ray).map(|h| h.t));
            assert!(bvh.occluded(&ray));
        }
    }

    /// Compares the BVH with brute force on one ray: same hit distance (ties between triangles
    /// at the same distance may pick either), same occlusion answer. Returns true on a hit.
    fn check_ray(bvh: &Bvh, mesh: &TriMesh, ray: &Ray) -> bool {
        let a = bvh.cast_ray(ray);
        let b = mesh.cast_ray_brute_force(ray);
        assert_eq!(bvh.occluded(ray), b.is_some(), "occlusion for {ray:?}");
        match (a, b) {
            (None, None) => false,
            (Some(a), Some(b)) => {
                assert!((a.t - b.t).abs() < 1e-5, "t {} vs {} for {ray:?}", a.t, b.t);
                if a.triangle != b.triangle {
                    assert!((a.t - b.t).abs() < 1e-6);
                }
                true
            }
            (a, b) => panic!("bvh {a:?} vs brute force {b:?} for {ray:?}"),
        }
    }

    #[test]
    fn bvh_equals_brute_force_in_a_procedural_apartment_including_axis_parallel_rays() {
        // Axis-aligned walls, doors and furniture: rays parallel to wall planes (exact zero
        // direction components, of both signs) are the slab test's edge case.
        let scene = avwm_scene::procedural::generate(3, &Default::default()).expect("valid config");
        let mesh = TriMesh {
            positions: scene.mesh.positions.clone(),
            triangles: scene.mesh.triangles.clone(),
            material: scene.mesh.material.clone(),
            vertex_colors: None,
        };
        let bvh = Bvh::build(&mesh);
        assert_eq!(bvh.len(), mesh.len());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut hits = 0;
        for i in 0..1500 {
            let room = &scene.rooms[rng.random_range(0..scene.rooms.len())];
            let o = Vec3::new(
                rng.random_range(room.min.x..room.max.x),
                rng.random_range(room.min.y..room.max.y),
                scene.floor_z + rng.random_range(0.05..2.4),
            );
            let d = match i % 3 {
                0 => {
                    let mut v = [0.0f32; 3];
                    v[rng.random_range(0..3)] = if rng.random() { 1.0 } else { -1.0 };
                    let z = if rng.random() { 0.0 } else { -0.0 };
                    Vec3::from(v.map(|c| if c == 0.0 { z } else { c }))
                }
                1 => {
                    let a: f32 = rng.random_range(0.0..std::f32::consts::TAU);
                    Vec3::new(a.cos(), a.sin(), -0.0)
                }
                _ => Vec3::new(
                    rng.random_range(-1.0..1.0),
                    rng.random_range(-1.0..1.0),
                    rng.random_range(-1.0..1.0),
                )
                .normalize(),
            };
            let t_min = if i % 5 == 0 { 0.3 } else { 0.0 };
            let t_max = if i % 2 == 0 {
                f32::INFINITY
            } else {
                rng.random_range(0.5..6.0)
            };
            hits += usize::from(check_ray(&bvh, &mesh, &Ray::bounded(o, d, t_min, t_max)));
        }
        assert!(hits > 600, "too few hits ({hits})");
    }

    #[test]
    fn probe_rays_next_to_room_corners_equal_brute_force() {
        // Lighting probes 1 mm off the walls of a room, up to the corners: rays that start
        // within a fraction of a millimetre of the neighbouring walls' (flat) boxes.
        let mut mesh = unit_box();
        for p in &mut mesh.positions {
            *p = Vec3::new(5.0 * p.x - 2.5, 5.0 * p.y - 2.5, 2.5 * p.z);
        }
        let bvh = Bvh::build(&mesh);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..4000 {
            let mut o = Vec3::new(
                rng.random_range(-2.5..2.5),
                rng.random_range(-2.5..2.5),
                rng.random_range(0.0..2.5),
            );
            // Snap one to three coordinates to 1 mm (or less) inside a wall.
            for a in 0..3 {
                if rng.random_bool(0.6) {
                    let (lo, hi) = if a == 2 { (0.0, 2.5) } else { (-2.5, 2.5) };
                    let inset = [1e-3, 1e-4, 1e-5, 0.0][rng.random_range(0..4)];
                    o[a] = if rng.random() { lo + inset } else { hi - inset };
                }
            }
            let d = Vec3::new(
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
            )
            .normalize();
            let t_max = if rng.random() { f32::INFINITY } else { 0.25 };
            check_ray(&bvh, &mesh, &Ray::bounded(o, d, 0.0, t_max));
        }
    }

    #[test]
    fn worst_case_stack_bound_holds_and_trivial_meshes_work() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mesh = random_mesh(&mut rng, 3000);
        let bvh = Bvh::build(&mesh);
        // Traversals with a stack of exactly the computed bound never index past it (a panic).
        let mut stack = vec![(0u32, 0.0f32); bvh.stack_len];
        for _ in 0..2000 {
            let o = Vec3::new(
                rng.random_range(-6.0..6.0),
                rng.random_range(-6.0..6.0),
                0.0,
            );
            let d = Vec3::new(rng.random_range(-1.0..1.0), 0.1, 0.2).normalize();
            let mut c = Closest(None);
            bvh.traverse_with(&Ray::new(o, d), &mut c, &mut stack);
            assert_eq!(
                c.0.map(|h| h.0),
                mesh.cast_ray_brute_force(&Ray::new(o, d)).map(|h| h.t)
            );
        }
        let empty = Bvh::build(&TriMesh::default());
        assert!(empty.is_empty());
        assert!(empty.cast_ray(&Ray::new(Vec3::ZERO, Vec3::X)).is_none());
        assert!(!empty.occluded(&Ray::new(Vec3::ZERO, Vec3::X)));
        let one = random_mesh(&mut rng, 1);
        let bvh = Bvh::build(&one);
        let target = (one.positions[0] + one.positions[1] + one.positions[2]) / 3.0;
        let o = target + Vec3::new(0.3, -2.0, 0.7);
        let ray = Ray::new(o, (target - o).normalize());
        assert!(check_ray(&bvh, &one, &ray));
        // A ray ending before the triangle misses it.
        let short = Ray::bounded(o, ray.dir, 0.0, 0.5 * (target - o).length());
        assert!(!check_ray(&bvh, &one, &short));
    }

    #[test]
    fn bvh_closest_hit_equals_brute_force_on_random_rays() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mesh = random_mesh(&mut rng, 2000);
        let bvh = Bvh::build(&mesh);
        let mut hits = 0;
        for _ in 0..5000 {
            let o = Vec3::new(
                rng.random_range(-6.0..6.0),
                rng.random_range(-6.0..6.0),
                rng.random_range(-6.0..6.0),
            );
            let d = Vec3::new(
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
            )
            .normalize();
            let ray = Ray::bounded(o, d, 0.0, rng.random_range(0.5..20.0));
            let a = bvh.cast_ray(&ray);
            let b = mesh.cast_ray_brute_force(&ray);
            match (a, b) {
                (None, None) => {}
                (Some(a), Some(b)) => {
                    hits += 1;
                    assert!((a.t - b.t).abs() < 1e-5, "t {} vs {}", a.t, b.t);
                    // Ties between triangles at the same distance may pick either.
                    if a.triangle != b.triangle {
                        assert!((a.t - b.t).abs() < 1e-6);
                    }
                }
                (a, b) => panic!("bvh {a:?} vs brute force {b:?} for {ray:?}"),
            }
            assert_eq!(bvh.occluded(&ray), b.is_some());
        }
        assert!(hits > 500, "too few hits ({hits}) to be a meaningful test");
    }
}
