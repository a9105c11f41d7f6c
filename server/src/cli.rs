//! Command-line arguments, parsed by clap.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Topica: topic modelling for collections of texts.
#[derive(Debug, Parser)]
#[command(name = "topica", version)]
pub struct Cli {
    /// Folder holding the embedded store, tracked runs and models.
    #[arg(
        long,
        global = true,
        env = "TOPICA_DATA_DIR",
        default_value = "topica-data"
    )]
    pub data_dir: PathBuf,

    /// Output format: `text` for people, `json` for scripts.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// MLflow tracking server URL (http://HOST:PORT) for runs and registered models. Without it,
    /// runs are tracked in files under the data directory. The server must serve artifacts
    /// (`mlflow server --serve-artifacts`).
    #[arg(
        long,
        global = true,
        env = "MLFLOW_TRACKING_URI",
        hide_env_values = true
    )]
    pub mlflow_uri: Option<String>,

    /// MongoDB connection string (mongodb://HOST:PORT[/DATABASE]); when set, corpora and tokens
    /// are stored in MongoDB instead of the embedded SQLite file.
    #[arg(long, global = true, env = "MONGODB_URI", hide_env_values = true)]
    pub mongodb_uri: Option<String>,

    /// MongoDB database for corpora and tokens (default: the URI's database, else `topica`).
    #[arg(long, global = true, env = "MONGODB_DATABASE")]
    pub mongodb_database: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store a folder or .zip of .txt files, a CSV file or a JSONL file as a corpus.
    Ingest(IngestCommand),
    /// List stored corpora with their document counts.
    Corpora,
    /// Run the preprocessing plugin chain and build the dictionary.
    Preprocess(PreprocessCommand),
    /// Train an LDA model on a preprocessed corpus and track the run.
    Train(TrainCommand),
    /// Compute topic coherence (c_v, u_mass, c_npmi) for a tracked run.
    Kpi(KpiCommand),
    /// Infer the topic distribution of new texts under a tracked model.
    Infer(InferCommand),
    /// Ingest, preprocess, train and score in one go.
    Pipeline(PipelineCommand),
    /// Train one model per number of topics in parallel and compare their coherence.
    Sweep(SweepCommand),
    /// Score topics given as word lists on token lists from a file, for comparing other tools.
    Coherence(CoherenceCommand),
    /// List tracked runs, newest first.
    Runs,
    /// Write data out of the store.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Manage registered model versions.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Serve the web app and the JSON API.
    Serve(ServeCommand),
}

#[derive(Debug, Args)]
pub struct IngestCommand {
    /// A folder or .zip of .txt files (sub-folders become collections), a .csv or a .jsonl file.
    pub path: PathBuf,
    #[command(flatten)]
    pub options: IngestArgs,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Name of the corpus to create.
    #[arg(long)]
    pub corpus: String,
    /// Replace an existing corpus of the same name (its tokens go with it).
    #[arg(long)]
    pub replace: bool,
    /// Pattern of the date in .txt file names: %Y, %m and %d stand for year, month and day.
    #[arg(long, default_value = "%Y-%m-%d")]
    pub date_pattern: String,
    /// CSV column or JSONL key holding the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// CSV column or JSONL key holding the document id (rows without one get `row-N`).
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// CSV column or JSONL key holding the date (YYYY, YYYY-MM or YYYY-MM-DD).
    #[arg(long, default_value = "date")]
    pub date_field: String,
    /// CSV column or JSONL key holding the title.
    #[arg(long, default_value = "title")]
    pub title_field: String,
    /// CSV column or JSONL key holding the collection.
    #[arg(long, default_value = "collection")]
    pub collection_field: String,
}

#[derive(Debug, Args)]
pub struct PreprocessCommand {
    /// Corpus to preprocess.
    #[arg(long)]
    pub corpus: String,
    #[command(flatten)]
    pub options: PreprocessArgs,
}

