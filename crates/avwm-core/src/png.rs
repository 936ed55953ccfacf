//! The one PNG encoder of avwm: dataset frames, maps, figures and the viewer's images.

use crate::RgbImage;

/// An image could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    /// The buffer does not hold `width × height × 3` bytes, or the image is empty.
    #[error("a {width}×{height} RGB image needs {} bytes, the buffer holds {len}", *width as usize * *height as usize * 3)]
    Size {
        /// Width (pixels).
        width: u32,
        /// Height (pixels).
        height: u32,
        /// Bytes in the buffer.
        len: usize,
    },
    /// The encoder failed.
    #[error("PNG encoder: {0}")]
    Encode(#[from] png::EncodingError),
}

/// Encodes an RGB image as an 8-bit RGB PNG (fast deflate, adaptive filter: the same image gives
/// the same bytes).
///
/// # Errors
/// [`PngError::Size`] for a buffer that does not match the size or an empty image.
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>, PngError> {
    let expected = img.width as usize * img.height as usize * 3;
    if img.data.len() != expected || expected == 0 {
        return Err(PngError::Size {
            width: img.width,
            height: img.height,
            len: img.data.len(),
        });
    }
    let mut out = Vec::with_capacity(expected / 2);
    let mut enc = png::Encoder::new(&mut out, img.width, img.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut w = enc.write_header()?;
    w.write_image_data(&img.data)?;
    w.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trips_through_the_decoder() {
        let mut img = RgbImage::new(5, 3);
        for (k, b) in img.data.iter_mut().enumerate() {
            *b = (k * 7 % 256) as u8;
        }
        let bytes = encode_png(&img).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = dec.read_info().expect("valid png");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!((info.width, info.height), (5, 3));
        assert_eq!(&buf[..info.buffer_size()], &img.data[..]);
    }

    #[test]
    fn malformed_images_are_errors() {
        let short = RgbImage {
            width: 4,
            height: 4,
            data: vec![0; 10],
        };
        let e = encode_png(&short).unwrap_err().to_string();
        assert!(
            e.contains("needs 48 bytes") && e.contains("holds 10"),
            "{e}"
        );
        assert!(encode_png(&RgbImage::new(0, 0)).is_err());
    }
}
