//! `avwm-fuzz build-corpus`: the seeds and fixtures that the library writes itself (small
//! tokenizer and latent-cache files, configs, WAV) or that are written by hand from the format
//! (glTF/GLB, 16-bit PCM WAV). The seeds made with the `avwm` CLI are listed in
//! `corpus/README.md`.

use avwm_tokenizer::cache::{CACHE_FORMAT, CACHE_VERSION, CacheMeta, CacheSplit, TokenizerRef};
use avwm_tokenizer::codec::CodecConfig;
use avwm_tokenizer::mdct::MdctConfig;
use avwm_tokenizer::vae::VaeConfig;
use avwm_tokenizer::{Arch, Tokenizer, TokenizerMeta};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{Kind, Tensor};

fn w(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), String> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// A one-triangle glTF (y up) whose buffer is `uri` (a data URI) or the GLB chunk.
fn gltf_json(buffer_uri: Option<&str>) -> (String, Vec<u8>) {
    let mut bin = Vec::new();
    for v in [0.0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, -1.0] {
        bin.extend_from_slice(&v.to_le_bytes());
    }
    for i in [0u16, 1, 2] {
        bin.extend_from_slice(&i.to_le_bytes());
    }
    bin.extend_from_slice(&[0, 0]);
    let uri = buffer_uri
        .map(|u| format!(", \"uri\": \"{u}\""))
        .unwrap_or_default();
    let json = format!(
        r#"{{"asset": {{"version": "2.0"}}, "scene": 0, "scenes": [{{"nodes": [0]}}],
"nodes": [{{"mesh": 0, "translation": [0, 1, 0], "scale": [2, 2, 2]}}],
"meshes": [{{"primitives": [{{"attributes": {{"POSITION": 0}}, "indices": 1, "material": 0}}]}}],
"materials": [{{"name": "WallPaint", "pbrMetallicRoughness": {{"baseColorFactor": [0.2, 0.4, 0.6, 1.0]}}}}],
"buffers": [{{"byteLength": 44{uri}}}],
"bufferViews": [{{"buffer": 0, "byteOffset": 0, "byteLength": 36}}, {{"buffer": 0, "byteOffset": 36, "byteLength": 6}}],
"accessors": [
  {{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, -1], "max": [1, 0, 0]}},
  {{"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}}]}}
"#
    );
    (json, bin)
}

fn glb(json: &str, bin: &[u8]) -> Vec<u8> {
    let mut j = json.as_bytes().to_vec();
    while !j.len().is_multiple_of(4) {
        j.push(b' ');
    }
    let total = 12 + 8 + j.len() + 8 + bin.len();
    let mut out = Vec::new();
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(j.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&j);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(bin);
    out
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A 16-bit PCM WAV (interleaved `samples`), written by hound.
fn pcm16_wav(channels: u16, rate: u32, samples: &[i16]) -> Result<Vec<u8>, String> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).map_err(|e| e.to_string())?;
    for &x in samples {
        w.write_sample(x).map_err(|e| e.to_string())?;
    }
    w.finalize().map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

fn tensor_bytes(tensors: &[(String, Tensor)], tmp: &Path) -> Result<Vec<u8>, String> {
    let p = tmp.join("t.safetensors");
    avwm_nn::ckpt::save_tensors(&p, tensors).map_err(|e| e.to_string())?;
    std::fs::read(&p).map_err(|e| e.to_string())
}

/// Writes the generated seeds under `corpus/` and the fixtures under `fixtures/`.
///
/// # Errors
/// I/O or a library error, as a message.
pub fn build_corpus(corpus: &Path, fixtures: &Path) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let tmp = tmp.path();
    // Meshes.
    let (json, bin) = gltf_json(None);
    w(&corpus.join("mesh_glb/triangle.glb"), glb(&json, &bin))?;
    let uri = format!("data:application/octet-stream;base64,{}", base64(&bin));
    w(
        &corpus.join("mesh_gltf/triangle-embedded.gltf"),
        gltf_json(Some(&uri)).0,
    )?;
    // WAV: the library's float32 writer, and 16-bit PCM by hand (mono 8 kHz: resampled).
    let left: Vec<f32> = (0..400).map(|i| (i as f32 * 0.1).sin() * 0.5).collect();
    let right: Vec<f32> = left.iter().map(|v| -v).collect();
    let f32wav =
        avwm_audio::source::encode_wav(&[&left, &right], 16_000).map_err(|e| e.to_string())?;
    w(&corpus.join("wav/stereo-f32-16k.wav"), f32wav)?;
    let pcm: Vec<i16> = (0..300)
        .map(|i| ((i as f32 * 0.2).sin() * 8000.0) as i16)
        .collect();
    w(
        &corpus.join("wav/mono-pcm16-8k.wav"),
        pcm16_wav(1, 8000, &pcm)?,
    )?;
    // Configs.
    let mut sim = avwm_sim::SimConfig::tiny();
    w(&corpus.join("sim_config/tiny.toml"), toml_of(&sim)?)?;
    sim.hrtf = avwm_sim::HrtfChoice::Sofa {
        path: "hrtf.sofa".into(),
    };
    sim.source = avwm_sim::SourceChoice::Wav {
        path: "source.wav".into(),
    };
    w(&corpus.join("sim_config/sofa-wav.toml"), toml_of(&sim)?)?;
    w(
        &corpus.join("gen_config/tiny.toml"),
        toml_of(&avwm_datagen::GenConfig::tiny())?,
    )?;
    // Tokenizer: the tiny MDCT tokenizer saved by Tokenizer::save (fixture and seeds).
    tch::manual_seed(0);
    let tok = Tokenizer::new(Arch::AudioMdct(MdctConfig::tiny()), tch::Device::Cpu)
        .map_err(|e| e.to_string())?;
    let stem = fixtures.join("tokenizer/mdct");
    std::fs::create_dir_all(fixtures.join("tokenizer")).map_err(|e| e.to_string())?;
    tok.save(&stem).map_err(|e| e.to_string())?;
    let tok_json = std::fs::read(stem.with_extension("json")).map_err(|e| e.to_string())?;
    let tok_weights =
        std::fs::read(stem.with_extension("safetensors")).map_err(|e| e.to_string())?;
    w(&corpus.join("tokenizer_json/mdct.json"), &tok_json)?;
    w(
        &corpus.join("tokenizer_weights/mdct.safetensors"),
        &tok_weights,
    )?;
    w(&corpus.join("safetensors/mdct.safetensors"), &tok_weights)?;
    let vae_meta = TokenizerMeta {
        format: "avwm-tokenizer".into(),
        arch: Arch::Visual(VaeConfig::tiny()),
        steps: 0,
        provenance: serde_json::Value::Null,
    };
    let vae_json = serde_json::to_vec_pretty(&vae_meta).map_err(|e| e.to_string())?;
    w(&corpus.join("tokenizer_json/vae-tiny.json"), &vae_json)?;
    let codec_meta = TokenizerMeta {
        arch: Arch::Audio(CodecConfig::tiny()),
        ..vae_meta.clone()
    };
    let codec_json = serde_json::to_vec_pretty(&codec_meta).map_err(|e| e.to_string())?;
    w(&corpus.join("tokenizer_json/codec-tiny.json"), &codec_json)?;
    // World model: the tiny AV-CDiT saved by save_model (fixture and seed), and the avwm
    // design's JSON (its weights do not match the fixture: the load must refuse, not build).
    tch::manual_seed(0);
    let cfg = avwm_model::ModelConfig::preset("tiny").map_err(|e| e.to_string())?;
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let _net = avwm_model::net::AvCdit::new(&vs.root(), &cfg);
    let stem = fixtures.join("model/model");
    std::fs::create_dir_all(fixtures.join("model")).map_err(|e| e.to_string())?;
    let meta = avwm_model::predict::ModelMeta::new(
        cfg.clone(),
        avwm_model::train::Stage::Three,
        0,
        serde_json::json!({"fuzz fixture": "avwm-fuzz build-corpus"}),
    );
    avwm_model::predict::save_model(&vs, &meta, &stem).map_err(|e| e.to_string())?;
    w(
        &corpus.join("model_json/tiny.json"),
        std::fs::read(stem.with_extension("json")).map_err(|e| e.to_string())?,
    )?;
    let avwm_meta = avwm_model::predict::ModelMeta::new(
        cfg.avwm(),
        avwm_model::train::Stage::Head,
        0,
        serde_json::Value::Null,
    );
    w(
        &corpus.join("model_json/tiny-avwm.json"),
        serde_json::to_vec_pretty(&avwm_meta).map_err(|e| e.to_string())?,
    )?;
    // A training checkpoint (model, EMA, optimiser, state) of the small network
    // `targets::training_vars` after one AdamW step (fixture and optimiser seed).
    let dir = fixtures.join("training");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (vs, mut ema, mut opt) = crate::targets::training_vars();
    tch::manual_seed(0);
    let loss = vs
        .trainable_variables()
        .iter()
        .map(|v| (v * v).sum(Kind::Float))
        .fold(Tensor::from(0f32), |a, b| a + b);
    loss.backward();
    opt.step(1e-3);
    ema.update(&vs);
    avwm_nn::resume::save_training(&dir, &vs, &ema, &opt, &serde_json::json!({"step": 1}))
        .map_err(|e| e.to_string())?;
    w(
        &corpus.join("training_optim/optim.safetensors"),
        std::fs::read(dir.join("optim.safetensors")).map_err(|e| e.to_string())?,
    )?;
    w(
        &corpus.join("training_ema/ema.safetensors"),
        std::fs::read(dir.join("ema.safetensors")).map_err(|e| e.to_string())?,
    )?;
    // The world model trainer's state after 3 steps with one validation (every field set),
    // checked by reading it as that type.
    let state: avwm_model::train::State = serde_json::from_value(serde_json::json!({
        "step": 3,
        "train_seconds": 1.25,
        "val_curve": [[2, {
            "loss": 0.5,
            "terms": {"mse_visual": 0.25, "mse_audio": 0.125, "mse_reward": 0.0625, "vb": 0.0,
                      "head_reward_mse": 0.03125},
            "against_copy": {"visual": [0.25, 0.5], "audio": [0.125, 0.25]}
        }]],
        "last_loss": 0.75
    }))
    .map_err(|e| format!("the training state seed: {e}"))?;
    w(
        &corpus.join("training_state/state.json"),
        serde_json::to_vec_pretty(&state).map_err(|e| e.to_string())?,
    )?;
    // Safetensors of several dtypes and ranks.
    let mixed = vec![
        (
            "f32".to_string(),
            Tensor::from_slice(&[1.0f32, -2.0, 3.5]).view([3, 1]),
        ),
        ("i64".to_string(), Tensor::from_slice(&[1i64, 2, 3, 4])),
        (
            "f16".to_string(),
            Tensor::from_slice(&[0.5f32, 0.25]).to_kind(Kind::Half),
        ),
        (
            "u8".to_string(),
            Tensor::from_slice(&[7u8; 6]).view([1, 2, 3]),
        ),
        ("scalar".to_string(), Tensor::from(2.5f64)),
    ];
    w(
        &corpus.join("safetensors/mixed.safetensors"),
        tensor_bytes(&mixed, tmp)?,
    )?;
    // Latent cache: cache.json and a 3-frame train split written by ckpt::save_tensors.
    let n = 3i64;
    let split = vec![
        ("episode_id".to_string(), Tensor::from_slice(&[0i64, 0, 0])),
        ("step".to_string(), Tensor::from_slice(&[0i64, 1, 2])),
        ("action".to_string(), Tensor::from_slice(&[-1i64, 1, 2])),
        (
            "pose".to_string(),
            Tensor::zeros([n, 3], (Kind::Float, tch::Device::Cpu)),
        ),
        (
            "reward".to_string(),
            Tensor::from_slice(&[0.0f32, 0.1, 0.2]),
        ),
        (
            "geodesic_m".to_string(),
            Tensor::from_slice(&[3.0f32, 2.9, 2.7]),
        ),
        (
            "distance_reduction_m".to_string(),
            Tensor::from_slice(&[0.0f32, 0.1, 0.2]),
        ),
        (
            "visual_mean".to_string(),
            Tensor::ones([n, 4, 2, 2], (Kind::Float, tch::Device::Cpu)),
        ),
        (
            "visual_logvar".to_string(),
            Tensor::zeros([n, 4, 2, 2], (Kind::Float, tch::Device::Cpu)),
        ),
        (
            "audio".to_string(),
            Tensor::ones([n, 12, 15], (Kind::Float, tch::Device::Cpu)),
        ),
    ];
    let split_bytes = tensor_bytes(&split, tmp)?;
    let tref = |meta: TokenizerMeta, path: &str| TokenizerRef {
        path: path.into(),
        sha256: "0".repeat(64),
        meta,
    };
    let audio_meta: TokenizerMeta = serde_json::from_slice(&tok_json).map_err(|e| e.to_string())?;
    let meta = CacheMeta {
        format: CACHE_FORMAT.into(),
        version: CACHE_VERSION,
        dataset: "dataset".into(),
        visual: tref(vae_meta, "vae.safetensors"),
        audio: tref(audio_meta, "mdct.safetensors"),
        visual_scale: 0.18215,
        audio_scale: 1.0,
        splits: BTreeMap::from([(
            "train".to_string(),
            CacheSplit {
                file: "train.safetensors".into(),
                frames: 3,
                episodes: 1,
            },
        )]),
    };
    let meta_json = serde_json::to_vec_pretty(&meta).map_err(|e| e.to_string())?;
    w(&fixtures.join("cache/cache.json"), &meta_json)?;
    w(&fixtures.join("cache/train.safetensors"), &split_bytes)?;
    w(&corpus.join("cache_json/cache.json"), &meta_json)?;
    w(&corpus.join("cache_split/train.safetensors"), &split_bytes)?;
    w(
        &corpus.join("safetensors/cache-train.safetensors"),
        &split_bytes,
    )?;
    Ok(())
}

fn toml_of<T: serde::Serialize>(v: &T) -> Result<String, String> {
    toml::to_string(v).map_err(|e| e.to_string())
}
