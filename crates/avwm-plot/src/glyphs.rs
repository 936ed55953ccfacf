//! Text on bitmaps with each glyph where the font puts it.
//!
//! plotters 0.3.7 rasterises `ab_glyph` text at the pen position without the glyph's left side
//! bearing and with its own baseline, so in PNGs a "." sits against the digit before it and lines
//! of text ride high. [`Bitmap`] is plotters' bitmap backend with text drawn by [`rasterise`]
//! instead: kerning, side bearings and the baseline as in the font (the SVG backend needs none of
//! this: the viewer sets the text). Everything else is the bitmap backend's own drawing.

use crate::FONT_BYTES;
use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::backend::{BitMapBackend, DrawingBackend};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// The embedded font, parsed once (`None` if it does not parse, which a test rules out).
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: std::sync::OnceLock<Option<FontRef<'static>>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
}

/// Advance width (px) of `text` at `size` px line height (ascender to descender), kerning
/// included.
pub(crate) fn width(text: &str, size: f64) -> Option<f64> {
    let f = font()?.as_scaled(PxScale::from(size as f32));
    let mut pen = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            pen += f.kern(p, id);
        }
        pen += f.h_advance(id);
        prev = Some(id);
    }
    Some(f64::from(pen))
}

/// Calls `put(x, y, coverage)` for every pixel of `text` set at `size` px line height, with the
/// top-left corner of its line box (ascender line, pen start) at (0, 0); returns false if the
/// font is unavailable.
pub(crate) fn rasterise(text: &str, size: f64, mut put: impl FnMut(i32, i32, f32)) -> bool {
    let Some(font) = font() else {
        return false;
    };
    let f = font.as_scaled(PxScale::from(size as f32));
    let mut pen = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            pen += f.kern(p, id);
        }
        let glyph = id.with_scale_and_position(f.scale(), point(pen, f.ascent()));
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline
                .draw(|x, y, cov| put(b.min.x as i32 + x as i32, b.min.y as i32 + y as i32, cov));
        }
        pen += f.h_advance(id);
        prev = Some(id);
    }
    true
}

/// plotters' RGB bitmap backend with [`rasterise`]d text.
pub(crate) struct Bitmap<'a>(pub BitMapBackend<'a>);

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> DrawingBackend for Bitmap<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.0.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.0.blit_bitmap(pos, size, src)
    }

    /// The text's line box (advance width × line height) is placed by the style's anchor and
    /// rotated by its transform about `pos`, as plotters does.
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let size = style.size();
        let w = width(text, size).ok_or_else(|| {
            DrawingErrorKind::FontError("the embedded font could not be parsed".into())
        })?;
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Center => -(w / 2.0).round() as i32,
            HPos::Right => -w.round() as i32,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -(size / 2.0).round() as i32,
            VPos::Bottom => -size.round() as i32,
        };
        let trans = style.transform();
        let (bw, bh) = self.get_size();
        let mut result = Ok(());
        rasterise(text, size, |x, y, cov| {
            let (x, y) = trans.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if result.is_ok() && cov > 0.0 && x >= 0 && y >= 0 && (x as u32) < bw && (y as u32) < bh
            {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(cov.min(1.0)),
                    rgb: color.rgb,
                };
                result = self.0.draw_pixel((x, y), c);
            }
        });
        result
    }
}
