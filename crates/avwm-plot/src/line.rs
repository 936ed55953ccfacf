//! Line charts with ±std bands (the paper's Fig. 6).

use crate::axis::{nice_axis, tick_label};
use crate::style::{AXIS, GRID, LABEL, LEGEND, MARGIN, TICK, TITLE};
use crate::{Chart, FONT, Result, series_colour};
use plotters::backend::DrawingBackend;
use plotters::chart::{ChartBuilder, SeriesLabelPosition};
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, EmptyElement, PathElement, Polygon, Rectangle, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, RGBColor, TRANSPARENT, TextStyle, WHITE};

/// Opacity of a series' ±std band (drawn in the series colour over what lies under it).
pub const BAND_ALPHA: f64 = 0.25;

/// The colour of series `i`'s ±std band where it lies on the white background alone: the series
/// colour at [`BAND_ALPHA`] over white, rounded (plotters' bitmap blending may differ by 1 per
/// channel: it rounds towards the background in some places and to the nearest in others).
pub fn band_colour(i: usize) -> [u8; 3] {
    let c = series_colour(i);
    std::array::from_fn(|k| {
        (f64::from(c[k]) * BAND_ALPHA + 255.0 * (1.0 - BAND_ALPHA)).round() as u8
    })
}

/// One line of a chart: `(x, mean, std)` points, drawn in `x` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, mean, std)` points.
    pub points: Vec<(f64, f64, f64)>,
}

/// A line chart: one line per series (mean: 2-px line with round markers; ±std: a band of
/// [`BAND_ALPHA`] opacity, or a short bar for an isolated point), grid lines at the ticks, a
/// legend in the plot corner that covers the least data.
///
/// The y range covers every finite `mean ± std` with 5 % padding, rounded outwards to nice ticks;
/// the x ticks are the data's distinct x values when there are at most 12 and their labels fit,
/// else nice ticks. Points whose `x` or `mean` is not finite are skipped and break the line; a
/// non-finite `std` counts as 0. Never fails on odd data: no series, empty series, a single point,
/// constant values and non-finite numbers all give a valid chart ("no data" when nothing is left).
#[derive(Debug, Clone, Copy)]
pub struct LineChart<'a> {
    /// Title, centred on top.
    pub title: &'a str,
    /// x axis label.
    pub x_label: &'a str,
    /// y axis label (rotated, on the left).
    pub y_label: &'a str,
    /// The lines; series `i` is drawn in [`series_colour`]`(i)`.
    pub series: &'a [Series],
}

impl LineChart<'_> {
    /// Width of a line chart (px).
    pub const WIDTH: u32 = 640;
    /// Height of a line chart (px).
    pub const HEIGHT: u32 = 400;
}

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

pub(crate) fn rgb(c: [u8; 3]) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// Text width in px as plotters lays it out.
pub(crate) fn text_w<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &str,
    size: f64,
) -> Result<u32, String> {
    root.estimate_text_size(s, &TextStyle::from((FONT, size).into_font()))
        .map(|(w, _)| w)
        .map_err(|e| e.to_string())
}

/// The legend corner (plotters' position) whose box of `size` px, placed as plotters places it
/// in a plot area of `plot` px, covers the fewest of the `ink` points (plot-area pixels); ties go
/// to the first of upper right, upper left, lower right, lower left.
pub(crate) fn quiet_corner(
    plot: (f64, f64),
    size: (f64, f64),
    ink: &[(f64, f64)],
) -> SeriesLabelPosition {
    let (pw, ph) = plot;
    let (w, h) = size;
    let m = 10.0;
    let corners = [
        (SeriesLabelPosition::UpperRight, pw - m - w, m),
        (SeriesLabelPosition::UpperLeft, m, m),
        (SeriesLabelPosition::LowerRight, pw - m - w, ph - m - h),
        (SeriesLabelPosition::LowerLeft, m, ph - m - h),
    ];
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for (pos, x0, y0) in corners {
        let n = ink
            .iter()
            .filter(|(x, y)| {
                *x >= x0 - 4.0 && *x <= x0 + w + 4.0 && *y >= y0 - 4.0 && *y <= y0 + h + 4.0
            })
            .count();
        if n < best.0 {
            best = (n, pos);
        }
    }
    best.1
}

