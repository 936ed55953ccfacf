//! Charts, qualitative sheets and Markdown/HTML report rendering.

use avwm_core::{BinauralAudio, RgbImage};
use avwm_eval::EvalError;
use avwm_eval::plot::{
    CHART_HEIGHT, CHART_WIDTH, PALETTE, Series, band_colour, line_chart, series_colour,
    write_line_chart,
};
use avwm_eval::render::{Better, Block, Cell, Column, Group, Page, Row, Section, Table};
use avwm_eval::sheet::{EMPTY_GREY, SheetCell, SheetRow, image_offset, sheet, write_sheet};
use base64::Engine as _;

// ------------------------------------------------------------------------------------------
// Tables
// ------------------------------------------------------------------------------------------

fn col(name: &str, better: Better) -> Column {
    Column {
        name: name.into(),
        better,
    }
}

fn v(mean: f64, std: f64) -> Cell {
    Cell::Value { mean, std }
}

fn table() -> Table {
    Table {
        id: "main".into(),
        title: "Prediction <quality> & more".into(),
        caption: "Mean ± std over episodes; `copy last` is a reference.".into(),
        groups: vec![
            Group {
                name: "Vision".into(),
                columns: vec![col("LPIPS", Better::Lower), col("PSNR", Better::Higher)],
            },
            Group {
                name: "Audio".into(),
                columns: vec![col("LSD", Better::Lower), col("FAD", Better::Lower)],
            },
            Group {
                name: "Reward".into(),
                columns: vec![col("MSE", Better::Lower)],
            },
        ],
        rows: vec![
            Row {
                label: "copy last frame".into(),
                // Better than every model in LPIPS and PSNR: must not be bold.
                cells: vec![
                    v(0.010, 0.001),
                    v(40.0, 1.0),
                    Cell::NotProduced,
                    Cell::NotProduced,
                    Cell::NotProduced,
                ],
                reference: true,
            },
            Row {
                label: "vision-only <v>".into(),
                cells: vec![
                    v(0.2, 0.01),
                    v(25.5, 0.5),
                    Cell::NotProduced,
                    Cell::NotComputed,
                    v(0.5, 0.1),
                ],
                reference: false,
            },
            Row {
                label: "audio-visual".into(),
                cells: vec![
                    v(0.1, 0.02),
                    v(24.0, 0.25),
                    v(1.5, 0.2),
                    Cell::NotComputed,
                    v(0.5, 0.2),
                ],
                reference: false,
            },
            Row {
                label: "ablation".into(),
                cells: vec![
                    v(0.3, 0.05),
                    v(f64::NAN, 0.0),
                    v(2.5, 0.3),
                    Cell::Missing("crashed".into()),
                    v(0.7, 0.1),
                ],
                reference: false,
            },
        ],
    }
}

/// The cells of a Markdown table line (between the outer pipes).
fn md_cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

