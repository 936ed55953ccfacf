//! Report rendering: result tables ([`Table`]) and pages ([`Page`]) as GitHub Markdown and as one
//! self-contained HTML file.
//!
//! # Tables
//!
//! A table has groups of columns (e.g. Vision: LPIPS↓ DreamSim↓ PSNR↑ SSIM↑ FID↓; Audio: LSD↓
//! SSIM↑ FAD↓; Reward: MSE↓) and one row per model. In Markdown the two-level header is flattened
//! into column names such as `Vision LPIPS↓` (GitHub tables have no column spans); in HTML it is a
//! real two-row header with `colspan` groups.
//!
//! Values are printed as `mean ± std` with one precision per column, chosen from the largest
//! `|mean|` of the column's values: 1 decimal from 100 up, 2 from 10 up, 3 from 0.01 up (and for
//! all-zero columns), and for smaller magnitudes enough decimals to show two significant digits
//! (at most 6). The best value of each column (highest or lowest, per [`Better`]) is in bold,
//! compared **at the printed precision** (values that print the same are ties and all bold),
//! among the [`Cell::Value`] cells with a finite mean of non-[`reference`](Row::reference) rows.
//! Reference rows are in italics. [`Cell::NotProduced`] prints `∅`, [`Cell::NotComputed`]
//! `not computed`, [`Cell::Missing`] `n/a (reason)`. A row with fewer cells than columns is padded
//! with empty cells; extra cells are ignored.

use crate::error::{EvalError, Result};
use base64::Engine as _;
use serde::{Serialize, Serializer};
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

/// Which direction of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Higher is better (↑), e.g. PSNR, SSIM.
    Higher,
    /// Lower is better (↓), e.g. LPIPS, FID, MSE.
    Lower,
}

impl Better {
    /// The arrow shown after a column name: `↑` or `↓`.
    pub fn arrow(self) -> &'static str {
        match self {
            Better::Higher => "↑",
            Better::Lower => "↓",
        }
    }
}

/// One metric column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Metric name, without arrow (e.g. `"LPIPS"`).
    pub name: String,
    /// Which direction is better.
    pub better: Better,
}

/// A group of columns under one header (e.g. `"Vision"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Its columns, left to right.
    pub columns: Vec<Column>,
}

/// One table cell.
///
/// Serialised in JSON as `{"mean": m, "std": s}`, the string `"∅"`, the string
/// `"not computed"` ([`crate::NOT_COMPUTED`]) or `{"missing": reason}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A measured value: mean and standard deviation.
    Value {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// `∅`: the model does not produce this modality.
    NotProduced,
    /// `not computed`: the metric's feature network is absent.
    NotComputed,
    /// Missing for the given reason.
    Missing(String),
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Cell::Value { mean, std } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("mean", mean)?;
                m.serialize_entry("std", std)?;
                m.end()
            }
            Cell::NotProduced => s.serialize_str("∅"),
            Cell::NotComputed => s.serialize_str(crate::NOT_COMPUTED),
            Cell::Missing(reason) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("missing", reason)?;
                m.end()
            }
        }
    }
}

/// One table row (a model, or a reference such as "copy last frame").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Row label.
    pub label: String,
    /// One cell per column, in the order of the groups' columns.
    pub cells: Vec<Cell>,
    /// A reference row: shown in italics and never marked best.
    pub reference: bool,
}

/// A results table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Anchor id (HTML `id`).
    pub id: String,
    /// Title shown above the table.
    pub title: String,
    /// Caption shown below the table (may be empty).
    pub caption: String,
    /// Column groups.
    pub groups: Vec<Group>,
    /// Rows.
    pub rows: Vec<Row>,
}

/// How one cell is shown.
struct Shown {
    text: String,
    best: bool,
    numeric: bool,
}

impl Table {
    /// All columns, left to right, with their group's name.
    pub fn columns(&self) -> Vec<(&str, &Column)> {
        self.groups
            .iter()
            .flat_map(|g| g.columns.iter().map(move |c| (g.name.as_str(), c)))
            .collect()
    }

