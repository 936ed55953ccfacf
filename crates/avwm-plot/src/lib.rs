//! The one home of avwm's charts and of the one font they use.
//!
//! * [`LineChart`]: per-horizon line charts (the paper's Fig. 6): one line per [`Series`], mean
//!   with point markers and a light ±std band;
//! * [`BarChart`]: grouped bar charts (the dataset statistics of the paper's Fig. 2);
//! * [`text`]: labels drawn onto an [`RgbImage`] (the evaluation's qualitative sheets).
//!
//! Charts are drawn with [plotters] twice from one description: into an RGB buffer (written as
//! PNG by [`avwm_core::encode_png`]) and as SVG (for papers), both written atomically by
//! [`avwm_core::write_atomic`]. All text is set in DejaVu Sans, embedded in this crate
//! (`fonts/DejaVuSans.ttf`, licence in `fonts/LICENSE-DejaVu.txt`) and rasterised by plotters'
//! `ab_glyph` feature (bitmap text is set by ab_glyph directly, with the glyphs' side bearings:
//! see `glyphs.rs`), so no system font, fontconfig or freetype is needed. The SVG names the font
//! as `font-family="DejaVu Sans, sans-serif"` (the text stays text, so it can be edited and
//! searched; a viewer without DejaVu Sans falls back to its sans-serif font).
//!
//! Output is deterministic: the same chart gives the same PNG and SVG bytes.
#![warn(missing_docs)]

mod axis;
mod bars;
mod glyphs;
mod line;
pub mod text;

pub use bars::BarChart;
pub use line::{BAND_ALPHA, LineChart, Series, band_colour};

use avwm_core::{IoError, PngError, RgbImage};
use plotters::backend::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use std::path::{Path, PathBuf};

/// The font family name charts use, as written into SVG files (a CSS font-family list: the
/// embedded DejaVu Sans, else the viewer's sans-serif font).
pub const FONT: &str = "DejaVu Sans, sans-serif";

/// The charts' common look.
pub(crate) mod style {
    use plotters::style::RGBColor;
    /// Font sizes (plotters' size: the font's line height in px).
    pub const TITLE: f64 = 22.0;
    pub const LABEL: f64 = 17.0;
    pub const TICK: f64 = 15.0;
    pub const LEGEND: f64 = 15.0;
    /// Space around the chart (px).
    pub const MARGIN: u32 = 12;
    /// Grid lines at the ticks.
    pub const GRID: RGBColor = RGBColor(232, 232, 232);
    /// Axis lines.
    pub const AXIS: RGBColor = RGBColor(90, 90, 90);
}

/// The embedded font file (DejaVu Sans 2.37, unmodified).
static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The series colours, in order (series `i` gets `PALETTE[i % PALETTE.len()]`): the first eight
/// colours of matplotlib's `tab10`, with red second.
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

/// The colour of series `i` (its line, markers, bars and legend swatch).
pub fn series_colour(i: usize) -> [u8; 3] {
    PALETTE[i % PALETTE.len()]
}

/// A chart or label could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Drawing failed (plotters' error, e.g. the embedded font could not be loaded).
    #[error("drawing \"{what}\": {message}")]
    Draw {
        /// The chart's title or the label being drawn.
        what: String,
        /// plotters' message.
        message: String,
    },
    /// The PNG encoder refused the image.
    #[error("{}: {source}", path.display())]
    Encode {
        /// The file that was to be written.
        path: PathBuf,
        /// The encoder's error.
        source: PngError,
    },
    /// A file could not be written (the path is in the error).
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Result of this crate.
pub type Result<T, E = PlotError> = std::result::Result<T, E>;

/// Registers the embedded font with plotters (once per process).
fn register_font() -> Result<(), String> {
    static REGISTERED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, plotters::style::FontStyle::Normal, FONT_BYTES)
                .map_err(|_| "the embedded font DejaVuSans.ttf could not be loaded".to_string())
        })
        .clone()
}

/// A chart, drawn from one description into an RGB image ([`Chart::to_image`]) and an SVG
/// document ([`Chart::to_svg`]), and written as both ([`Chart::write`]).
pub trait Chart {
    /// Size in pixels (SVG user units).
    fn size(&self) -> (u32, u32);
    /// What to call the chart in errors.
    fn name(&self) -> &str;
    /// Draws the whole chart on `root` (which covers the backend).
    ///
    /// # Errors
    /// plotters' drawing error, as text.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;

    /// The chart as a [`Chart::size`] RGB image.
    ///
    /// # Errors
    /// [`PlotError::Draw`] if plotters fails (it does not for any data).
    fn to_image(&self) -> Result<RgbImage>
    where
        Self: Sized,
    {
        render_image(self)
    }

    /// The chart as an SVG document.
    ///
    /// # Errors
    /// [`PlotError::Draw`] if plotters fails (it does not for any data).
    fn to_svg(&self) -> Result<String>
    where
        Self: Sized,
    {
        render_svg(self)
    }

    /// Writes the chart to `png` and, beside it, to [`svg_path`]`(png)` (atomically; creates
    /// the folder); returns both paths.
    ///
    /// # Errors
    /// [`PlotError::Io`] naming the file; [`PlotError::Draw`].
    fn write(&self, png: &Path) -> Result<[PathBuf; 2]>
    where
        Self: Sized,
    {
        write_chart(self, png)
    }
}

fn draw_error(what: &str, message: impl std::fmt::Display) -> PlotError {
    PlotError::Draw {
        what: what.to_string(),
        message: message.to_string(),
    }
}

/// Draws `chart` into an RGB image.
fn render_image(chart: &impl Chart) -> Result<RgbImage> {
    register_font().map_err(|e| draw_error(chart.name(), e))?;
    let (w, h) = chart.size();
    let mut img = RgbImage::new(w, h);
    {
        let root =
            glyphs::Bitmap(BitMapBackend::with_buffer(&mut img.data, (w, h))).into_drawing_area();
        chart.draw(&root).map_err(|e| draw_error(chart.name(), e))?;
        root.present().map_err(|e| draw_error(chart.name(), e))?;
    }
    Ok(img)
}

/// Draws `chart` as an SVG document.
fn render_svg(chart: &impl Chart) -> Result<String> {
    register_font().map_err(|e| draw_error(chart.name(), e))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
        chart.draw(&root).map_err(|e| draw_error(chart.name(), e))?;
        root.present().map_err(|e| draw_error(chart.name(), e))?;
    }
    Ok(svg)
}

/// The SVG file written beside the PNG file `png`: the same path with the extension `svg`.
pub fn svg_path(png: &Path) -> PathBuf {
    png.with_extension("svg")
}

/// Writes `img` as a PNG file (atomically; creates the folder).
///
/// # Errors
/// [`PlotError::Encode`] for a buffer that does not match the image size; [`PlotError::Io`].
pub fn write_png(path: &Path, img: &RgbImage) -> Result<()> {
    let png = avwm_core::encode_png(img).map_err(|source| PlotError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(avwm_core::write_atomic(path, &png)?)
}

/// Draws `chart` and writes it to `png` and to [`svg_path`]`(png)`; returns both paths.
fn write_chart(chart: &impl Chart, png: &Path) -> Result<[PathBuf; 2]> {
    let img = render_image(chart)?;
    let svg = render_svg(chart)?;
    write_png(png, &img)?;
    let svg_file = svg_path(png);
    avwm_core::write_atomic(&svg_file, svg.as_bytes())?;
    Ok([png.to_path_buf(), svg_file])
}
