//! Per-horizon line charts (the paper's Fig. 6): one line per model, mean with point markers and
//! a light ±std band, drawn into an [`RgbImage`] with a built-in 5×7 pixel font (no system fonts
//! needed) and written as PNG.
//!
//! The chart is always [`CHART_WIDTH`] × [`CHART_HEIGHT`] pixels on a white background. Series
//! `i` is drawn in [`series_colour`]`(i)` (a fixed palette of [`PALETTE`]`.len()` colours,
//! repeating), its ±std band in [`band_colour`]`(i)` (the series colour blended 25 % over white;
//! where bands of several series overlap they are blended over each other). The y range covers
//! every finite `mean ± std` with 5 % padding, rounded outwards to nice ticks; points whose `x` or
//! `mean` is not finite are skipped and break the line; a non-finite `std` counts as 0.
//!
//! This module also holds the drawing helpers (canvas, font, atomic PNG writing) that
//! [`crate::sheet`] uses.

use crate::error::{EvalError, Result};
use avwm_core::RgbImage;
use std::path::Path;

/// Width of a line chart (px).
pub const CHART_WIDTH: u32 = 640;
/// Height of a line chart (px).
pub const CHART_HEIGHT: u32 = 400;

/// The series colours, in order (series `i` gets `PALETTE[i % PALETTE.len()]`).
pub const PALETTE: [[u8; 3]; 8] = [
    [31, 119, 180],
    [214, 39, 40],
    [44, 160, 44],
    [255, 127, 14],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [23, 190, 207],
];

/// Fraction of the series colour in its ±std band colour (the rest is white).
const BAND_ALPHA: f64 = 0.25;

/// The colour of series `i`'s mean line, markers and legend swatch.
pub fn series_colour(i: usize) -> [u8; 3] {
    PALETTE[i % PALETTE.len()]
}

/// The colour of series `i`'s ±std band where it lies on the white background alone.
pub fn band_colour(i: usize) -> [u8; 3] {
    blend([255, 255, 255], series_colour(i), BAND_ALPHA)
}

/// One line of a chart: `(x, mean, std)` points, drawn in `x` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, mean, std)` points.
    pub points: Vec<(f64, f64, f64)>,
}

// ---------------------------------------------------------------------------------------------
// Canvas and drawing helpers (shared with `sheet`).
// ---------------------------------------------------------------------------------------------

/// `a` blended towards `b` by `t` (0 = `a`, 1 = `b`).
pub(crate) fn blend(a: [u8; 3], b: [u8; 3], t: f64) -> [u8; 3] {
    std::array::from_fn(|k| (f64::from(a[k]) * (1.0 - t) + f64::from(b[k]) * t).round() as u8)
}

/// A white RGB image of the given size.
pub(crate) fn white(width: u32, height: u32) -> RgbImage {
    RgbImage {
        width,
        height,
        data: vec![255; width as usize * height as usize * 3],
    }
}

/// Sets one pixel (ignored outside the image).
pub(crate) fn put(img: &mut RgbImage, x: i64, y: i64, c: [u8; 3]) {
    if x >= 0 && y >= 0 && x < i64::from(img.width) && y < i64::from(img.height) {
        let i = (y as usize * img.width as usize + x as usize) * 3;
        img.data[i..i + 3].copy_from_slice(&c);
    }
}

/// Reads one pixel (`None` outside the image).
pub(crate) fn get(img: &RgbImage, x: i64, y: i64) -> Option<[u8; 3]> {
    if x >= 0 && y >= 0 && x < i64::from(img.width) && y < i64::from(img.height) {
        let i = (y as usize * img.width as usize + x as usize) * 3;
        Some([img.data[i], img.data[i + 1], img.data[i + 2]])
    } else {
        None
    }
}