#[test]
fn markdown_table_structure_and_best_marking() {
    let t = table();
    let md = t.to_markdown();
    let lines: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(lines.len(), 2 + t.rows.len(), "{md}");
    let header = md_cells(lines[0]);
    assert_eq!(header.len(), 1 + 5, "{md}");
    assert_eq!(header[1], "Vision LPIPS↓");
    assert_eq!(header[2], "Vision PSNR↑");
    assert_eq!(header[5], "Reward MSE↓");
    let sep = md_cells(lines[1]);
    assert_eq!(sep.len(), 6);
    assert!(sep.iter().all(|c| c.contains("---")), "{md}");
    let rows: Vec<Vec<String>> = lines[2..].iter().map(|l| md_cells(l)).collect();
    for r in &rows {
        assert_eq!(r.len(), 6, "{md}");
    }
    // Reference row: italics, never bold even though its values are the best.
    assert_eq!(rows[0][0], "*copy last frame*");
    assert!(rows[0].iter().all(|c| !c.contains("**")), "{md}");
    assert_eq!(rows[0][1], "*0.010 ± 0.001*");
    assert_eq!(rows[0][3], "*∅*");
    // LPIPS (lower): audio-visual 0.100 best.
    assert_eq!(rows[2][1], "**0.100 ± 0.020**");
    assert_eq!(rows[1][1], "0.200 ± 0.010");
    // PSNR (higher, two decimals): vision-only best; NaN never best.
    assert_eq!(rows[1][2], "**25.50 ± 0.50**");
    assert_eq!(rows[2][2], "24.00 ± 0.25");
    assert!(!rows[3][2].contains("**"));
    // LSD: ∅ is not a candidate, audio-visual best among values.
    assert_eq!(rows[1][3], "∅");
    assert_eq!(rows[2][3], "**1.500 ± 0.200**");
    assert_eq!(rows[3][3], "2.500 ± 0.300");
    // FAD: no values at all -> nothing bold.
    assert_eq!(rows[1][4], "not computed");
    assert_eq!(rows[2][4], "not computed");
    assert!(rows[3][4].starts_with("n/a") && rows[3][4].contains("crashed"));
    // MSE tie: both bold.
    assert_eq!(rows[1][5], "**0.500 ± 0.100**");
    assert_eq!(rows[2][5], "**0.500 ± 0.200**");
    assert_eq!(rows[3][5], "0.700 ± 0.100");
    // Exactly one bold per column with values, except the tie: 1 + 1 + 1 + 0 + 2.
    assert_eq!(md.matches("**").count() / 2, 5 + 1, "{md}"); // + the bold title
    // Label escaping for Markdown.
    assert_eq!(rows[1][0], "vision-only \\<v\\>");
}

#[test]
fn markdown_precision_follows_magnitude() {
    let t = Table {
        id: "p".into(),
        title: String::new(),
        caption: String::new(),
        groups: vec![Group {
            name: String::new(),
            columns: vec![col("FID", Better::Lower), col("MSE", Better::Lower)],
        }],
        rows: vec![Row {
            label: "m".into(),
            cells: vec![v(123.456, 7.89), v(0.00031, 0.00002)],
            reference: false,
        }],
    };
    let md = t.to_markdown();
    let row = md.lines().filter(|l| l.starts_with('|')).nth(2).unwrap();
    let cells = md_cells(row);
    assert_eq!(cells[1], "**123.5 ± 7.9**");
    assert_eq!(cells[2], "**0.00031 ± 0.00002**");
}

fn count(s: &str, pat: &str) -> usize {
    s.matches(pat).count()
}

#[test]
fn html_table_header_and_bold() {
    let t = table();
    let html = t.to_html();
    assert_eq!(count(&html, "<table"), 1);
    assert_eq!(count(&html, "</table>"), 1);
    assert_eq!(count(&html, "<tr"), count(&html, "</tr>"));
    assert_eq!(count(&html, "<tr"), 2 + t.rows.len());
    assert_eq!(count(&html, "<td"), count(&html, "</td>"));
    assert_eq!(count(&html, "<td"), t.rows.len() * 6);
    assert_eq!(
        count(&html, "<th>") + count(&html, "<th "),
        count(&html, "</th>")
    );
    assert_eq!(count(&html, "</th>"), 1 + 3 + 5);
    // colspans of the group row add up to the number of columns.
    let spans: usize = html
        .split("colspan=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse::<usize>().unwrap())
        .sum();
    assert_eq!(spans, 5);
    assert!(html.contains("rowspan=\"2\""));
    assert_eq!(count(&html, "<b>"), 5, "{html}");
    assert!(html.contains("<b>0.100 ± 0.020</b>"));
    assert!(!html.contains("<b>0.010"));
    assert!(html.contains("<tr class=\"reference\">"));
    assert!(html.contains(">∅<") && html.contains("not computed"));
    // Escaping.
    assert!(html.contains("Prediction &lt;quality&gt; &amp; more"));
    assert!(html.contains("vision-only &lt;v&gt;"));
    assert!(!html.contains("<v>") && !html.contains("<quality>"));
    assert!(html.contains("<code>copy last</code>"));
}

#[test]
fn cell_serialisation() {
    let j = serde_json::to_value([
        v(1.0, 0.5),
        Cell::NotProduced,
        Cell::NotComputed,
        Cell::Missing("x".into()),
    ])
    .unwrap();
    assert_eq!(
        j,
        serde_json::json!([{"mean": 1.0, "std": 0.5}, "∅", "not computed", {"missing": "x"}])
    );
}

// ------------------------------------------------------------------------------------------
// Pages
// ------------------------------------------------------------------------------------------

fn gradient(w: u32, h: u32) -> RgbImage {
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            data.extend_from_slice(&[
                (x * 7 % 256) as u8,
                (y * 13 % 256) as u8,
                ((x + y) % 256) as u8,
            ]);
        }
    }
    RgbImage {
        width: w,
        height: h,
        data,
    }
}