    /// The flattened name of a column: `"{group} {name}{arrow}"` (e.g. `"Vision LPIPS↓"`).
    fn flat_name(group: &str, col: &Column) -> String {
        if group.is_empty() {
            format!("{}{}", col.name, col.better.arrow())
        } else {
            format!("{group} {}{}", col.name, col.better.arrow())
        }
    }

    /// Decimals used for column `j` (see the module documentation).
    fn decimals(&self, j: usize) -> usize {
        let max = self
            .rows
            .iter()
            .filter_map(|r| match r.cells.get(j) {
                Some(Cell::Value { mean, .. }) if mean.is_finite() => Some(mean.abs()),
                _ => None,
            })
            .fold(0.0f64, f64::max);
        if max >= 100.0 {
            1
        } else if max >= 10.0 {
            2
        } else if max >= 0.01 || max == 0.0 {
            3
        } else {
            ((-max.log10()).ceil() as usize + 1).min(6)
        }
    }

    /// The shown text of every cell, `[row][column]`, with best-marking (no markup applied).
    fn shown(&self) -> Vec<Vec<Shown>> {
        let cols = self.columns();
        let mut out: Vec<Vec<Shown>> = self
            .rows
            .iter()
            .map(|_| Vec::with_capacity(cols.len()))
            .collect();
        for (j, (_, col)) in cols.iter().enumerate() {
            let d = self.decimals(j);
            let key = |m: f64| (m * 10f64.powi(d as i32)).round();
            let candidates =
                self.rows
                    .iter()
                    .filter(|r| !r.reference)
                    .filter_map(|r| match r.cells.get(j) {
                        Some(Cell::Value { mean, .. }) if mean.is_finite() => Some(key(*mean)),
                        _ => None,
                    });
            let best = match col.better {
                Better::Higher => {
                    candidates.fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.max(v))))
                }
                Better::Lower => {
                    candidates.fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.min(v))))
                }
            };
            for (r, row) in self.rows.iter().enumerate() {
                let shown = match row.cells.get(j) {
                    Some(Cell::Value { mean, std }) => Shown {
                        text: format!("{mean:.d$} ± {std:.d$}"),
                        best: !row.reference && mean.is_finite() && Some(key(*mean)) == best,
                        numeric: true,
                    },
                    Some(Cell::NotProduced) => Shown {
                        text: "∅".into(),
                        best: false,
                        numeric: false,
                    },
                    Some(Cell::NotComputed) => Shown {
                        text: crate::NOT_COMPUTED.into(),
                        best: false,
                        numeric: false,
                    },
                    Some(Cell::Missing(reason)) => Shown {
                        text: if reason.trim().is_empty() {
                            "n/a".into()
                        } else {
                            format!("n/a ({})", reason.trim())
                        },
                        best: false,
                        numeric: false,
                    },
                    None => Shown {
                        text: String::new(),
                        best: false,
                        numeric: false,
                    },
                };
                out[r].push(shown);
            }
        }
        out
    }

    /// The table as GitHub Markdown: the title in bold, a blank line, the table (flattened
    /// two-level header, numbers right-aligned, best values in `**bold**`, reference rows in
    /// `*italics*`), and the caption as a paragraph after a blank line (if any).
    pub fn to_markdown(&self) -> String {
        let cols = self.columns();
        let mut s = String::new();
        if !self.title.trim().is_empty() {
            let _ = writeln!(s, "**{}**\n", md_cell(&self.title));
        }
        s.push_str("| |");
        for (g, c) in &cols {
            let _ = write!(s, " {} |", md_cell(&Self::flat_name(g, c)));
        }
        s.push_str("\n|:---|");
        for _ in &cols {
            s.push_str("---:|");
        }
        s.push('\n');
        for (row, shown) in self.rows.iter().zip(self.shown()) {
            let wrap = |t: String, best: bool| {
                let t = if best && !t.is_empty() {
                    format!("**{t}**")
                } else {
                    t
                };
                if row.reference && !t.is_empty() {
                    format!("*{t}*")
                } else {
                    t
                }
            };
            let _ = write!(s, "| {} |", wrap(md_cell(&row.label), false));
            for c in shown {
                let _ = write!(s, " {} |", wrap(md_cell(&c.text), c.best));
            }
            s.push('\n');
        }
        if !self.caption.trim().is_empty() {
            let _ = write!(s, "\n{}\n", md_inline(&self.caption));
        }
        s
    }

    /// The table as an HTML fragment: a `<div class="table-wrap">` with the anchor id, the title,
    /// a `<table>` with a two-row header (`colspan` groups; the label column spans both rows),
    /// best values in `<b>`, reference rows with `class="reference"` and `<i>` cells, and the
    /// caption.
    pub fn to_html(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "<div class=\"table-wrap\" id=\"{}\">", esc(&self.id));
        if !self.title.trim().is_empty() {
            let _ = writeln!(s, "<p class=\"table-title\">{}</p>", esc(&self.title));
        }
        s.push_str("<table>\n<thead>\n<tr><th rowspan=\"2\"></th>");
        for g in self.groups.iter().filter(|g| !g.columns.is_empty()) {
            let _ = write!(
                s,
                "<th colspan=\"{}\">{}</th>",
                g.columns.len(),
                esc(&g.name)
            );
        }
        s.push_str("</tr>\n<tr>");
        for (_, c) in self.columns() {
            let _ = write!(s, "<th>{}&nbsp;{}</th>", esc(&c.name), c.better.arrow());
        }
        s.push_str("</tr>\n</thead>\n<tbody>\n");
        for (row, shown) in self.rows.iter().zip(self.shown()) {
            let it = |t: String| {
                if row.reference && !t.is_empty() {
                    format!("<i>{t}</i>")
                } else {
                    t
                }
            };
            if row.reference {
                s.push_str("<tr class=\"reference\">");
            } else {
                s.push_str("<tr>");
            }
            let _ = write!(s, "<td class=\"label\">{}</td>", it(esc(&row.label)));
            for c in shown {
                let t = esc(&c.text);
                let t = if c.best { format!("<b>{t}</b>") } else { t };
                let class = if c.numeric { "num" } else { "na" };
                let _ = write!(s, "<td class=\"{class}\">{}</td>", it(t));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table>\n");
        if !self.caption.trim().is_empty() {
            let _ = writeln!(s, "<p class=\"caption\">{}</p>", html_inline(&self.caption));
        }
        s.push_str("</div>\n");
        s
    }
}