/// Fills the rectangle `[x0, x1) × [y0, y1)` (clipped).
pub(crate) fn fill_rect(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    let (x0, x1) = (x0.max(0), x1.min(i64::from(img.width)));
    let (y0, y1) = (y0.max(0), y1.min(i64::from(img.height)));
    for y in y0..y1 {
        for x in x0..x1 {
            put(img, x, y, c);
        }
    }
}

/// Draws the 1-px outline of the rectangle `[x0, x1) × [y0, y1)`.
pub(crate) fn stroke_rect(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    fill_rect(img, x0, y0, x1, y0 + 1, c);
    fill_rect(img, x0, y1 - 1, x1, y1, c);
    fill_rect(img, x0, y0, x0 + 1, y1, c);
    fill_rect(img, x1 - 1, y0, x1, y1, c);
}

/// Copies `src` into `dst` with its top-left corner at `(x, y)` (clipped).
pub(crate) fn blit(dst: &mut RgbImage, src: &RgbImage, x: i64, y: i64) {
    let w = src.width as usize;
    if src.data.len() < w * src.height as usize * 3 {
        return;
    }
    for sy in 0..src.height as usize {
        for sx in 0..w {
            let i = (sy * w + sx) * 3;
            put(
                dst,
                x + sx as i64,
                y + sy as i64,
                [src.data[i], src.data[i + 1], src.data[i + 2]],
            );
        }
    }
}

/// A line of `thickness`-px square dots from `(x0, y0)` to `(x1, y1)`, clipped to `clip`
/// (`[x0, x1) × [y0, y1)`).
fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64), thickness: i64, c: [u8; 3], clip: Rect) {
    // Liang–Barsky: keep the part of the segment inside the clip box (with a margin), so that
    // far-off points (huge values) cost nothing.
    let m = thickness as f64 + 1.0;
    let (bx0, by0, bx1, by1) = (
        clip.x0 as f64 - m,
        clip.y0 as f64 - m,
        clip.x1 as f64 + m,
        clip.y1 as f64 + m,
    );
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
        return;
    }
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - bx0),
        (dx, bx1 - a.0),
        (-dy, a.1 - by0),
        (dy, by1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return;
    }
    let (a, b) = (
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    );
    let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as i64).max(1);
    for k in 0..=steps {
        let t = k as f64 / steps as f64;
        let x = (a.0 + (b.0 - a.0) * t).round() as i64 - thickness / 2;
        let y = (a.1 + (b.1 - a.1) * t).round() as i64 - thickness / 2;
        for dy in 0..thickness {
            for dx in 0..thickness {
                if clip.contains(x + dx, y + dy) {
                    put(img, x + dx, y + dy, c);
                }
            }
        }
    }
}

/// An axis-aligned pixel rectangle `[x0, x1) × [y0, y1)`.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Rect {
    fn contains(&self, x: i64, y: i64) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }
}

// ---------------------------------------------------------------------------------------------
// Pixel font.
// ---------------------------------------------------------------------------------------------

/// Glyph cell: 5 columns × 8 rows (rows 0–6 for capitals and digits, row 7 for descenders);
/// characters advance by [`ADVANCE`] columns.
const GLYPH_ROWS: usize = 8;
/// Horizontal advance per character (font pixels).
const ADVANCE: u32 = 6;