fn page(img: std::path::PathBuf) -> Page {
    Page {
        title: "Report <1> & co".into(),
        sections: vec![Section {
            heading: "Results".into(),
            blocks: vec![
                Block::Paragraph("Run `avwm eval --x <y>` then compare a < b & c.".into()),
                Block::Code("cargo run -- eval <dir>\n".into()),
                Block::Table(table()),
                Block::Image {
                    caption: "Fig. 6 <horizons>".into(),
                    path: img,
                },
                Block::List(vec!["one & two".into(), "`three`".into()]),
            ],
        }],
    }
}

#[test]
fn page_html_is_self_contained_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let png_path = dir.path().join("plots/chart.png");
    write_line_chart(
        &png_path,
        "LPIPS vs Δt",
        "Δt (steps)",
        "LPIPS",
        &[Series {
            label: "model".into(),
            points: vec![(1.0, 0.1, 0.01), (2.0, 0.2, 0.02)],
        }],
    )
    .unwrap();
    let png = std::fs::read(&png_path).unwrap();
    let html = page(png_path.clone()).to_html().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"));
    assert_eq!(count(&html, "<section>"), count(&html, "</section>"));
    assert_eq!(count(&html, "<tr"), count(&html, "</tr>"));
    assert!(html.contains("<title>Report &lt;1&gt; &amp; co</title>"));
    assert!(html.contains("<code>avwm eval --x &lt;y&gt;</code>"));
    assert!(html.contains("compare a &lt; b &amp; c."));
    assert!(html.contains("<pre><code>cargo run -- eval &lt;dir&gt;</code></pre>"));
    assert!(html.contains("<li>one &amp; two</li>"));
    assert!(html.contains("Fig. 6 &lt;horizons&gt;"));
    assert!(!html.contains("chart.png"), "no external references");
    let start = html.find("data:image/png;base64,").unwrap() + "data:image/png;base64,".len();
    let end = start + html[start..].find('"').unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&html[start..end])
        .unwrap();
    assert_eq!(decoded, png);
}

#[test]
fn page_html_missing_image_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere/fig.png");
    let err = page(missing.clone()).to_html().unwrap_err();
    assert!(matches!(err, EvalError::Io { .. }), "{err}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

#[test]
fn page_markdown_links_relative_and_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("plots/fig 6.png");
    let md = page(img.clone()).to_markdown(dir.path());
    assert!(md.starts_with("# Report \\<1\\> \\& co\n"), "{md}");
    assert!(md.contains("\n## Results\n"));
    assert!(md.contains("](plots/fig%206.png)"), "{md}");
    assert!(
        md.contains("`avwm eval --x <y>`"),
        "code span kept verbatim: {md}"
    );
    assert!(md.contains("a \\< b \\& c."), "{md}");
    assert!(md.contains("```text\ncargo run -- eval <dir>\n```"), "{md}");
    assert!(md.contains("- one \\& two\n- `three`\n"), "{md}");
    // The table is embedded.
    assert!(md.contains("| Vision LPIPS↓ |"));
    // Relative to a sibling folder.
    let md2 = page(img).to_markdown(&dir.path().join("report"));
    assert!(md2.contains("](../plots/fig%206.png)"), "{md2}");
    // write_markdown uses the file's folder.
    let out = dir.path().join("report.md");
    page(dir.path().join("plots/a.png"))
        .write_markdown(&out)
        .unwrap();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("](plots/a.png)")
    );
}

