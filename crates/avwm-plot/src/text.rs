//! Text labels on an [`RgbImage`] in the charts' font (for sheets of images with captions).
//!
//! A line of text of size `size` occupies [`text_size`]`(s, size)`: the advance width of its
//! characters and `ceil(size)` px of height, from the font's ascender (top) to its descender
//! (bottom); [`draw_text`] puts that box's top-left corner at the given point. Glyphs are
//! anti-aliased over what lies under them; characters outside the font draw its "missing glyph"
//! box.

use crate::glyphs::Bitmap;
use crate::{FONT, PlotError, Result, register_font};
use avwm_core::RgbImage;
use plotters::backend::BitMapBackend;
use plotters::drawing::IntoDrawingArea;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, RGBColor, TextStyle};

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal)
}

fn error(s: &str, message: impl std::fmt::Display) -> PlotError {
    PlotError::Draw {
        what: s.to_string(),
        message: message.to_string(),
    }
}

/// Width and height (px) of `s` set in the charts' font at `size` px line height.
///
/// # Errors
/// [`PlotError::Draw`] if the embedded font cannot be loaded.
pub fn text_size(s: &str, size: f64) -> Result<(u32, u32)> {
    let w = crate::glyphs::width(s, size)
        .ok_or_else(|| error(s, "the embedded font could not be parsed"))?;
    Ok((w.ceil() as u32, size.ceil() as u32))
}

/// Draws `s` in `colour` at `size` px line height with its box's top-left corner at `(x, y)`
/// (clipped to the image).
///
/// # Errors
/// [`PlotError::Draw`] if the image buffer does not match its size or the font cannot be loaded.
pub fn draw_text(
    img: &mut RgbImage,
    x: i32,
    y: i32,
    s: &str,
    size: f64,
    colour: [u8; 3],
) -> Result<()> {
    register_font().map_err(|e| error(s, e))?;
    let (w, h) = (img.width, img.height);
    if img.data.len() != w as usize * h as usize * 3 || w == 0 || h == 0 {
        return Err(error(
            s,
            format!("a {w}×{h} image with {} bytes", img.data.len()),
        ));
    }
    let root = Bitmap(BitMapBackend::with_buffer(&mut img.data, (w, h))).into_drawing_area();
    let colour = RGBColor(colour[0], colour[1], colour[2]);
    let style = TextStyle::from(font(size))
        .color(&colour)
        .pos(Pos::new(HPos::Left, VPos::Top));
    root.draw_text(s, &style, (x, y)).map_err(|e| error(s, e))?;
    root.present().map_err(|e| error(s, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ink_rows(img: &RgbImage) -> Vec<u32> {
        (0..img.height)
            .filter(|&y| {
                (0..img.width).any(|x| {
                    let i = ((y * img.width + x) * 3) as usize;
                    img.data[i..i + 3] != [255, 255, 255]
                })
            })
            .collect()
    }

    #[test]
    fn text_lies_inside_its_box() {
        for size in [12.0, 16.0, 40.0] {
            let s = "Hgjy∅Δ±";
            let (w, h) = text_size(s, size).unwrap();
            assert!(w > 3 * size as u32 && w < 10 * size as u32, "{w} at {size}");
            let mut img = RgbImage::new(w + 20, h + 20);
            img.data.fill(255);
            draw_text(&mut img, 10, 10, s, size, [0, 0, 0]).unwrap();
            let rows = ink_rows(&img);
            let (top, bottom) = (rows[0], *rows.last().unwrap());
            assert!(
                top >= 10 && bottom < 10 + h,
                "{top}..{bottom} not in 10..{}",
                10 + h
            );
            assert!(bottom - top > h / 2);
            let dark = img.data.chunks_exact(3).filter(|p| p[0] < 100).count();
            assert!(dark > 20, "solid ink: {dark}");
        }
    }

    #[test]
    fn wrong_buffer_is_an_error() {
        let mut img = RgbImage {
            width: 10,
            height: 10,
            data: vec![0; 5],
        };
        assert!(draw_text(&mut img, 0, 0, "x", 12.0, [0, 0, 0]).is_err());
    }
}