/// The glyphs: 8 rows of 5 columns separated by spaces, `#` = ink.
const FONT: &[(char, &str)] = &[
    (' ', "..... ..... ..... ..... ..... ..... ..... ....."),
    ('A', ".###. #...# #...# ##### #...# #...# #...# ....."),
    ('B', "####. #...# #...# ####. #...# #...# ####. ....."),
    ('C', ".###. #...# #.... #.... #.... #...# .###. ....."),
    ('D', "####. #...# #...# #...# #...# #...# ####. ....."),
    ('E', "##### #.... #.... ####. #.... #.... ##### ....."),
    ('F', "##### #.... #.... ####. #.... #.... #.... ....."),
    ('G', ".###. #...# #.... #.### #...# #...# .#### ....."),
    ('H', "#...# #...# #...# ##### #...# #...# #...# ....."),
    ('I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###. ....."),
    ('J', "..### ...#. ...#. ...#. ...#. #..#. .##.. ....."),
    ('K', "#...# #..#. #.#.. ##... #.#.. #..#. #...# ....."),
    ('L', "#.... #.... #.... #.... #.... #.... ##### ....."),
    ('M', "#...# ##.## #.#.# #.#.# #...# #...# #...# ....."),
    ('N', "#...# #...# ##..# #.#.# #..## #...# #...# ....."),
    ('O', ".###. #...# #...# #...# #...# #...# .###. ....."),
    ('P', "####. #...# #...# ####. #.... #.... #.... ....."),
    ('Q', ".###. #...# #...# #...# #.#.# #..#. .##.# ....."),
    ('R', "####. #...# #...# ####. #.#.. #..#. #...# ....."),
    ('S', ".#### #.... #.... .###. ....# ....# ####. ....."),
    ('T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ....."),
    ('U', "#...# #...# #...# #...# #...# #...# .###. ....."),
    ('V', "#...# #...# #...# #...# #...# .#.#. ..#.. ....."),
    ('W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#. ....."),
    ('X', "#...# #...# .#.#. ..#.. .#.#. #...# #...# ....."),
    ('Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.. ....."),
    ('Z', "##### ....# ...#. ..#.. .#... #.... ##### ....."),
    ('a', "..... ..... .###. ....# .#### #...# .#### ....."),
    ('b', "#.... #.... #.##. ##..# #...# #...# ####. ....."),
    ('c', "..... ..... .###. #.... #.... #...# .###. ....."),
    ('d', "....# ....# .##.# #..## #...# #...# .#### ....."),
    ('e', "..... ..... .###. #...# ##### #.... .###. ....."),
    ('f', "..##. .#..# .#... ###.. .#... .#... .#... ....."),
    ('g', "..... ..... .#### #...# #...# .#### ....# .###."),
    ('h', "#.... #.... #.##. ##..# #...# #...# #...# ....."),
    ('i', "..#.. ..... .##.. ..#.. ..#.. ..#.. .###. ....."),
    ('j', "...#. ..... ..##. ...#. ...#. ...#. #..#. .##.."),
    ('k', "#.... #.... #..#. #.#.. ##... #.#.. #..#. ....."),
    ('l', ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###. ....."),
    ('m', "..... ..... ##.#. #.#.# #.#.# #...# #...# ....."),
    ('n', "..... ..... #.##. ##..# #...# #...# #...# ....."),
    ('o', "..... ..... .###. #...# #...# #...# .###. ....."),
    ('p', "..... ..... ####. #...# #...# ####. #.... #...."),
    ('q', "..... ..... .#### #...# #...# .#### ....# ....#"),
    ('r', "..... ..... #.##. ##..# #.... #.... #.... ....."),
    ('s', "..... ..... .###. #.... .###. ....# ####. ....."),
    ('t', ".#... .#... ###.. .#... .#... .#..# ..##. ....."),
    ('u', "..... ..... #...# #...# #...# #..## .##.# ....."),
    ('v', "..... ..... #...# #...# #...# .#.#. ..#.. ....."),
    ('w', "..... ..... #...# #...# #.#.# #.#.# .#.#. ....."),
    ('x', "..... ..... #...# .#.#. ..#.. .#.#. #...# ....."),
    ('y', "..... ..... #...# #...# #...# .#### ....# .###."),
    ('z', "..... ..... ##### ...#. ..#.. .#... ##### ....."),
    ('0', ".###. #...# #..## #.#.# ##..# #...# .###. ....."),
    ('1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###. ....."),
    ('2', ".###. #...# ....# ...#. ..#.. .#... ##### ....."),
    ('3', "##### ...#. ..#.. ...#. ....# #...# .###. ....."),
    ('4', "...#. ..##. .#.#. #..#. ##### ...#. ...#. ....."),
    ('5', "##### #.... ####. ....# ....# #...# .###. ....."),
    ('6', "..##. .#... #.... ####. #...# #...# .###. ....."),
    ('7', "##### ....# ...#. ..#.. .#... .#... .#... ....."),
    ('8', ".###. #...# #...# .###. #...# #...# .###. ....."),
    ('9', ".###. #...# #...# .#### ....# ...#. .##.. ....."),
    ('.', "..... ..... ..... ..... ..... .##.. .##.. ....."),
    (',', "..... ..... ..... ..... ..... .##.. ..#.. .#..."),
    (':', "..... .##.. .##.. ..... .##.. .##.. ..... ....."),
    (';', "..... .##.. .##.. ..... .##.. ..#.. .#... ....."),
    ('-', "..... ..... ..... .###. ..... ..... ..... ....."),
    ('+', "..... ..#.. ..#.. ##### ..#.. ..#.. ..... ....."),
    ('±', "..#.. ..#.. ##### ..#.. ..#.. ..... ##### ....."),
    ('/', "..... ....# ...#. ..#.. .#... #.... ..... ....."),
    ('(', "...#. ..#.. .#... .#... .#... ..#.. ...#. ....."),
    (')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#... ....."),
    ('[', ".###. .#... .#... .#... .#... .#... .###. ....."),
    (']', ".###. ...#. ...#. ...#. ...#. ...#. .###. ....."),
    ('%', "##... ##..# ...#. ..#.. .#... #..## ...## ....."),
    ('_', "..... ..... ..... ..... ..... ..... ..... #####"),
    ('<', "...#. ..#.. .#... #.... .#... ..#.. ...#. ....."),
    ('>', ".#... ..#.. ...#. ....# ...#. ..#.. .#... ....."),
    ('=', "..... ..... ##### ..... ##### ..... ..... ....."),
    ('!', "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.. ....."),
    ('?', ".###. #...# ....# ...#. ..#.. ..... ..#.. ....."),
    ('\'', "..#.. ..#.. ..... ..... ..... ..... ..... ....."),
    ('"', ".#.#. .#.#. ..... ..... ..... ..... ..... ....."),
    ('*', "..... ..#.. #.#.# .###. #.#.# ..#.. ..... ....."),
    ('#', ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#. ....."),
    ('|', "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ....."),
    ('&', ".##.. #..#. #.#.. .#... #.#.# #..#. .##.# ....."),
    ('∅', "....# .###. #..## #.#.# ##..# .###. #.... ....."),
    ('Δ', "..#.. ..#.. .#.#. .#.#. #...# #...# ##### ....."),
    ('↑', "..#.. .###. #.#.# ..#.. ..#.. ..#.. ..#.. ....."),
    ('↓', "..#.. ..#.. ..#.. ..#.. #.#.# .###. ..#.. ....."),
    ('→', "..... ..#.. ...#. ##### ...#. ..#.. ..... ....."),
    ('×', "..... #...# .#.#. ..#.. .#.#. #...# ..... ....."),
];

/// Drawn for characters the font does not have.
const PLACEHOLDER: &str = "##### #...# #...# #...# #...# #...# ##### .....";

/// The 8 rows of `ch`'s glyph, bit 4 = leftmost column (unknown characters: a hollow box).
fn glyph(ch: char) -> [u8; GLYPH_ROWS] {
    let art = FONT
        .iter()
        .find(|(c, _)| *c == ch)
        .map_or(PLACEHOLDER, |(_, a)| a);
    let mut rows = [0u8; GLYPH_ROWS];
    for (r, row) in art.split(' ').take(GLYPH_ROWS).enumerate() {
        rows[r] = row
            .bytes()
            .fold(0u8, |acc, b| (acc << 1) | u8::from(b == b'#'));
    }
    rows
}

/// Width (px) of `s` drawn at `scale` (no trailing gap).
pub(crate) fn text_width(s: &str, scale: u32) -> u32 {
    let n = s.chars().count() as u32;
    (n * ADVANCE).saturating_sub(1) * scale
}

/// Height (px) of a line of text at `scale`, descenders included.
pub(crate) fn text_height(scale: u32) -> u32 {
    GLYPH_ROWS as u32 * scale
}

/// Draws `s` with its top-left at `(x, y)` with `scale × scale`-px dots.
pub(crate) fn draw_text(img: &mut RgbImage, x: i64, y: i64, s: &str, scale: u32, c: [u8; 3]) {
    let sc = i64::from(scale);
    for (k, ch) in s.chars().enumerate() {
        let ox = x + k as i64 * i64::from(ADVANCE) * sc;
        for (r, bits) in glyph(ch).iter().enumerate() {
            for col in 0..5i64 {
                if bits >> (4 - col) & 1 == 1 {
                    let (px, py) = (ox + col * sc, y + r as i64 * sc);
                    fill_rect(img, px, py, px + sc, py + sc, c);
                }
            }
        }
    }
}

/// Draws `s` rotated 90° anticlockwise (reading bottom to top) with its bounding box's
/// bottom-left corner at `(x, y)`.
fn draw_text_up(img: &mut RgbImage, x: i64, y: i64, s: &str, scale: u32, c: [u8; 3]) {
    let sc = i64::from(scale);
    for (k, ch) in s.chars().enumerate() {
        let oy = y - k as i64 * i64::from(ADVANCE) * sc;
        for (r, bits) in glyph(ch).iter().enumerate() {
            for col in 0..5i64 {
                if bits >> (4 - col) & 1 == 1 {
                    let (px, py) = (x + r as i64 * sc, oy - (col + 1) * sc);
                    fill_rect(img, px, py, px + sc, py + sc, c);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PNG output.
// ---------------------------------------------------------------------------------------------

/// Encodes `img` as PNG and writes it atomically to `path`.
///
/// # Errors
/// [`EvalError::Input`] if the image buffer does not match its size; [`EvalError::Io`].
pub(crate) fn write_png(path: &Path, img: &RgbImage) -> Result<()> {
    let png = avwm_data::media::encode_png(img)
        .map_err(|e| EvalError::Input(format!("{}: {e}", path.display())))?;
    Ok(avwm_core::write_atomic(path, &png)?)
}

// ---------------------------------------------------------------------------------------------
// Axes.
// ---------------------------------------------------------------------------------------------

/// A "nice" step (1, 2, 2.5 or 5 × 10^k) close to `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let n = if f < 1.5 {
        1.0
    } else if f < 2.25 {
        2.0
    } else if f < 3.5 {
        2.5
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    };
    n * mag
}

/// Decimals needed to print multiples of `step` exactly enough.
fn step_decimals(step: f64) -> usize {
    let mut d = 0usize;
    while d < 8
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-6
    {
        d += 1;
    }
    d
}

/// A tick label for `v` given the tick `step`.
fn tick_label(v: f64, step: f64) -> String {
    let a = v.abs();
    if a >= 1e5 || (step < 1e-4 && a > 0.0) {
        return format!("{v:.1e}");
    }
    let s = format!("{:.*}", step_decimals(step), v);
    // Avoid "-0" / "-0.00".
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Axis range `(lo, hi)` and nice ticks covering data in `[min, max]` (`pad`: relative padding).
/// Returns `(lo, hi, ticks, step)`; the range is rounded outwards to the ticks when `snap`.
fn axis(min: f64, max: f64, pad: f64, snap: bool) -> (f64, f64, Vec<f64>, f64) {
    let (mut lo, mut hi) = if min.is_finite() && max.is_finite() && min <= max {
        (min, max)
    } else {
        (0.0, 1.0)
    };
    if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(1e-300) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= d;
        hi += d;
    } else {
        let d = (hi - lo) * pad;
        lo -= d;
        hi += d;
    }
    let step = nice_step((hi - lo) / 5.0);
    if snap {
        lo = (lo / step).floor() * step;
        hi = (hi / step).ceil() * step;
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Guard against ranges that overflow (e.g. ±1e308): no ticks rather than millions.
    let n = last.checked_sub(first).unwrap_or(-1);
    let ticks = if step.is_finite() && (0..=100).contains(&n) {
        (first..=last).map(|k| k as f64 * step).collect()
    } else {
        Vec::new()
    };
    (lo, hi, ticks, step)
}

// ---------------------------------------------------------------------------------------------
// The chart.
// ---------------------------------------------------------------------------------------------

/// Valid points of a series sorted by x, split into runs of finite means (a non-finite mean
/// breaks the line); returns `(x, mean, |std| or 0)`.
fn runs(s: &Series) -> Vec<Vec<(f64, f64, f64)>> {
    let mut pts: Vec<(f64, f64, f64)> = s
        .points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
    for (x, m, sd) in pts {
        if m.is_finite() {
            let sd = if sd.is_finite() { sd.abs() } else { 0.0 };
            out.last_mut().expect("non-empty").push((x, m, sd));
        } else if !out.last().expect("non-empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// A `CHART_WIDTH × CHART_HEIGHT` line chart: title on top, `y_label` rotated on the left,
/// `x_label` under the x tick labels, one line per series (mean: 2-px line with square markers;
/// ±std: light band, or a light bar for an isolated point), grid lines at the ticks and a
/// legend box in the plot corner with the fewest points. Never panics on odd data: empty series,
/// a single point, constant values and non-finite numbers (skipped) all give a valid chart.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> RgbImage {
    const S: u32 = 2;
    let (w, h) = (i64::from(CHART_WIDTH), i64::from(CHART_HEIGHT));
    let black = [0, 0, 0];
    let grid = [232, 232, 232];
    let axis_grey = [90, 90, 90];
    let mut img = white(CHART_WIDTH, CHART_HEIGHT);

    let all_runs: Vec<Vec<Vec<(f64, f64, f64)>>> = series.iter().map(runs).collect();
    let pts = || all_runs.iter().flatten().flatten();
    let (mut x_min, mut x_max) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, m, sd) in pts() {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        for v in [m - sd, m + sd] {
            if v.is_finite() {
                y_min = y_min.min(v);
                y_max = y_max.max(v);
            }
        }
    }
    let has_data = x_min.is_finite();
    let (ylo, yhi, yticks, ystep) = axis(y_min, y_max, 0.05, true);
    let (xlo, xhi, mut xticks, xstep) = axis(x_min, x_max, 0.04, false);
    let ylabels: Vec<String> = yticks.iter().map(|&v| tick_label(v, ystep)).collect();

    // Layout.
    let th = i64::from(text_height(S));
    let label_w = ylabels.iter().map(|l| text_width(l, S)).max().unwrap_or(0);
    let plot = Rect {
        x0: 8 + th + 8 + i64::from(label_w) + 8,
        y0: 8 + th + 12,
        x1: w - 16,
        y1: h - (6 + th + 8 + th + 8),
    };
    let px = |x: f64| plot.x0 as f64 + (x - xlo) / (xhi - xlo) * (plot.x1 - 1 - plot.x0) as f64;
    let py =
        |y: f64| (plot.y1 - 1) as f64 - (y - ylo) / (yhi - ylo) * (plot.y1 - 1 - plot.y0) as f64;

    // Title, axis labels.
    let tw = i64::from(text_width(title, S));
    draw_text(&mut img, ((w - tw) / 2).max(4), 8, title, S, black);
    let xw = i64::from(text_width(x_label, S));
    let xc = (plot.x0 + plot.x1) / 2;
    draw_text(
        &mut img,
        (xc - xw / 2).max(4),
        h - 8 - th,
        x_label,
        S,
        black,
    );
    let yw = i64::from(text_width(y_label, S));
    let yc = (plot.y0 + plot.y1) / 2;
    draw_text_up(&mut img, 8, (yc + yw / 2).min(h - 4), y_label, S, black);

    // Y ticks and grid.
    for (v, l) in yticks.iter().zip(&ylabels) {
        let y = py(*v).round() as i64;
        fill_rect(&mut img, plot.x0, y, plot.x1, y + 1, grid);
        fill_rect(&mut img, plot.x0 - 5, y, plot.x0, y + 1, axis_grey);
        let lw = i64::from(text_width(l, S));
        draw_text(&mut img, plot.x0 - 8 - lw, y - th / 2 + 1, l, S, black);
    }
    // X ticks: the data's distinct x values when few and their labels fit, else nice ticks.
    let mut xs: Vec<f64> = pts().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let fmt_x = |v: f64, exact: bool| {
        if exact {
            let s = format!("{v}");
            if s.len() <= 8 {
                s
            } else {
                tick_label(v, xstep)
            }
        } else {
            tick_label(v, xstep)
        }
    };
    let mut exact = false;
    if !xs.is_empty() && xs.len() <= 12 {
        let labels: Vec<(f64, u32)> = xs
            .iter()
            .map(|&v| (px(v), text_width(&fmt_x(v, true), S)))
            .collect();
        exact = labels
            .windows(2)
            .all(|p| p[0].0 + f64::from(p[0].1) / 2.0 + 8.0 <= p[1].0 - f64::from(p[1].1) / 2.0);
        if exact {
            xticks = xs.clone();
        }
    }
    for v in &xticks {
        let x = px(*v).round() as i64;
        fill_rect(&mut img, x, plot.y0, x + 1, plot.y1, grid);
        fill_rect(&mut img, x, plot.y1, x + 1, plot.y1 + 5, axis_grey);
        let l = fmt_x(*v, exact);
        let lw = i64::from(text_width(&l, S));
        draw_text(
            &mut img,
            (x - lw / 2).clamp(0, (w - 2 - lw).max(0)),
            plot.y1 + 7,
            &l,
            S,
            black,
        );
    }

    // Bands (blended once per pixel per series, so a lone band has exactly `band_colour`).
    for (i, sruns) in all_runs.iter().enumerate() {
        let c = series_colour(i);
        let mut mask = vec![false; ((plot.x1 - plot.x0) * (plot.y1 - plot.y0)) as usize];
        let mut mark = |x: i64, ya: f64, yb: f64| {
            if x < plot.x0 || x >= plot.x1 {
                return;
            }
            let (t, b) = (ya.min(yb).round() as i64, ya.max(yb).round() as i64);
            for y in t.max(plot.y0)..=b.min(plot.y1 - 1) {
                mask[((y - plot.y0) * (plot.x1 - plot.x0) + x - plot.x0) as usize] = true;
            }
        };
        for run in sruns {
            if run.len() == 1 {
                let (x, m, sd) = run[0];
                if sd > 0.0 {
                    let cx = px(x).round() as i64;
                    for x in cx.saturating_sub(5)..=cx.saturating_add(5) {
                        mark(x, py(m - sd), py(m + sd));
                    }
                }
                continue;
            }
            for seg in run.windows(2) {
                let (a, b) = (seg[0], seg[1]);
                if a.2 == 0.0 && b.2 == 0.0 {
                    continue;
                }
                let (xa, xb) = (px(a.0), px(b.0));
                let x_from = xa.round().max((plot.x0 - 1) as f64) as i64;
                let x_to = xb.round().min(plot.x1 as f64) as i64;
                for x in x_from..=x_to {
                    let t = if xb > xa {
                        ((x as f64 - xa) / (xb - xa)).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let m = a.1 + (b.1 - a.1) * t;
                    let sd = a.2 + (b.2 - a.2) * t;
                    if sd > 0.0 {
                        mark(x, py(m - sd), py(m + sd));
                    }
                }
            }
        }
        for y in plot.y0..plot.y1 {
            for x in plot.x0..plot.x1 {
                if mask[((y - plot.y0) * (plot.x1 - plot.x0) + x - plot.x0) as usize] {
                    let under = get(&img, x, y).unwrap_or([255; 3]);
                    put(&mut img, x, y, blend(under, c, BAND_ALPHA));
                }
            }
        }
    }

    // Axes.
    fill_rect(
        &mut img,
        plot.x0 - 1,
        plot.y0,
        plot.x0,
        plot.y1 + 1,
        axis_grey,
    );
    fill_rect(
        &mut img,
        plot.x0 - 1,
        plot.y1,
        plot.x1,
        plot.y1 + 1,
        axis_grey,
    );

    // Lines and markers.
    let inner = Rect {
        x0: plot.x0,
        y0: plot.y0,
        x1: plot.x1,
        y1: plot.y1,
    };
    for (i, sruns) in all_runs.iter().enumerate() {
        let c = series_colour(i);
        for run in sruns {
            for seg in run.windows(2) {
                line(
                    &mut img,
                    (px(seg[0].0), py(seg[0].1)),
                    (px(seg[1].0), py(seg[1].1)),
                    2,
                    c,
                    inner,
                );
            }
            for &(x, m, _) in run {
                // Clamped: a marker far off the chart is not drawn (fill_rect clips).
                let (cx, cy) = (
                    px(x).round().clamp(-1e6, 1e6) as i64,
                    py(m).round().clamp(-1e6, 1e6) as i64,
                );
                fill_rect(&mut img, cx - 3, cy - 3, cx + 3, cy + 3, c);
            }
        }
    }

    if !has_data {
        let msg = "no data";
        let mw = i64::from(text_width(msg, S));
        draw_text(&mut img, xc - mw / 2, yc - th / 2, msg, S, axis_grey);
    }

    // Legend, in the plot corner covering the least data ink.
    if !series.is_empty() {
        let entry_h = th + 6;
        let lw = series
            .iter()
            .map(|s| text_width(&s.label, S))
            .max()
            .unwrap_or(0);
        let box_w = 8 + 20 + 6 + i64::from(lw) + 8;
        let box_h = 6 + entry_h * series.len() as i64;
        let corners = [
            (plot.x1 - 6 - box_w, plot.y0 + 6),
            (plot.x0 + 6, plot.y0 + 6),
            (plot.x1 - 6 - box_w, plot.y1 - 6 - box_h),
            (plot.x0 + 6, plot.y1 - 6 - box_h),
        ];
        // Data ink (lines, markers, bands) under a candidate box; grid and axes do not count.
        let count = |&(bx, by): &(i64, i64)| {
            let mut n = 0usize;
            for y in by - 4..by + box_h + 4 {
                for x in bx - 4..bx + box_w + 4 {
                    if let Some(p) = get(&img, x, y)
                        && p != [255, 255, 255]
                        && p != grid
                        && p != axis_grey
                    {
                        n += 1;
                    }
                }
            }
            n
        };
        let (bx, by) = corners
            .iter()
            .copied()
            .min_by_key(|c| count(c))
            .expect("four corners");
        fill_rect(&mut img, bx, by, bx + box_w, by + box_h, [255, 255, 255]);
        stroke_rect(&mut img, bx, by, bx + box_w, by + box_h, [160, 160, 160]);
        for (i, s) in series.iter().enumerate() {
            let ey = by + 6 + i as i64 * entry_h;
            let c = series_colour(i);
            let mid = ey + th / 2 - 1;
            fill_rect(&mut img, bx + 8, mid - 1, bx + 28, mid + 1, c);
            fill_rect(&mut img, bx + 15, mid - 3, bx + 21, mid + 3, c);
            draw_text(&mut img, bx + 34, ey, &s.label, S, black);
        }
    }
    img
}

/// Draws [`line_chart`] and writes it as a PNG to `path` (atomically; creates the folder).
///
/// # Errors
/// [`EvalError::Io`] naming the path.
pub fn write_line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    write_png(path, &line_chart(title, x_label, y_label, series))
}