impl Chart for LineChart<'_> {
    fn size(&self) -> (u32, u32) {
        (Self::WIDTH, Self::HEIGHT)
    }

    fn name(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;

        let all_runs: Vec<Vec<Vec<(f64, f64, f64)>>> = self.series.iter().map(runs).collect();
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
        let (y_axis, y_step) = nice_axis(y_min, y_max, 0.05, true);
        let (mut x_axis, x_step) = nice_axis(x_min, x_max, 0.04, false);
        let y_labels: Vec<String> = y_axis
            .ticks
            .iter()
            .map(|&v| tick_label(v, y_step))
            .collect();

        // Layout: the y label area holds the rotated axis label and the widest tick label.
        let mut tick_w = 0;
        for l in &y_labels {
            tick_w = tick_w.max(text_w(root, l, TICK)?);
        }
        let y_area = tick_w + 10 + LABEL as u32 + 10;
        let x_area = TICK as u32 + LABEL as u32 + 20;
        let plot_w = f64::from(Self::WIDTH - 2 * MARGIN - y_area);

        // X ticks: the data's distinct x values when few and their labels fit, else nice ticks.
        let mut xs: Vec<f64> = pts().map(|p| p.0).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let exact_label = |v: f64| {
            let s = format!("{v}");
            if s.len() <= 8 {
                s
            } else {
                tick_label(v, x_step)
            }
        };
        let mut exact = false;
        if !xs.is_empty() && xs.len() <= 12 {
            let mut placed = Vec::new();
            for &v in &xs {
                let w = f64::from(text_w(root, &exact_label(v), TICK)?);
                placed.push((x_axis.fraction(v) * plot_w, w));
            }
            exact = placed
                .windows(2)
                .all(|p| p[0].0 + p[0].1 / 2.0 + 8.0 <= p[1].0 - p[1].1 / 2.0);
            if exact {
                x_axis.ticks = xs.clone();
            }
        }
        let x_fmt = |v: &f64| {
            if exact {
                exact_label(*v)
            } else {
                tick_label(*v, x_step)
            }
        };
        let y_fmt = |v: &f64| tick_label(*v, y_step);
        let (x_lo, x_hi) = (x_axis.lo, x_axis.hi);
        let y_frac = {
            let a = y_axis.clone();
            move |v: f64| a.fraction(v)
        };
        let x_frac = {
            let a = x_axis.clone();
            move |v: f64| a.fraction(v)
        };

        let mut chart = ChartBuilder::on(root)
            .caption(self.title, (FONT, TITLE))
            .margin(MARGIN)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(x_axis, y_axis)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .label_style((FONT, TICK))
            .axis_desc_style((FONT, LABEL))
            .draw()
            .map_err(err)?;

        // Bands.
        let bar_half = 0.012 * (x_hi - x_lo);
        for (i, sruns) in all_runs.iter().enumerate() {
            let band = rgb(series_colour(i)).mix(BAND_ALPHA).filled();
            for run in sruns {
                if run.iter().all(|p| p.2 == 0.0) {
                    continue;
                }
                if let [(x, m, sd)] = run[..] {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - bar_half, m - sd), (x + bar_half, m + sd)],
                            band,
                        )))
                        .map_err(err)?;
                    continue;
                }
                let outline: Vec<(f64, f64)> = run
                    .iter()
                    .map(|p| (p.0, p.1 + p.2))
                    .chain(run.iter().rev().map(|p| (p.0, p.1 - p.2)))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(outline, band)))
                    .map_err(err)?;
            }
        }

        // Lines, markers and legend entries.
        for (i, sruns) in all_runs.iter().enumerate() {
            let c = rgb(series_colour(i));
            let line = c.stroke_width(2);
            chart
                .draw_series(sruns.iter().filter(|r| r.len() > 1).map(|r| {
                    PathElement::new(r.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), line)
                }))
                .map_err(err)?
                .label(self.series[i].label.as_str())
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (20, 0)], line)
                        + Circle::new((10, 0), 3, c.filled())
                });
            chart
                .draw_series(
                    sruns
                        .iter()
                        .flatten()
                        .map(|p| Circle::new((p.0, p.1), 3, c.filled())),
                )
                .map_err(err)?;
        }

        if !has_data {
            chart
                .plotting_area()
                .draw(&Text::new(
                    "no data",
                    ((x_lo + x_hi) / 2.0, 0.5),
                    TextStyle::from((FONT, LABEL).into_font())
                        .color(&AXIS)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(err)?;
        }

        if !self.series.is_empty() {
            let (pw, ph) = chart.plotting_area().dim_in_pixel();
            let (pw, ph) = (f64::from(pw), f64::from(ph));
            let mut label_w = 0;
            for s in self.series {
                label_w = label_w.max(text_w(root, &s.label, LEGEND)?);
            }
            let size = (
                f64::from(label_w) + 50.0,
                self.series.len() as f64 * (LEGEND + 6.0) + 12.0,
            );
            // Where the data is drawn (plot-area pixels): means, band edges and band insides.
            let mut ink = Vec::new();
            for run in all_runs.iter().flatten() {
                let mut add = |x: f64, m: f64, sd: f64| {
                    for k in -2..=2 {
                        let y = m + sd * f64::from(k) / 2.0;
                        ink.push((x_frac(x) * pw, (1.0 - y_frac(y)) * ph));
                    }
                };
                if let [p] = run[..] {
                    add(p.0, p.1, p.2);
                }
                for seg in run.windows(2) {
                    let (a, b) = (seg[0], seg[1]);
                    for k in 0..=32 {
                        let t = f64::from(k) / 32.0;
                        let lerp = |u: f64, v: f64| u + (v - u) * t;
                        add(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2));
                    }
                }
            }
            chart
                .configure_series_labels()
                .position(quiet_corner((pw, ph), size, &ink))
                .margin(10)
                .legend_area_size(28)
                .label_font((FONT, LEGEND))
                .background_style(WHITE)
                .border_style(RGBColor(160, 160, 160))
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}
