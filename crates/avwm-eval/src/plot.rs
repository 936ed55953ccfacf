//! Per-horizon line charts (the paper's Fig. 6): one line per model, mean with point markers and
//! a light ±std band, drawn by [`avwm_plot::LineChart`] in its embedded font and written as PNG
//! with an SVG beside it (same name, extension `svg`).
//!
//! The chart is always [`CHART_WIDTH`] × [`CHART_HEIGHT`] pixels on a white background. Series
//! `i` is drawn in [`series_colour`]`(i)` (a fixed palette of [`PALETTE`]`.len()` colours,
//! repeating), its ±std band in the series colour at [`BAND_ALPHA`] opacity ([`band_colour`]`(i)`
//! on white; where bands of several series overlap they are blended over each other). The y range
//! covers every finite `mean ± std` with 5 % padding, rounded outwards to nice ticks; points whose
//! `x` or `mean` is not finite are skipped and break the line; a non-finite `std` counts as 0.

use crate::error::{EvalError, Result};
use avwm_core::RgbImage;
use avwm_plot::{Chart as _, LineChart};
use std::path::Path;

pub use avwm_plot::{BAND_ALPHA, PALETTE, Series, band_colour, series_colour};

/// Width of a line chart (px).
pub const CHART_WIDTH: u32 = LineChart::WIDTH;
/// Height of a line chart (px).
pub const CHART_HEIGHT: u32 = LineChart::HEIGHT;

/// A `CHART_WIDTH × CHART_HEIGHT` line chart ([`avwm_plot::LineChart`]): title on top, `y_label`
/// rotated on the left, `x_label` under the x tick labels, one line per series, grid lines at the
/// ticks and a legend in the plot corner with the least data. Odd data (no series, empty series,
/// a single point, constant values, non-finite numbers) gives a valid chart.
///
/// # Errors
/// [`EvalError::Plot`] if drawing fails (it does not for any data).
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<RgbImage> {
    Ok(LineChart {
        title,
        x_label,
        y_label,
        series,
    }
    .to_image()?)
}

/// Draws [`line_chart`] and writes it as a PNG to `path` and as SVG beside it
/// ([`avwm_plot::svg_path`]), atomically; creates the folder.
///
/// # Errors
/// [`EvalError::Io`] naming the path; [`EvalError::Plot`].
pub fn write_line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    LineChart {
        title,
        x_label,
        y_label,
        series,
    }
    .write(path)?;
    Ok(())
}

/// Encodes `img` as PNG and writes it atomically to `path`.
///
/// # Errors
/// [`EvalError::Plot`] if the image buffer does not match its size; [`EvalError::Io`].
pub(crate) fn write_png(path: &Path, img: &RgbImage) -> Result<()> {
    avwm_plot::write_png(path, img).map_err(EvalError::from)
}
