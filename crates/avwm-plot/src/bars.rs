//! Grouped bar charts (the dataset statistics of the paper's Fig. 2).

use crate::axis::{Ticked, nice_axis, tick_label};
use crate::line::{quiet_corner, rgb, text_w};
use crate::style::{AXIS, GRID, LABEL, LEGEND, MARGIN, TICK, TITLE};
use crate::{Chart, FONT, Result};
use plotters::backend::DrawingBackend;
use plotters::chart::ChartBuilder;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::Rectangle;
use plotters::style::{Color, RGBColor, TRANSPARENT, WHITE};

/// A grouped bar chart: group `g` spans `[g, g + 1)` on the x axis and holds one bar per series
/// (`values[g][s]`, from 0), side by side; a legend names the series in the corner that covers the
/// fewest bars; the y axis starts at 0 and ends at a nice tick above the largest value.
#[derive(Debug, Clone, Copy)]
pub struct BarChart<'a> {
    /// Title, centred on top.
    pub title: &'a str,
    /// x axis label.
    pub x_label: &'a str,
    /// y axis label (rotated, on the left).
    pub y_label: &'a str,
    /// Appended to every y tick label (e.g. `"%"`).
    pub y_suffix: &'a str,
    /// The series: legend name and colour.
    pub series: &'a [(&'a str, [u8; 3])],
    /// `values[g][s]`: the bar of series `s` in group `g` (non-finite or negative values draw no
    /// bar; missing entries neither).
    pub values: &'a [Vec<f64>],
    /// x ticks: position in group units (`g + 0.5` is the middle of group `g`) and label.
    pub x_ticks: &'a [(f64, String)],
}

impl BarChart<'_> {
    /// Width of a bar chart (px).
    pub const WIDTH: u32 = 640;
    /// Height of a bar chart (px).
    pub const HEIGHT: u32 = 360;
}

impl Chart for BarChart<'_> {
    fn size(&self) -> (u32, u32) {
        (Self::WIDTH, Self::HEIGHT)
    }

    fn name(&self) -> &str {
        self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let ok = |v: f64| v.is_finite() && v > 0.0;
        let max = self
            .values
            .iter()
            .flatten()
            .copied()
            .filter(|v| ok(*v))
            .fold(0.0, f64::max);
        let (mut y_axis, y_step) = nice_axis(0.0, if max > 0.0 { max } else { 1.0 }, 0.0, true);
        y_axis.lo = 0.0;
        y_axis.ticks.retain(|t| *t >= 0.0);
        let y_labels: Vec<String> = y_axis
            .ticks
            .iter()
            .map(|&v| format!("{}{}", tick_label(v, y_step), self.y_suffix))
            .collect();
        let mut tick_w = 0;
        for l in &y_labels {
            tick_w = tick_w.max(text_w(root, l, TICK)?);
        }
        let groups = self.values.len().max(1) as f64;
        let x_axis = Ticked {
            lo: 0.0,
            hi: groups,
            ticks: self.x_ticks.iter().map(|t| t.0).collect(),
        };
        let x_fmt = |v: &f64| {
            self.x_ticks
                .iter()
                .find(|t| t.0 == *v)
                .map(|t| t.1.clone())
                .unwrap_or_default()
        };
        let y_fmt = |v: &f64| format!("{}{}", tick_label(*v, y_step), self.y_suffix);
        let y_area = tick_w + 10 + LABEL as u32 + 10;
        let x_area = TICK as u32 + LABEL as u32 + 20;
        let y_hi = y_axis.hi;

        let mut chart = ChartBuilder::on(root)
            .caption(self.title, (FONT, TITLE))
            .margin(MARGIN)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(x_axis, y_axis)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
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

        let n = self.series.len().max(1) as f64;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let (pw, ph) = (f64::from(pw), f64::from(ph));
        let mut ink = Vec::new();
        for (s, (name, colour)) in self.series.iter().enumerate() {
            let c = rgb(*colour);
            let bar = |g: usize, v: f64| {
                let x0 = g as f64 + 0.1 + 0.8 * s as f64 / n;
                let x1 = x0 + 0.8 / n * 0.9;
                Rectangle::new([(x0, 0.0), (x1, v)], c.filled())
            };
            let bars: Vec<(usize, f64)> = self
                .values
                .iter()
                .enumerate()
                .filter_map(|(g, vals)| vals.get(s).copied().filter(|v| ok(*v)).map(|v| (g, v)))
                .collect();
            for &(g, v) in &bars {
                let x = (g as f64 + 0.1 + 0.8 * (s as f64 + 0.5) / n) / groups * pw;
                let top = (1.0 - v.min(y_hi) / y_hi) * ph;
                for k in 0..=8 {
                    ink.push((x, top + (ph - top) * f64::from(k) / 8.0));
                }
            }
            chart
                .draw_series(bars.into_iter().map(|(g, v)| bar(g, v)))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
        }
        if !self.series.is_empty() {
            let mut label_w = 0;
            for (name, _) in self.series {
                label_w = label_w.max(text_w(root, name, LEGEND)?);
            }
            let size = (
                f64::from(label_w) + 50.0,
                self.series.len() as f64 * (LEGEND + 6.0) + 12.0,
            );
            chart
                .configure_series_labels()
                .position(quiet_corner((pw, ph), size, &ink))
                .margin(10)
                .legend_area_size(24)
                .label_font((FONT, LEGEND))
                .background_style(WHITE)
                .border_style(RGBColor(160, 160, 160))
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}
