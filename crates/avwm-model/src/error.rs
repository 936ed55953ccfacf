/// Errors of the world model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Foundation error (checkpoint, libtorch, I/O, NaN loss).
    #[error(transparent)]
    Nn(#[from] avwm_nn::NnError),
    /// Tokenizer or latent-cache error.
    #[error(transparent)]
    Tokenizer(#[from] avwm_tokenizer::TokError),
    /// The columns of a latent cache do not fit together (from [`crate::data::Transitions::new`]).
    #[error(transparent)]
    Columns(#[from] CacheProblem),
    /// A latent cache whose columns do not fit together.
    #[error("{}: {problem}", path.display())]
    Cache {
        /// The cache folder.
        path: std::path::PathBuf,
        /// What is wrong.
        problem: CacheProblem,
    },
    /// The training split has no frame with enough frames before it for the model's history.
    #[error("the training split has no frame with {history} frames of history")]
    NoAnchors {
        /// The frames of history the model needs.
        history: i64,
    },
    /// A training stage the model's recipe does not have ([`crate::train::Stage::plan`]).
    #[error("--stage {asked}: {recipe} (use --stage {allowed})")]
    StageNotInRecipe {
        /// The stage asked for.
        asked: String,
        /// The model's recipe, in words.
        recipe: String,
        /// The stages that may be asked for.
        allowed: &'static str,
    },
    /// The latents of a cache do not fit the architecture asked for.
    #[error("the latents of {} do not fit the architecture: {problem}", cache.display())]
    Unfit {
        /// The latent cache.
        cache: std::path::PathBuf,
        /// What does not fit.
        problem: Box<ModelError>,
    },
    /// A training stage failed.
    #[error("training {stage} in {}: {problem}", run.display())]
    Training {
        /// The stage folder's name.
        stage: &'static str,
        /// The run folder.
        run: std::path::PathBuf,
        /// What went wrong.
        problem: Box<ModelError>,
    },
    /// The frame asked for is not in a latent cache (or lacks context or a recorded future).
    #[error("{} ({split} split): {problem}", cache.display())]
    NoSuchFrame {
        /// The latent cache.
        cache: std::path::PathBuf,
        /// Its split.
        split: &'static str,
        /// The episode asked for (`None`: the split's first).
        episode: Option<i64>,
        /// The step asked for.
        step: i64,
        /// What is missing.
        problem: String,
    },
    /// A predicted image or sound could not be encoded.
    #[error("encoding {}: {problem}", path.display())]
    Encode {
        /// The file it was meant for.
        path: std::path::PathBuf,
        /// The encoder's error.
        problem: avwm_data::DataError,
    },
    /// Bad configuration, run folder or model file.
    #[error("{0}")]
    Config(String),
    /// A model and a latent cache that do not fit together: the model was trained on latents
    /// of another shape or scale than the cache holds.
    #[error(
        "{model} expects {what} {expected}, but the latent cache {cache} holds {found} (was it encoded from another dataset preset or with other tokenizers?)"
    )]
    Mismatch {
        /// The model file.
        model: std::path::PathBuf,
        /// The latent cache.
        cache: std::path::PathBuf,
        /// What differs.
        what: &'static str,
        /// What the model expects.
        expected: String,
        /// What the cache holds.
        found: String,
    },
}

/// What is wrong with the columns of a latent cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheProblem {
    /// The columns hold different numbers of rows.
    #[error(
        "columns have different lengths ({episodes} episode ids, latents {latents:?}, {poses} poses)"
    )]
    Lengths {
        /// Rows of the episode-id column.
        episodes: usize,
        /// Rows of the visual mean, visual log-variance and audio latents.
        latents: Vec<i64>,
        /// Rows of the pose column.
        poses: usize,
    },
    /// The latents are not `[C, S, S]` (visual) and `[A, T]` (audio).
    #[error(
        "visual latents {visual:?} are not square [C, S, S] or audio latents {audio:?} are not [A, T]"
    )]
    LatentShapes {
        /// Shape of one visual latent.
        visual: Vec<i64>,
        /// Shape of one audio latent.
        audio: Vec<i64>,
    },
    /// A pose or geodesic distance is NaN or infinite.
    #[error("non-finite pose or geodesic distance")]
    NonFinite,
    /// An episode's frames are not contiguous.
    #[error("episode {episode} is not contiguous in the cache")]
    NotContiguous {
        /// The episode.
        episode: i64,
    },
    /// A column cannot be read as numbers.
    #[error("cache column {column}: {source}")]
    Column {
        /// The column.
        column: String,
        /// The libtorch error.
        source: tch::TchError,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

impl From<avwm_core::IoError> for ModelError {
    fn from(e: avwm_core::IoError) -> Self {
        ModelError::Nn(e.into())
    }
}
