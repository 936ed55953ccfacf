//! Qualitative sheets (the paper's Fig. 5): a grid of frames and their binaural spectrograms,
//! one row per model or episode, one cell per time step (e.g. "t-3", "t", "pred t+4",
//! "true t+4").
//!
//! # Layout
//!
//! All text is set in the charts' font ([`avwm_plot::text`], DejaVu Sans) with a line height of
//! [`TEXT_SIZE`] = 16 px. With margin `M` = [`MARGIN`]:
//!
//! * the title is drawn at `(M, M)`; the first row starts at `y = M + 16 + M`;
//! * the row labels form the left column, `label_w` = the widest label's width + `M` wide
//!   (0 if no row has a label); cell columns start at `x = M + label_w`;
//! * column `c` is `col_w[c]` wide: the largest of its images' widths, its captions' widths and
//!   [`DEFAULT_SLOT`] for a column without images; consecutive columns are `M` apart;
//! * a row is `caption (16 px) + 4 + slot_h + 2 + SPEC_H + 2 + SPEC_H` high plus `M` to the next
//!   row, where `slot_h` is the row's tallest image ([`DEFAULT_SLOT`] without images) and `SPEC_H`
//!   = [`SPEC_HEIGHT`];
//! * in a cell, the caption is at the top, the image's top-left corner is `20` px below the row
//!   top ([`image_offset`] returns it exactly), the left-ear spectrogram `2` px under the image
//!   slot, the right-ear one `2` px under that; both are `col_w[c]` wide.
//!
//! A cell without an image fills its `col_w × slot_h` image slot with [`EMPTY_GREY`] and an
//! "∅" sign; a cell without audio does the same in its two spectrogram slots (a model that
//! predicts no audio).
//!
//! # Spectrograms
//!
//! Each ear's strip is [`avwm_data::plot::spectrogram_strip`]: 256-sample Hann windows, rows from
//! 8 kHz (top) to 0 Hz (bottom), −80…0 dB **relative to that strip's own maximum**. Levels are
//! therefore not comparable between cells or between the two ears; the strips show spectral
//! shape and timing, not loudness.

use crate::error::Result;
use crate::plot::write_png;
use avwm_core::{BinauralAudio, RgbImage};
use avwm_plot::text::{draw_text, text_size};
use std::path::Path;

/// Margin and spacing between cells (px).
pub const MARGIN: u32 = 8;
/// Image slot size (px) for a column or row without any image.
pub const DEFAULT_SLOT: u32 = 128;
/// Height of each ear's spectrogram strip (px).
pub const SPEC_HEIGHT: u32 = 32;
/// Fill of an empty ("∅") slot.
pub const EMPTY_GREY: [u8; 3] = [200, 200, 200];
/// Colour of the "∅" sign in an empty slot.
const EMPTY_INK: [u8; 3] = [110, 110, 110];
/// Line height of all text (px).
pub const TEXT_SIZE: u32 = 16;
/// Gap between the caption and the image (px).
const CAPTION_GAP: u32 = 4;

/// One cell: a caption over an image and its binaural spectrograms.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetCell {
    /// Caption drawn above the cell (e.g. `"pred t+4"`).
    pub caption: String,
    /// The frame, or `None` for an empty ("∅") slot.
    pub image: Option<RgbImage>,
    /// The step's audio, or `None` for empty ("∅") spectrogram slots.
    pub audio: Option<BinauralAudio>,
}

/// One row of a sheet: a label on the left and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    /// Row label (e.g. the model name).
    pub label: String,
    /// Cells, left to right.
    pub cells: Vec<SheetCell>,
}

/// Pixel geometry of a sheet.
struct Layout {
    width: u32,
    height: u32,
    /// x of each column's left edge.
    col_x: Vec<u32>,
    col_w: Vec<u32>,
    /// y of each row's top edge (its captions).
    row_y: Vec<u32>,
    slot_h: Vec<u32>,
}

/// Width (px) of `s` at [`TEXT_SIZE`] (0 if the font could not be loaded: drawing then fails
/// with the error).
fn text_width(s: &str) -> u32 {
    text_size(s, f64::from(TEXT_SIZE)).map_or(0, |(w, _)| w)
}

fn layout(title: &str, rows: &[SheetRow]) -> Layout {
    let th = TEXT_SIZE;
    let ncols = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    let label_w = rows
        .iter()
        .map(|r| text_width(&r.label))
        .max()
        .filter(|w| *w > 0)
        .map_or(0, |w| w + MARGIN);
    let col_w: Vec<u32> = (0..ncols)
        .map(|c| {
            let cells = || rows.iter().filter_map(|r| r.cells.get(c));
            let img_w = cells()
                .filter_map(|k| k.image.as_ref())
                .map(|i| i.width)
                .max();
            let cap_w = cells().map(|k| text_width(&k.caption)).max().unwrap_or(0);
            img_w.unwrap_or(DEFAULT_SLOT).max(cap_w).max(1)
        })
        .collect();
    let slot_h: Vec<u32> = rows
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .filter_map(|k| k.image.as_ref())
                .map(|i| i.height)
                .max()
                .unwrap_or(DEFAULT_SLOT)
        })
        .collect();
    let mut col_x = Vec::with_capacity(ncols);
    let mut x = MARGIN + label_w;
    for w in &col_w {
        col_x.push(x);
        x += w + MARGIN;
    }
    let width = x
        .max(MARGIN + text_width(title) + MARGIN)
        .max(2 * MARGIN + 1);
    let mut row_y = Vec::with_capacity(rows.len());
    let mut y = MARGIN + th + MARGIN;
    for h in &slot_h {
        row_y.push(y);
        y += th + CAPTION_GAP + h + 2 + SPEC_HEIGHT + 2 + SPEC_HEIGHT + MARGIN;
    }
    Layout {
        width,
        height: y,
        col_x,
        col_w,
        row_y,
        slot_h,
    }
}