// ------------------------------------------------------------------------------------------
// Charts
// ------------------------------------------------------------------------------------------

fn pixels(img: &RgbImage, c: [u8; 3]) -> usize {
    img.data.chunks_exact(3).filter(|p| *p == c).count()
}

/// Pixels within 1 of `c` in every channel (the band's alpha blending rounds either way).
fn near(img: &RgbImage, c: [u8; 3]) -> usize {
    img.data
        .chunks_exact(3)
        .filter(|p| p.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 1))
        .count()
}

#[test]
fn chart_size_colours_and_bands() {
    let series: Vec<Series> = (0..PALETTE.len())
        .map(|i| Series {
            label: format!("model {i} ±std Δt"),
            points: (1..=5)
                .map(|h| (h as f64, 0.1 * i as f64 + 0.02 * h as f64, 0.0))
                .collect(),
        })
        .collect();
    let img = line_chart("LPIPS per horizon", "Δt", "LPIPS", &series).unwrap();
    assert_eq!((img.width, img.height), (CHART_WIDTH, CHART_HEIGHT));
    assert_eq!(img.data.len(), (CHART_WIDTH * CHART_HEIGHT * 3) as usize);
    for i in 0..series.len() {
        assert!(pixels(&img, series_colour(i)) > 100, "series {i}");
        let n = near(&img, band_colour(i));
        assert!(
            n < 60,
            "no band with std = 0 (anti-aliased line edges only): {n}"
        );
    }
    assert!(pixels(&img, [0, 0, 0]) > 200, "text");

    // One series with std > 0: its band colour appears.
    let with_std = [Series {
        label: "m".into(),
        points: vec![(1.0, 0.5, 0.1), (2.0, 0.6, 0.1), (4.0, 0.7, 0.2)],
    }];
    let img = line_chart("t", "x", "y", &with_std).unwrap();
    assert!(near(&img, band_colour(0)) > 1000);
    assert!(pixels(&img, series_colour(0)) > 100);
}

#[test]
fn chart_degenerate_inputs() {
    let cases: Vec<Vec<Series>> = vec![
        vec![],
        vec![Series {
            label: "empty".into(),
            points: vec![],
        }],
        vec![Series {
            label: "single".into(),
            points: vec![(3.0, 1.0, 0.5)],
        }],
        vec![Series {
            label: "constant".into(),
            points: vec![(1.0, 2.0, 0.0), (2.0, 2.0, 0.0), (3.0, 2.0, 0.0)],
        }],
        vec![Series {
            label: "zeros".into(),
            points: vec![(0.0, 0.0, 0.0), (0.0, 0.0, 0.0)],
        }],
        vec![Series {
            label: "nan".into(),
            points: vec![
                (1.0, 0.1, 0.01),
                (2.0, f64::NAN, 0.01),
                (f64::NAN, 0.3, 0.0),
                (3.0, 0.2, f64::NAN),
                (4.0, f64::INFINITY, 1.0),
                (5.0, 0.25, 0.02),
            ],
        }],
        vec![Series {
            label: "huge".into(),
            points: vec![(1.0, 1e9, 1e8), (1e6, -1e9, 0.0)],
        }],
        vec![Series {
            label: "extreme".into(),
            points: vec![
                (-1e308, 1e308, 1e308),
                (1e308, -1e308, 0.0),
                (0.0, 0.0, 1e-300),
            ],
        }],
    ];
    for series in &cases {
        let img = line_chart("Title: (a/b) 100% ∅ _<>=;,+", "x", "y", series).unwrap();
        assert_eq!((img.width, img.height), (CHART_WIDTH, CHART_HEIGHT));
    }
    // The constant and NaN series are still drawn.
    let img = line_chart("c", "x", "y", &cases[3]).unwrap();
    assert!(pixels(&img, series_colour(0)) > 100);
    assert_eq!(near(&img, band_colour(0)), 0);
    let img = line_chart("n", "x", "y", &cases[5]).unwrap();
    assert!(pixels(&img, series_colour(0)) > 100);
    assert!(near(&img, band_colour(0)) > 0);
    // A single point with std > 0 gets an error band.
    let img = line_chart("s", "x", "y", &cases[2]).unwrap();
    assert!(near(&img, band_colour(0)) > 0);
}