/// A report page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    /// Page title (`#` heading, HTML `<title>` and `<h1>`).
    pub title: String,
    /// Sections in order.
    pub sections: Vec<Section>,
}

/// A section of a page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Section heading (`##`, `<h2>`).
    pub heading: String,
    /// Content blocks in order.
    pub blocks: Vec<Block>,
}

/// A content block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Block {
    /// Plain text (escaped); `` `code` `` spans are kept as inline code (an unmatched backtick
    /// is literal).
    Paragraph(String),
    /// Preformatted text, e.g. shell commands.
    Code(String),
    /// A results table.
    Table(Table),
    /// A PNG file on disk.
    Image {
        /// Caption shown under the image (and its alt text).
        caption: String,
        /// The PNG file.
        path: PathBuf,
    },
    /// A bullet list of plain-text items (with `code` spans like [`Block::Paragraph`]).
    List(Vec<String>),
}

impl Page {
    /// The page as GitHub Markdown, to be written into the folder `base`: images become
    /// `![caption](rel/path.png)` links relative to `base` (with `/` separators, percent-encoded)
    /// followed by the caption in italics.
    pub fn to_markdown(&self, base: &Path) -> String {
        let mut s = format!("# {}\n", md_inline_plain(&self.title));
        for sec in &self.sections {
            let _ = write!(s, "\n## {}\n", md_inline_plain(&sec.heading));
            for b in &sec.blocks {
                s.push('\n');
                match b {
                    Block::Paragraph(t) => {
                        let _ = writeln!(s, "{}", md_inline(t));
                    }
                    Block::Code(code) => {
                        let fence = "`".repeat(longest_run(code, '`').max(2) + 1);
                        let body = code.strip_suffix('\n').unwrap_or(code);
                        let _ = writeln!(s, "{fence}text\n{body}\n{fence}");
                    }
                    Block::Table(t) => s.push_str(&t.to_markdown()),
                    Block::Image { caption, path } => {
                        let alt = caption.replace(['[', ']', '\n'], " ");
                        let _ = writeln!(
                            s,
                            "![{}]({})",
                            md_cell(&alt),
                            url_path(&relative(path, base))
                        );
                        if !caption.trim().is_empty() {
                            let _ = writeln!(s, "\n*{}*", md_inline(caption.trim()));
                        }
                    }
                    Block::List(items) => {
                        for it in items {
                            let _ = writeln!(s, "- {}", md_inline(it).replace('\n', "\n  "));
                        }
                    }
                }
            }
        }
        s
    }

