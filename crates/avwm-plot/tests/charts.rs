//! Line and bar charts: PNG and SVG contents, determinism, odd data.

use avwm_core::RgbImage;
use avwm_plot::{
    BarChart, Chart as _, LineChart, PALETTE, Series, band_colour, series_colour, svg_path,
};

fn pixels(img: &RgbImage, c: [u8; 3]) -> usize {
    img.data.chunks_exact(3).filter(|p| *p == c).count()
}

/// Pixels within 1 of `c` in every channel (blending rounds either way).
fn near(img: &RgbImage, c: [u8; 3]) -> usize {
    img.data
        .chunks_exact(3)
        .filter(|p| p.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 1))
        .count()
}

fn decode(bytes: &[u8]) -> RgbImage {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    RgbImage {
        width: info.width,
        height: info.height,
        data: buf,
    }
}

/// A folder for the outputs: `$AVWM_KEEP_PLOTS` when set (to look at them), else a temporary one.
fn out_dir(tmp: &tempfile::TempDir) -> std::path::PathBuf {
    std::env::var_os("AVWM_KEEP_PLOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf())
}

fn horizons(n: usize, with_std: bool) -> Vec<Series> {
    let hs = [1.0, 2.0, 4.0, 8.0, 16.0];
    (0..n)
        .map(|i| Series {
            label: format!("model {i} <±std> Δt"),
            points: hs
                .iter()
                .map(|&h: &f64| {
                    let sd = if with_std { 0.01 + 0.004 * h } else { 0.0 };
                    (h, 0.1 + 0.1 * i as f64 + 0.03 * h.ln(), sd)
                })
                .collect(),
        })
        .collect()
}

fn chart(series: &[Series]) -> LineChart<'_> {
    LineChart {
        title: "LPIPS vs horizon Δt (mean ± std) & <more>",
        x_label: "Δt (steps)",
        y_label: "LPIPS↓",
        series,
    }
}

#[test]
fn line_chart_png_has_the_size_and_every_series_colour() {
    let series = horizons(PALETTE.len(), false);
    let img = chart(&series).to_image().unwrap();
    assert_eq!(
        (img.width, img.height),
        (LineChart::WIDTH, LineChart::HEIGHT)
    );
    for i in 0..series.len() {
        assert!(pixels(&img, series_colour(i)) > 50, "series {i}");
        let n = near(&img, band_colour(i));
        assert!(
            n < 60,
            "no band with std = 0 (anti-aliased line edges only): {n} px of series {i}"
        );
    }
    // Text: anti-aliased, but the font's stems give solid black pixels.
    assert!(pixels(&img, [0, 0, 0]) > 200, "text");

    let series = horizons(3, true);
    let img = chart(&series).to_image().unwrap();
    assert!(
        near(&img, band_colour(0)) > 500,
        "band of series 0: {}",
        near(&img, band_colour(0))
    );
    for i in 0..3 {
        assert!(pixels(&img, series_colour(i)) > 50, "series {i}");
    }
}

#[test]
fn line_chart_svg_has_title_lines_bands_and_legend() {
    let series = horizons(3, true);
    let svg = chart(&series).to_svg().unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..100]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("LPIPS vs horizon Δt (mean ± std) &amp; &lt;more&gt;"));
    assert!(svg.contains("font-family=\"DejaVu Sans, sans-serif\""));
    for (i, s) in series.iter().enumerate() {
        let hex = {
            let c = series_colour(i);
            format!("#{:02X}{:02X}{:02X}", c[0], c[1], c[2])
        };
        let lines = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&hex))
            .count();
        // The mean line and the legend's swatch.
        assert_eq!(lines, 2, "series {i}");
        let bands = svg
            .lines()
            .filter(|l| l.starts_with("<polygon") && l.contains(&hex))
            .count();
        assert_eq!(bands, 1, "series {i}");
        assert!(svg.contains("opacity=\"0.25\""));
        let label = s.label.replace('<', "&lt;").replace('>', "&gt;");
        assert!(svg.contains(&label), "legend {label}");
    }
    // Tick labels: the horizons themselves.
    for h in ["1", "2", "4", "8", "16"] {
        assert!(svg.contains(&format!(">\n{h}\n</text>")), "tick {h}");
    }
}

#[test]
fn same_chart_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let series = horizons(3, true);
    let a = tmp.path().join("a/chart.png");
    let b = tmp.path().join("b/chart.png");
    let written = chart(&series).write(&a).unwrap();
    assert_eq!(written, [a.clone(), svg_path(&a)]);
    chart(&series).write(&b).unwrap();
    for (x, y) in [(a.clone(), b.clone()), (svg_path(&a), svg_path(&b))] {
        assert_eq!(
            std::fs::read(&x).unwrap(),
            std::fs::read(&y).unwrap(),
            "{x:?}"
        );
    }
    let img = decode(&std::fs::read(&a).unwrap());
    assert_eq!(img, chart(&series).to_image().unwrap());
    let names: Vec<String> = std::fs::read_dir(a.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temporary left: {names:?}");
}