/// Where the top-left pixel of the image of cell `col` in row `row` lands in
/// [`sheet`]`(title, rows)` (`None` if there is no such cell). The image's pixels are copied
/// there unchanged.
pub fn image_offset(title: &str, rows: &[SheetRow], row: usize, col: usize) -> Option<(u32, u32)> {
    rows.get(row)?.cells.get(col)?;
    let l = layout(title, rows);
    Some((l.col_x[col], l.row_y[row] + TEXT_SIZE + CAPTION_GAP))
}

/// A white RGB image of the given size.
fn white(width: u32, height: u32) -> RgbImage {
    RgbImage {
        width,
        height,
        data: vec![255; width as usize * height as usize * 3],
    }
}

/// Sets one pixel (ignored outside the image).
fn put(img: &mut RgbImage, x: u32, y: u32, c: [u8; 3]) {
    if x < img.width && y < img.height {
        let i = (y as usize * img.width as usize + x as usize) * 3;
        img.data[i..i + 3].copy_from_slice(&c);
    }
}

/// Fills the rectangle `[x, x + w) × [y, y + h)` (clipped).
fn fill_rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, c: [u8; 3]) {
    for yy in y..y.saturating_add(h).min(img.height) {
        for xx in x..x.saturating_add(w).min(img.width) {
            put(img, xx, yy, c);
        }
    }
}

/// Copies `src` (whose buffer matches its size) into `dst` with its top-left corner at `(x, y)`
/// (clipped).
fn blit(dst: &mut RgbImage, src: &RgbImage, x: u32, y: u32) {
    let w = src.width as usize;
    for (sy, row) in src.data.chunks_exact(w * 3).enumerate() {
        for (sx, p) in row.chunks_exact(3).enumerate() {
            put(dst, x + sx as u32, y + sy as u32, [p[0], p[1], p[2]]);
        }
    }
}

/// Fills a slot with [`EMPTY_GREY`] and draws a centred "∅" (scaled to fit).
fn empty_slot(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32) -> Result<()> {
    fill_rect(img, x, y, w, h, EMPTY_GREY);
    let size = f64::from(h.min(w).saturating_sub(4)).clamp(8.0, 48.0);
    let (gw, gh) = text_size("∅", size)?;
    draw_text(
        img,
        (i64::from(x) + (i64::from(w) - i64::from(gw)) / 2) as i32,
        (i64::from(y) + (i64::from(h) - i64::from(gh)) / 2) as i32,
        "∅",
        size,
        EMPTY_INK,
    )?;
    Ok(())
}

/// Draws the sheet (see the module documentation for the layout).
///
/// # Errors
/// [`crate::EvalError::Plot`] if the text cannot be drawn (the embedded font failed to load).
pub fn sheet(title: &str, rows: &[SheetRow]) -> Result<RgbImage> {
    let l = layout(title, rows);
    let th = TEXT_SIZE;
    let ts = f64::from(TEXT_SIZE);
    let black = [0, 0, 0];
    let mut img = white(l.width, l.height);
    draw_text(&mut img, MARGIN as i32, MARGIN as i32, title, ts, black)?;
    for (r, row) in rows.iter().enumerate() {
        let top = l.row_y[r];
        let img_y = top + th + CAPTION_GAP;
        let slot_h = l.slot_h[r];
        draw_text(&mut img, MARGIN as i32, img_y as i32, &row.label, ts, black)?;
        for (c, cell) in row.cells.iter().enumerate() {
            let (x, w) = (l.col_x[c], l.col_w[c]);
            draw_text(&mut img, x as i32, top as i32, &cell.caption, ts, black)?;
            match &cell.image {
                Some(im)
                    if im.width > 0
                        && im.data.len() == im.width as usize * im.height as usize * 3 =>
                {
                    blit(&mut img, im, x, img_y);
                }
                _ => empty_slot(&mut img, x, img_y, w, slot_h)?,
            }
            let spec_y = img_y + slot_h + 2;
            match &cell.audio {
                Some(a) => {
                    for (k, ch) in [&a.left, &a.right].into_iter().enumerate() {
                        let strip = avwm_data::plot::spectrogram_strip(ch, w, SPEC_HEIGHT);
                        let y0 = spec_y + k as u32 * (SPEC_HEIGHT + 2);
                        for yy in 0..SPEC_HEIGHT {
                            for xx in 0..w {
                                put(&mut img, x + xx, y0 + yy, strip[(yy * w + xx) as usize]);
                            }
                        }
                    }
                }
                None => {
                    for k in 0..2 {
                        empty_slot(&mut img, x, spec_y + k * (SPEC_HEIGHT + 2), w, SPEC_HEIGHT)?;
                    }
                }
            }
        }
    }
    Ok(img)
}

/// Draws [`sheet`] and writes it as a PNG to `path` (atomically; creates the folder).
///
/// # Errors
/// [`crate::EvalError::Io`] naming the path.
pub fn write_sheet(path: &Path, title: &str, rows: &[SheetRow]) -> Result<()> {
    write_png(path, &sheet(title, rows)?)
}