    /// The page as one self-contained HTML file: inline CSS, every image read from disk and
    /// embedded as a `data:image/png;base64,…` URL, all text HTML-escaped.
    ///
    /// # Errors
    /// [`EvalError::Io`] naming an image file that cannot be read; [`EvalError::Input`] naming
    /// an image file that is not a PNG.
    pub fn to_html(&self) -> Result<String> {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n",
            esc(&self.title),
            esc(&self.title)
        );
        for sec in &self.sections {
            let _ = writeln!(s, "<section>\n<h2>{}</h2>", esc(&sec.heading));
            for b in &sec.blocks {
                match b {
                    Block::Paragraph(t) => {
                        let _ = writeln!(s, "<p>{}</p>", html_inline(t));
                    }
                    Block::Code(code) => {
                        let body = code.strip_suffix('\n').unwrap_or(code);
                        let _ = writeln!(s, "<pre><code>{}</code></pre>", esc(body));
                    }
                    Block::Table(t) => s.push_str(&t.to_html()),
                    Block::Image { caption, path } => {
                        let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
                            path: path.clone(),
                            source,
                        })?;
                        if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
                            return Err(EvalError::Input(format!(
                                "{}: not a PNG file",
                                path.display()
                            )));
                        }
                        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
                        let _ = writeln!(
                            s,
                            "<figure>\n<img src=\"data:image/png;base64,{b64}\" alt=\"{}\">\n\
                             <figcaption>{}</figcaption>\n</figure>",
                            esc(caption),
                            html_inline(caption)
                        );
                    }
                    Block::List(items) => {
                        s.push_str("<ul>\n");
                        for it in items {
                            let _ = writeln!(s, "<li>{}</li>", html_inline(it));
                        }
                        s.push_str("</ul>\n");
                    }
                }
            }
            s.push_str("</section>\n");
        }
        s.push_str("</main>\n</body>\n</html>\n");
        Ok(s)
    }

    /// Writes [`Page::to_markdown`] to `path` atomically, image links relative to its folder.
    ///
    /// # Errors
    /// [`EvalError::Io`] naming the path.
    pub fn write_markdown(&self, path: &Path) -> Result<()> {
        let base = path.parent().unwrap_or(Path::new(""));
        Ok(avwm_core::write_atomic(
            path,
            self.to_markdown(base).as_bytes(),
        )?)
    }

    /// Writes [`Page::to_html`] to `path` atomically.
    ///
    /// # Errors
    /// As [`Page::to_html`]; [`EvalError::Io`] naming the path.
    pub fn write_html(&self, path: &Path) -> Result<()> {
        Ok(avwm_core::write_atomic(path, self.to_html()?.as_bytes())?)
    }
}

