//! Pictures and sounds for a web page: PNG and WAV bytes as `data:` URIs, spectrogram strips.

use crate::{Result, ViewError};
use avwm_core::{BinauralAudio, RgbImage};
use base64::Engine;

/// Height of each ear's spectrogram strip (px).
pub const SPEC_HEIGHT: u32 = 48;
/// Width of a spectrogram picture (px).
pub const SPEC_WIDTH: u32 = 128;

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// An image as a `data:image/png` URI.
///
/// # Errors
/// A malformed image.
pub fn png_uri(img: &RgbImage) -> Result<String> {
    let bytes = avwm_core::encode_png(img).map_err(|e| ViewError::Encode(e.to_string()))?;
    Ok(data_uri("image/png", &bytes))
}

/// Binaural audio as a `data:audio/wav` URI: 32-bit float WAV, the samples exactly (nothing is
/// clipped; browsers play float WAV).
///
/// # Errors
/// Channels of different lengths.
pub fn wav_uri(audio: &BinauralAudio) -> Result<String> {
    let bytes = avwm_audio::source::encode_wav(&[&audio.left, &audio.right], audio.sample_rate_hz)
        .map_err(|e| ViewError::Encode(e.to_string()))?;
    Ok(data_uri("audio/wav", &bytes))
}

/// The two ears' log-magnitude spectrograms stacked (left on top), as a picture.
pub fn spectrogram(audio: &BinauralAudio) -> RgbImage {
    let (w, h) = (SPEC_WIDTH, SPEC_HEIGHT);
    let mut img = RgbImage::new(w, 2 * h + 2);
    for (k, ch) in [&audio.left, &audio.right].into_iter().enumerate() {
        let strip = avwm_data::plot::spectrogram_strip(ch, w, h);
        let y0 = k as u32 * (h + 2);
        for (i, px) in strip.iter().enumerate() {
            let (x, y) = (i as u32 % w, y0 + i as u32 / w);
            let o = ((y * w + x) * 3) as usize;
            img.data[o..o + 3].copy_from_slice(px);
        }
    }
    img
}

/// A spectrogram picture as a `data:image/png` URI.
///
/// # Errors
/// As [`png_uri`].
pub fn spectrogram_uri(audio: &BinauralAudio) -> Result<String> {
    png_uri(&spectrogram(audio))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_uri_keeps_every_sample_exactly_even_beyond_full_scale() {
        let a = BinauralAudio {
            sample_rate_hz: 16_000,
            left: vec![0.5, 2.0],
            right: vec![-0.25, -3.0],
        };
        let uri = wav_uri(&a).expect("encodes");
        let b64 = uri.strip_prefix("data:audio/wav;base64,").expect("prefix");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64");
        assert_eq!(&bytes[..4], b"RIFF");
        let data = bytes.len() - 16;
        let f = |i: usize| {
            f32::from_le_bytes(bytes[data + 4 * i..data + 4 * i + 4].try_into().unwrap())
        };
        assert_eq!([f(0), f(1), f(2), f(3)], [0.5, -0.25, 2.0, -3.0]);
        let unequal = BinauralAudio {
            sample_rate_hz: 16_000,
            left: vec![0.0; 3],
            right: vec![0.0; 2],
        };
        assert!(wav_uri(&unequal).is_err());
    }

    #[test]
    fn spectrogram_of_a_tone_is_brightest_at_its_row() {
        let n = 2400;
        let tone: Vec<f32> = (0..n)
            .map(|i| (std::f32::consts::TAU * 2000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let a = BinauralAudio {
            sample_rate_hz: 16_000,
            left: tone.clone(),
            right: vec![0.0; n],
        };
        let img = spectrogram(&a);
        assert_eq!((img.width, img.height), (SPEC_WIDTH, 2 * SPEC_HEIGHT + 2));
        // 2 kHz of 8 kHz: a quarter of the left strip up from its bottom row.
        let row = |y: u32| -> u32 {
            (0..img.width)
                .map(|x| u32::from(img.data[((y * img.width + x) * 3) as usize]))
                .sum()
        };
        let brightest = (0..SPEC_HEIGHT).max_by_key(|&y| row(y)).expect("rows");
        let expect = SPEC_HEIGHT - 1 - SPEC_HEIGHT / 4;
        assert!(brightest.abs_diff(expect) <= 1, "{brightest} vs {expect}");
    }
}