// ------------------------------------------------------------------------------------------
// Sheets
// ------------------------------------------------------------------------------------------

fn audio(freq: f32) -> BinauralAudio {
    let n = 2400;
    let s: Vec<f32> = (0..n)
        .map(|i| (std::f32::consts::TAU * freq * i as f32 / 16_000.0).sin())
        .collect();
    BinauralAudio {
        sample_rate_hz: 16_000,
        left: s.clone(),
        right: s.iter().map(|x| 0.5 * x).collect(),
    }
}

fn cell(caption: &str, image: Option<RgbImage>, audio_: Option<BinauralAudio>) -> SheetCell {
    SheetCell {
        caption: caption.into(),
        image,
        audio: audio_,
    }
}

fn row(label: &str, n: usize) -> SheetRow {
    SheetRow {
        label: label.into(),
        cells: (0..n)
            .map(|k| {
                cell(
                    &format!("t+{k}"),
                    Some(gradient(128, 128)),
                    Some(audio(440.0)),
                )
            })
            .collect(),
    }
}

#[test]
fn sheet_grows_with_rows_and_cells() {
    let a = sheet("s", &[row("m", 2)]).unwrap();
    let b = sheet("s", &[row("m", 3)]).unwrap();
    let c = sheet("s", &[row("m", 2), row("n", 2)]).unwrap();
    assert!(b.width > a.width && b.height == a.height);
    assert!(c.height > a.height && c.width == a.width);
    for img in [&a, &b, &c] {
        assert_eq!(img.data.len(), (img.width * img.height * 3) as usize);
    }
    let empty = sheet("only a title", &[]).unwrap();
    assert!(empty.width > 0 && empty.height > 0);
}

#[test]
fn sheet_copies_images_exactly_and_greys_empty_cells() {
    let img = gradient(96, 64);
    let rows = vec![
        SheetRow {
            label: "true".into(),
            cells: vec![
                cell("t-3", Some(gradient(128, 128)), Some(audio(300.0))),
                cell("t", Some(img.clone()), Some(audio(1000.0))),
            ],
        },
        SheetRow {
            label: "vision-only".into(),
            cells: vec![
                cell("pred t+4", Some(gradient(128, 128)), None),
                cell("∅", None, None),
            ],
        },
    ];
    let s = sheet("Qualitative", &rows).unwrap();
    let at = |x: u32, y: u32| {
        let i = ((y * s.width + x) * 3) as usize;
        [s.data[i], s.data[i + 1], s.data[i + 2]]
    };
    // Exact copy at the documented offset.
    let (ox, oy) = image_offset("Qualitative", &rows, 0, 1).unwrap();
    for y in 0..img.height {
        for x in 0..img.width {
            let i = ((y * img.width + x) * 3) as usize;
            assert_eq!(
                at(ox + x, oy + y),
                [img.data[i], img.data[i + 1], img.data[i + 2]]
            );
        }
    }
    // The empty cell: its image slot (column width 96 × row height 128) is grey apart from the
    // ∅ sign.
    let (ex, ey) = image_offset("Qualitative", &rows, 1, 1).unwrap();
    let mut grey = 0;
    for y in 0..128 {
        for x in 0..96 {
            if at(ex + x, ey + y) == EMPTY_GREY {
                grey += 1;
            }
        }
    }
    assert!(grey > 96 * 128 * 8 / 10, "{grey}");
    assert!(grey < 96 * 128, "the ∅ sign is drawn");
    // Spectrograms are drawn under audio cells (not white, not grey).
    let spec_y = oy + 128 + 2;
    let coloured = (0..96)
        .filter(|&x| {
            let p = at(ox + x, spec_y + 5);
            p != [255, 255, 255] && p != EMPTY_GREY
        })
        .count();
    assert!(coloured > 80, "{coloured}");
    // The cell without audio has grey spectrogram slots.
    let (px, py) = image_offset("Qualitative", &rows, 1, 0).unwrap();
    assert_eq!(at(px + 1, py + 128 + 2 + 1), EMPTY_GREY);
    assert!(image_offset("Qualitative", &rows, 1, 2).is_none());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheet.png");
    write_sheet(&path, "Qualitative", &rows).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let back = avwm_data::media::decode_png(&bytes).unwrap();
    assert_eq!(back, s);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "no temporary file left"
    );
}