#[test]
fn odd_data_gives_valid_charts() {
    let one = |label: &str, points: Vec<(f64, f64, f64)>| {
        vec![Series {
            label: label.into(),
            points,
        }]
    };
    let cases: Vec<(&str, Vec<Series>)> = vec![
        ("none", vec![]),
        ("empty", one("empty", vec![])),
        ("single", one("single", vec![(3.0, 1.0, 0.5)])),
        (
            "constant",
            one(
                "constant",
                vec![(1.0, 2.0, 0.0), (2.0, 2.0, 0.0), (3.0, 2.0, 0.0)],
            ),
        ),
        (
            "zeros",
            one("zeros", vec![(0.0, 0.0, 0.0), (0.0, 0.0, 0.0)]),
        ),
        (
            "nan",
            one(
                "nan",
                vec![
                    (1.0, 0.1, 0.01),
                    (2.0, f64::NAN, 0.01),
                    (f64::NAN, 0.3, 0.0),
                    (3.0, 0.2, f64::NAN),
                    (4.0, f64::INFINITY, 1.0),
                    (5.0, 0.25, 0.02),
                ],
            ),
        ),
        ("huge", one("huge", vec![(1.0, 1e9, 1e8), (1e6, -1e9, 0.0)])),
        (
            "extreme",
            one(
                "extreme",
                vec![
                    (-1e308, 1e308, 1e308),
                    (1e308, -1e308, 0.0),
                    (0.0, 0.0, 1e-300),
                ],
            ),
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let dir = out_dir(&tmp);
    for (name, series) in &cases {
        let c = LineChart {
            title: "Title: (a/b) 100% ∅ _<>=;,+",
            x_label: "x",
            y_label: "y",
            series,
        };
        let img = c.to_image().unwrap();
        assert_eq!(
            (img.width, img.height),
            (LineChart::WIDTH, LineChart::HEIGHT)
        );
        assert!(c.to_svg().unwrap().contains("</svg>"));
        c.write(&dir.join(format!("odd_{name}.png"))).unwrap();
    }
    let image = |i: usize| {
        LineChart {
            title: "t",
            x_label: "x",
            y_label: "y",
            series: &cases[i].1,
        }
        .to_image()
        .unwrap()
    };
    // The NaN series is still drawn, in two runs, with its band.
    let img = image(5);
    assert!(pixels(&img, series_colour(0)) > 50);
    assert!(near(&img, band_colour(0)) > 0);
    // A single point with std > 0 gets an error bar; a constant series none.
    assert!(near(&image(2), band_colour(0)) > 0);
    assert_eq!(near(&image(3), band_colour(0)), 0);
    assert!(pixels(&image(3), series_colour(0)) > 50);
    // "no data" is written where nothing is left.
    let svg = LineChart {
        title: "t",
        x_label: "x",
        y_label: "y",
        series: &cases[1].1,
    }
    .to_svg()
    .unwrap();
    assert!(svg.contains("no data"));
}

/// Series (name, colour), values per group and series, x ticks.
type Bars = (
    Vec<(&'static str, [u8; 3])>,
    Vec<Vec<f64>>,
    Vec<(f64, String)>,
);

fn bars() -> Bars {
    let series = vec![
        ("train", [31, 119, 180]),
        ("validation", [255, 127, 14]),
        ("test", [44, 160, 44]),
    ];
    let values: Vec<Vec<f64>> = (0..20)
        .map(|b| {
            let b = b as f64;
            vec![
                10.0 * (-(b - 5.0).powi(2) / 8.0).exp(),
                12.0 * (-(b - 8.0).powi(2) / 10.0).exp(),
                if b == 3.0 {
                    f64::NAN
                } else {
                    9.0 * (-(b - 11.0).powi(2) / 6.0).exp()
                },
            ]
        })
        .collect();
    let ticks = (0..=20)
        .step_by(4)
        .map(|b| (b as f64, format!("{}", b * 25)))
        .collect();
    (series, values, ticks)
}

#[test]
fn bar_chart_png_and_svg() {
    let (series, values, ticks) = bars();
    let c = BarChart {
        title: "Trajectory length",
        x_label: "trajectory length (frames)",
        y_label: "share of the split's episodes",
        y_suffix: "%",
        series: &series,
        values: &values,
        x_ticks: &ticks,
    };
    let img = c.to_image().unwrap();
    assert_eq!((img.width, img.height), (BarChart::WIDTH, BarChart::HEIGHT));
    for (name, colour) in &series {
        assert!(pixels(&img, *colour) > 300, "{name}");
    }
    let svg = c.to_svg().unwrap();
    assert!(svg.contains(">\nTrajectory length\n</text>"));
    for (name, colour) in &series {
        let hex = format!("#{:02X}{:02X}{:02X}", colour[0], colour[1], colour[2]);
        let rects = svg
            .lines()
            .filter(|l| l.starts_with("<rect") && l.contains(&hex))
            .count();
        let bars = values
            .iter()
            .filter(|v| v[series.iter().position(|s| s.0 == *name).unwrap()].is_finite())
            .count();
        // One rectangle per bar (values too small for a pixel included) and the legend swatch.
        assert_eq!(rects, bars + 1, "{name}");
        assert!(svg.contains(&format!(">\n{name}\n</text>")), "{name}");
    }
    for l in ["0", "100", "500", "0.0%", "12.5%"] {
        assert!(svg.contains(&format!(">\n{l}\n</text>")), "tick {l}: {svg}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = out_dir(&tmp);
    c.write(&dir.join("bars.png")).unwrap();
    assert_eq!(c.to_svg().unwrap(), svg, "deterministic");

    // No data at all: still a chart.
    let empty = BarChart {
        values: &[],
        x_ticks: &[],
        ..c
    };
    assert_eq!(empty.to_image().unwrap().width, BarChart::WIDTH);
    let line = LineChart {
        title: "LPIPS vs horizon Δt (mean ± std)",
        x_label: "Δt (steps)",
        y_label: "LPIPS↓",
        series: &horizons(3, true),
    };
    line.write(&dir.join("line.png")).unwrap();
}