#[derive(Debug, Args)]
pub struct PreprocessArgs {
    /// Pipeline file (TOML) with the plugin steps and dictionary filters; built-in defaults
    /// otherwise (`topica preprocess --help` and the README show them).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Extra stopwords, one per line, added to the stopwords step.
    #[arg(long)]
    pub stopwords: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TrainCommand {
    /// Corpus to train on.
    #[arg(long)]
    pub corpus: String,
    /// Preprocessing pipeline id whose tokens to use (default: the latest one).
    #[arg(long)]
    pub pipeline: Option<String>,
    #[command(flatten)]
    pub options: TrainArgs,
}

/// Settings of the Gibbs sampler, shared by `train`, `pipeline` and `sweep`.
#[derive(Debug, Args)]
pub struct SamplerArgs {
    /// Gibbs sampling iterations over the whole corpus [default: 1000].
    #[arg(long)]
    pub iterations: Option<u32>,
    /// Initial symmetric document-topic prior per topic [default: 0.1].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Symmetric topic-word prior [default: 0.01].
    #[arg(long)]
    pub eta: Option<f64>,
    /// Seed of the sampler; equal seeds and inputs give identical models (for `train`, also
    /// equal `--partitions`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sweeps between two optimisations of an asymmetric alpha by Minka's fixed point, as
    /// MALLET and tomotopy do. 0 keeps alpha symmetric [default: 10].
    #[arg(long)]
    pub optimize_alpha_every: Option<u32>,
    /// Sweeps before the first alpha optimisation [default: 50].
    #[arg(long)]
    pub optimize_alpha_burn_in: Option<u32>,
}

impl SamplerArgs {
    /// Returns the LDA settings for `num_topics` topics: these options over the defaults.
    pub fn params(&self, num_topics: u32) -> topica_core::lda::LdaParams {
        let mut params = topica_core::lda::LdaParams::new(num_topics);
        params.seed = self.seed;
        let overrides = [
            (&mut params.iterations, self.iterations),
            (&mut params.optimize_alpha_every, self.optimize_alpha_every),
            (
                &mut params.optimize_alpha_burn_in,
                self.optimize_alpha_burn_in,
            ),
        ];
        for (field, value) in overrides {
            if let Some(value) = value {
                *field = value;
            }
        }
        if let Some(alpha) = self.alpha {
            params.alpha = alpha;
        }
        if let Some(eta) = self.eta {
            params.eta = eta;
        }
        params
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Number of topics (K).
    #[arg(long = "topics")]
    pub num_topics: u32,
    #[command(flatten)]
    pub sampler: SamplerArgs,
    /// Experiment the run is tracked under.
    #[arg(long, default_value = "topica")]
    pub experiment: String,
    /// Registered model the trained model becomes a new version of.
    #[arg(long, default_value = "topica-lda")]
    pub registered_model: String,
    /// Partitions of the documents, sampled in parallel by approximate distributed Gibbs
    /// sampling (AD-LDA) in one plugin instance each; 1 trains in a single instance with exact
    /// Gibbs sampling [default: 1]. The model depends on it, not on `--workers`.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub partitions: Option<u32>,
    /// Threads that sample the partitions (default: the number of CPU cores). The model does
    /// not depend on it.
    #[arg(long)]
    pub workers: Option<usize>,
}

#[derive(Debug, Args)]
pub struct KpiCommand {
    /// Tracked run whose model to score: a run id, `models:/NAME@ALIAS` or `models:/NAME/VERSION`.
    #[arg(long)]
    pub run: String,
    #[command(flatten)]
    pub options: KpiArgs,
}

#[derive(Debug, Args)]
pub struct InferCommand {
    /// Tracked run whose model to use: a run id, `models:/NAME@ALIAS` or `models:/NAME/VERSION`.
    #[arg(long)]
    pub run: String,
    /// A text to infer topics for; repeat the option for several texts.
    #[arg(long = "text")]
    pub texts: Vec<String>,
    /// A file of texts: JSON lines with a `text` field (and an optional `id`), or any other file
    /// as one UTF-8 text.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Gibbs sweeps per text [default: 100].
    #[arg(long)]
    pub iterations: Option<u32>,
    /// Seed of the sampler; equal seeds and texts give equal distributions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct KpiArgs {
    /// Top words per topic that coherence is computed on.
    #[arg(long, default_value_t = 20)]
    pub top_n: usize,
}

#[derive(Debug, Args)]
pub struct PipelineCommand {
    /// Input, as for `topica ingest`.
    pub path: PathBuf,
    #[command(flatten)]
    pub ingest: IngestArgs,
    #[command(flatten)]
    pub preprocess: PreprocessArgs,
    #[command(flatten)]
    pub train: TrainArgs,
    #[command(flatten)]
    pub kpi: KpiArgs,
}

#[derive(Debug, Args)]
pub struct SweepCommand {
    /// Corpus to train on.
    #[arg(long)]
    pub corpus: String,
    /// Numbers of topics, inclusive: `3..19` trains 17 models.
    #[arg(long, value_parser = crate::sweep::parse_topic_range)]
    pub topics: std::ops::RangeInclusive<u32>,
    /// Preprocessing pipeline id whose tokens to use (default: the latest one).
    #[arg(long)]
    pub pipeline: Option<String>,
    #[command(flatten)]
    pub sampler: SamplerArgs,
    /// Models trained at the same time (default: the number of CPU cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Top words per topic for coherence.
    #[arg(long, default_value_t = 20)]
    pub top_n: usize,
    /// Experiment the runs are tracked under.
    #[arg(long, default_value = "topica")]
    pub experiment: String,
}

#[derive(Debug, Args)]
pub struct CoherenceCommand {
    /// JSON file with the topics: a list of word lists, most probable word first.
    #[arg(long)]
    pub topics: PathBuf,
    /// JSONL file with one `{"id": …, "tokens": […]}` line per document.
    #[arg(long)]
    pub texts: PathBuf,
    /// Measure: c_v, u_mass, c_npmi or c_uci.
    #[arg(long, default_value = "c_v")]
    pub measure: String,
    /// Top words per topic that are scored.
    #[arg(long, default_value_t = 20)]
    pub top_n: usize,
    /// Sliding window size in tokens (default: the measure's, 110 for c_v, 10 for c_npmi and
    /// c_uci).
    #[arg(long)]
    pub window: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write a run's token lists as JSONL (`id`, `tokens`): by default exactly the lists training
    /// used (dictionary-filtered, documents left empty omitted).
    Tokens(ExportTokensCommand),
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Point an alias (default `champion`) at a version of a registered model.
    Promote(PromoteCommand),
}

#[derive(Debug, Args)]
pub struct PromoteCommand {
    /// Registered model name.
    #[arg(long, default_value = "topica-lda")]
    pub name: String,
    /// Version to promote, as printed by `topica train`.
    #[arg(long)]
    pub version: String,
    /// Alias to set.
    #[arg(long, default_value = "champion")]
    pub alias: String,
}

#[derive(Debug, Args)]
pub struct ExportTokensCommand {
    /// Tracked run whose token lists to write: a run id or a `models:/` URI.
    #[arg(long)]
    pub run: String,
    /// Write the token lists before dictionary filtering (what c_v and c_npmi use).
    #[arg(long)]
    pub unfiltered: bool,
    /// Output file (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeCommand {
    /// Address to listen on.
    #[arg(long, env = "TOPICA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Folder with the browser bundle built by `cargo xtask site`.
    #[arg(long, env = "TOPICA_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
}