const CSS: &str = r#"body { margin: 0; background: #fff; color: #222; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1rem 4rem; }
h1 { font-size: 1.8rem; border-bottom: 2px solid #ddd; padding-bottom: .3rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 1px solid #eee; padding-bottom: .2rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
code { background: #f3f3f3; padding: .1em .3em; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px; padding: .8rem; overflow-x: auto; }
pre code { background: none; padding: 0; }
.table-wrap { overflow-x: auto; margin: 1.2rem 0; }
.table-title { font-weight: 600; margin: 0 0 .4rem; }
table { border-collapse: collapse; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; }
thead th { background: #eef1f4; text-align: center; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.na { text-align: center; color: #777; }
tbody tr:nth-child(even) { background: #f8f9fa; }
tr.reference { color: #555; font-style: italic; }
.caption, figcaption { color: #555; font-size: .9rem; }
figure { margin: 1.2rem 0; }
img { max-width: 100%; height: auto; image-rendering: pixelated; border: 1px solid #eee; }
"#;

/// HTML-escapes `& < > " '`.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Splits text into `(is_code, piece)` at backticks; an unmatched last backtick is literal.
fn spans(s: &str) -> Vec<(bool, String)> {
    let parts: Vec<&str> = s.split('`').collect();
    let mut out = Vec::new();
    let n = parts.len();
    // With an even number of parts the backtick count is odd: the last one is unmatched.
    let matched = if n.is_multiple_of(2) { n - 1 } else { n };
    for (i, p) in parts[..matched].iter().enumerate() {
        out.push((i % 2 == 1, (*p).to_string()));
    }
    if matched < n {
        let tail = format!("`{}", parts[matched]);
        match out.last_mut() {
            Some((false, t)) => t.push_str(&tail),
            _ => out.push((false, tail)),
        }
    }
    out
}

/// Text with `code` spans as HTML.
fn html_inline(s: &str) -> String {
    spans(s)
        .into_iter()
        .map(|(code, t)| {
            if code {
                format!("<code>{}</code>", esc(&t))
            } else {
                esc(&t)
            }
        })
        .collect()
}

/// Backslash-escapes Markdown punctuation in plain text (and block markers at line starts).
fn md_inline_plain(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for line_with_end in s.split_inclusive('\n') {
        let (indent, rest) =
            line_with_end.split_at(line_with_end.len() - line_with_end.trim_start().len());
        o.push_str(indent);
        // A leading list/heading marker or "1." would start a block.
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let mut start = 0;
        if rest.starts_with(['-', '+', '=']) {
            o.push('\\');
        } else if digits > 0 && rest[digits..].starts_with(['.', ')']) {
            o.push_str(&rest[..digits]);
            o.push('\\');
            start = digits;
        }
        o.push_str(&md_escape_chars(&rest[start..]));
    }
    o
}

/// Backslash-escapes the Markdown punctuation that could start inline markup.
fn md_escape_chars(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' | '!'
        ) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// Plain text with `code` spans as Markdown.
fn md_inline(s: &str) -> String {
    spans(s)
        .into_iter()
        .map(|(code, t)| {
            if code {
                format!("`{t}`")
            } else {
                md_inline_plain(&t)
            }
        })
        .collect()
}

/// Plain text for a Markdown table cell: escaped, on one line.
fn md_cell(s: &str) -> String {
    md_escape_chars(&s.replace(['\r', '\n'], " "))
}

/// Length of the longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        cur = if ch == c { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

/// Lexically normalised absolute form of `p` (relative paths are taken from the current folder).
fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// `path` relative to the folder `base` (lexically, without touching the disk).
fn relative(path: &Path, base: &Path) -> PathBuf {
    let (p, b) = (absolute(path), absolute(base));
    let pc: Vec<Component> = p.components().collect();
    let bc: Vec<Component> = b.components().collect();
    if pc.first() != bc.first() {
        return p; // different roots (Windows drives): keep absolute
    }
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    out
}

/// A path as a URL path: `/`-separated, each segment percent-encoded outside `A-Za-z0-9-._~`.
fn url_path(p: &Path) -> String {
    let mut segs = Vec::new();
    for c in p.components() {
        let seg = match c {
            Component::RootDir => String::new(),
            Component::Prefix(x) => x.as_os_str().to_string_lossy().into_owned(),
            c => {
                let raw = c.as_os_str().to_string_lossy();
                let mut e = String::new();
                for b in raw.bytes() {
                    if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                        e.push(b as char);
                    } else {
                        let _ = write!(e, "%{b:02X}");
                    }
                }
                e
            }
        };
        segs.push(seg);
    }
    segs.join("/")
}
