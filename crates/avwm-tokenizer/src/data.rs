//! Frames of a dataset held in memory for tokenizer training and evaluation.

use crate::{Result, TokError};
use avwm_data::{Dataset, Filter, Frame, Split};
use rayon::prelude::*;
use tch::{Kind, Tensor};

/// Decoded images and audio of a set of episodes, in dataset order.
pub struct FrameSet {
    /// Image width and height (px).
    pub width: i64,
    /// Image height (px).
    pub height: i64,
    /// Samples per ear per frame.
    pub samples: i64,
    /// `(episode id, step)` per frame.
    pub index: Vec<(u64, u32)>,
    images: Vec<u8>,
    audio: Vec<f32>,
}

impl FrameSet {
    /// Loads every `every`-th frame of the episodes of `split` (all frames for `every = 1`),
    /// decoding PNG and WAV in parallel.
    ///
    /// # Errors
    /// Dataset errors (corrupt shards, bad media), [`TokError::EmptySplit`] for an empty split or
    /// [`TokError::FrameSize`] for frames of mixed sizes.
    pub fn load(ds: &Dataset, split: Split, every: usize) -> Result<FrameSet> {
        let filter = Filter::split(split);
        let ids: Vec<u64> = ds
            .episodes()
            .iter()
            .filter(|e| filter.accepts(e))
            .map(|e| e.entry.episode_id)
            .collect();
        let every = every.max(1);
        let per_episode: Vec<Vec<Frame>> = ids
            .par_iter()
            .map(|&id| {
                let frames = ds.episode_frames(id)?;
                Ok(frames.into_iter().step_by(every).collect())
            })
            .collect::<std::result::Result<_, avwm_data::DataError>>()?;
        let frames: Vec<Frame> = per_episode.into_iter().flatten().collect();
        let Some(first) = frames.first() else {
            return Err(TokError::EmptySplit {
                dir: ds.dir().to_path_buf(),
                split: split.name(),
            });
        };
        let (w, h, t) = (first.rgb.width, first.rgb.height, first.audio.left.len());
        let mut set = FrameSet {
            width: i64::from(w),
            height: i64::from(h),
            samples: t as i64,
            index: Vec::with_capacity(frames.len()),
            images: Vec::with_capacity(frames.len() * (w * h * 3) as usize),
            audio: Vec::with_capacity(frames.len() * 2 * t),
        };
        for f in &frames {
            if f.rgb.width != w
                || f.rgb.height != h
                || f.audio.left.len() != t
                || f.audio.right.len() != t
            {
                let size =
                    |w: u32, h: u32, l: usize, r: usize| format!("{w}×{h} px, {l}+{r} samples");
                return Err(TokError::FrameSize {
                    dir: ds.dir().to_path_buf(),
                    episode: f.episode_id,
                    step: f.step,
                    expected: size(w, h, t, t),
                    found: size(
                        f.rgb.width,
                        f.rgb.height,
                        f.audio.left.len(),
                        f.audio.right.len(),
                    ),
                });
            }
            set.index.push((f.episode_id, f.step as u32));
            set.images.extend_from_slice(&f.rgb.data);
            set.audio.extend_from_slice(&f.audio.left);
            set.audio.extend_from_slice(&f.audio.right);
        }
        Ok(set)
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// RGB bytes (HWC) of frame `i`.
    pub fn image_bytes(&self, i: usize) -> &[u8] {
        let n = (self.width * self.height * 3) as usize;
        &self.images[i * n..(i + 1) * n]
    }

    /// Left and right samples of frame `i`.
    pub fn audio_samples(&self, i: usize) -> (&[f32], &[f32]) {
        let t = self.samples as usize;
        let a = &self.audio[i * 2 * t..(i + 1) * 2 * t];
        a.split_at(t)
    }

    /// Images `[B, 3, H, W]` in [−1, 1].
    pub fn image_batch(&self, idx: &[usize]) -> Tensor {
        let bytes: Vec<u8> = idx
            .iter()
            .flat_map(|&i| self.image_bytes(i).to_vec())
            .collect();
        images_to_tensor(&bytes, idx.len() as i64, self.height, self.width)
    }

    /// Audio `[B, 2, T]`.
    pub fn audio_batch(&self, idx: &[usize]) -> Tensor {
        let t = self.samples as usize;
        let v: Vec<f32> = idx
            .iter()
            .flat_map(|&i| self.audio[i * 2 * t..(i + 1) * 2 * t].to_vec())
            .collect();
        Tensor::from_slice(&v).view([idx.len() as i64, 2, self.samples])
    }
}

/// HWC RGB bytes of `b` images to `[B, 3, H, W]` floats in [−1, 1].
pub fn images_to_tensor(bytes: &[u8], b: i64, h: i64, w: i64) -> Tensor {
    Tensor::from_slice(bytes)
        .view([b, h, w, 3])
        .permute([0, 3, 1, 2])
        .to_kind(Kind::Float)
        / 127.5
        - 1.0
}

/// `[B, 3, H, W]` floats in [−1, 1] to HWC RGB bytes per image (rounded, clamped).
pub fn tensor_to_images(x: &Tensor) -> Vec<Vec<u8>> {
    let x = ((x.detach().to_device(tch::Device::Cpu).clamp(-1.0, 1.0) + 1.0) * 127.5)
        .round()
        .to_kind(Kind::Uint8)
        .permute([0, 2, 3, 1])
        .contiguous();
    let b = x.size()[0];
    (0..b)
        .map(|i| {
            let t = x.get(i).flatten(0, -1);
            let mut v = vec![0u8; t.numel()];
            t.copy_data(&mut v, t.numel());
            v
        })
        .collect()
}

/// `[B, 2, T]` audio to `(left, right)` sample vectors per item.
pub fn tensor_to_audio(x: &Tensor) -> Vec<(Vec<f32>, Vec<f32>)> {
    let x = x
        .detach()
        .to_device(tch::Device::Cpu)
        .to_kind(Kind::Float)
        .contiguous();
    let (b, _, t) = x.size3().expect("audio is [B, 2, T]");
    (0..b)
        .map(|i| {
            let mut l = vec![0f32; t as usize];
            let mut r = vec![0f32; t as usize];
            x.get(i).get(0).copy_data(&mut l, t as usize);
            x.get(i).get(1).copy_data(&mut r, t as usize);
            (l, r)
        })
        .collect()
}