/// Writes a sample chart, sheet and page; kept in `$AVWM_KEEP_PLOTS` (a folder) for inspection
/// when that variable is set.
#[test]
fn sample_outputs_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("AVWM_KEEP_PLOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let horizons = [1.0, 2.0, 4.0, 8.0, 16.0];
    let series: Vec<Series> = ["audio-visual", "vision-only", "copy last frame"]
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            label: (*name).into(),
            points: horizons
                .iter()
                .map(|&h: &f64| (h, 0.1 + 0.05 * i as f64 + 0.03 * h.ln(), 0.01 + 0.004 * h))
                .collect(),
        })
        .collect();
    let chart = dir.join("chart.png");
    write_line_chart(
        &chart,
        "LPIPS vs horizon Δt (mean ± std)",
        "Δt (steps)",
        "LPIPS↓",
        &series,
    )
    .unwrap();
    for (name, pts) in [
        (
            "chart_gaps.png",
            vec![
                (1.0, 0.1, 0.01),
                (2.0, f64::NAN, 0.0),
                (3.0, 0.2, 0.05),
                (4.0, 0.15, 0.0),
            ],
        ),
        ("chart_single.png", vec![(3.0, 1.0, 0.5)]),
        ("chart_huge.png", vec![(1.0, 1e9, 1e8), (1e6, -1e9, 0.0)]),
        ("chart_empty.png", vec![]),
    ] {
        let s = [Series {
            label: "m".into(),
            points: pts,
        }];
        write_line_chart(&dir.join(name), name, "x", "y", &s).unwrap();
    }
    let rows = vec![
        row("audio-visual", 4),
        SheetRow {
            label: "vision-only".into(),
            cells: vec![
                cell("t-3", Some(gradient(128, 128)), Some(audio(500.0))),
                cell("t", Some(gradient(128, 128)), Some(audio(2000.0))),
                cell("pred t+4", Some(gradient(128, 128)), None),
                cell("true t+4", None, Some(audio(4000.0))),
            ],
        },
    ];
    let sheet_path = dir.join("sheet.png");
    write_sheet(&sheet_path, "Qualitative predictions", &rows).unwrap();
    // Each chart has its SVG beside it.
    let svg = std::fs::read_to_string(dir.join("chart.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("LPIPS vs horizon Δt (mean ± std)"));
    for name in ["chart_gaps", "chart_single", "chart_huge", "chart_empty"] {
        assert!(dir.join(format!("{name}.svg")).is_file(), "{name}.svg");
    }
    for p in [&chart, &sheet_path] {
        let img = avwm_data::media::decode_png(&std::fs::read(p).unwrap()).unwrap();
        assert!(img.width > 100 && img.height > 100);
    }
    let mut pg = page(chart);
    pg.sections[0].blocks.push(Block::Image {
        caption: "Qualitative sheet".into(),
        path: sheet_path,
    });
    pg.write_html(&dir.join("report.html")).unwrap();
    pg.write_markdown(&dir.join("report.md")).unwrap();
    assert!(
        std::fs::read_to_string(dir.join("report.md"))
            .unwrap()
            .contains("](chart.png)")
    );
}
