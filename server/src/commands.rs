//! Runs each CLI command and prints its result as text or JSON.

use std::fmt::Write as _;

use anyhow::{Context as _, Result};
use serde::Serialize;

use topica_core::coherence::{CoherenceSettings, Measure, coherence};

use crate::cli::{
    CoherenceCommand, Command, ExportCommand, InferCommand, IngestArgs, ModelCommand, OutputFormat,
    TrainArgs,
};
use crate::context::Context;
use crate::infer::{InferJob, InputText, infer};
use crate::ingest::dates::DatePattern;
use crate::ingest::{FieldNames, IngestOptions, IngestReport, ingest};
use crate::kpi::{KpiReport, kpi};
use crate::preprocess::{PipelineConfig, PreprocessReport, preprocess};
use crate::render::{
    render_infer, render_ingest, render_kpi, render_preprocess, render_sweep, render_train,
};
use crate::sweep::{SweepJob, sweep};
use crate::train::{Parallelism, TrainJob, TrainReport, train_with};

/// Writes to stdout; a reader that went away (`topica runs | head`) ends the output quietly
/// instead of panicking.
fn print_out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(error) = written
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        tracing::error!(%error, "cannot write to standard output");
    }
}

/// Returns whether `error` comes from writing to a pipe whose reader has closed it.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints `value` as pretty JSON or as the given text.
fn emit<T: Serialize>(format: OutputFormat, value: &T, text: impl FnOnce() -> String) {
    match format {
        OutputFormat::Json => print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(value).expect("reports serialise")
        )),
        OutputFormat::Text => print_out(&text()),
    }
}

/// Runs one command against the data directory in `context`.
pub async fn run(context: &Context, format: OutputFormat, command: Command) -> Result<()> {
    match command {
        Command::Ingest(command) => {
            let report = run_ingest(context, &command.path, &command.options).await?;
            emit(format, &report, || render_ingest(&report));
        }
        Command::Corpora => {
            let corpora = context.store.list_corpora().await?;
            emit(format, &corpora, || {
                let mut text = String::new();
                if corpora.is_empty() {
                    text.push_str(
                        "No corpora yet: `topica ingest PATH --corpus NAME` stores one.\n",
                    );
                }
                for corpus in &corpora {
                    let dates = match (&corpus.first_date, &corpus.last_date) {
                        (Some(first), Some(last)) => format!(", {first} to {last}"),
                        _ => String::new(),
                    };
                    let _ = writeln!(
                        text,
                        "{}\t{} documents, {} collections{dates}",
                        corpus.name,
                        corpus.document_count,
                        corpus.collections.len()
                    );
                }
                text
            });
        }
        Command::Preprocess(command) => {
            let config = PipelineConfig::load(
                command.options.config.as_deref(),
                command.options.stopwords.as_deref(),
            )?;
            let report = preprocess(context, &command.corpus, &config).await?;
            emit(format, &report, || render_preprocess(&report));
        }
        Command::Train(command) => {
            let request = train_request(&command.corpus, command.pipeline, &command.options)?;
            let report = train_with(context, &request, parallelism(&command.options)?).await?;
            emit(format, &report, || render_train(&report));
        }
        Command::Kpi(command) => {
            let run_id = resolve_run(context, &command.run).await?;
            let report = kpi(context, &run_id, command.options.top_n).await?;
            emit(format, &report, || render_kpi(&report));
        }
        Command::Infer(command) => {
            let run_id = resolve_run(context, &command.run).await?;
            let texts = infer_inputs(&command)?;
            let job = InferJob {
                run_id,
                texts,
                iterations: command.iterations,
                seed: command.seed,
            };
            let report = infer(context, job).await?;
            emit(format, &report, || render_infer(&report));
        }
        Command::Pipeline(command) => {
            // Check every setting before the first stage stores anything.
            let mut request = train_request(&command.ingest.corpus, None, &command.train)?;
            let parallelism = parallelism(&command.train)?;
            let config = PipelineConfig::load(
                command.preprocess.config.as_deref(),
                command.preprocess.stopwords.as_deref(),
            )?;

            let ingested = run_ingest(context, &command.path, &command.ingest).await?;
            if format == OutputFormat::Text {
                print_out(&render_ingest(&ingested));
            }
            let preprocessed = preprocess(context, &command.ingest.corpus, &config).await?;
            if format == OutputFormat::Text {
                print_out(&render_preprocess(&preprocessed));
            }
            request.pipeline_id = Some(preprocessed.pipeline_id.clone());
            let trained = train_with(context, &request, parallelism).await?;
            if format == OutputFormat::Text {
                print_out(&render_train(&trained));
            }
            let scored = kpi(context, &trained.run_id, command.kpi.top_n).await?;
            if format == OutputFormat::Text {
                print_out(&render_kpi(&scored));
            }
            let summary = PipelineSummary {
                run_id: trained.run_id.clone(),
                ingest: ingested,
                preprocess: preprocessed,
                train: trained,
                kpi: scored,
            };
            if format == OutputFormat::Json {
                emit(format, &summary, String::new);
            }
        }
        Command::Sweep(command) => {
            let params = command.sampler.params(*command.topics.start());
            let workers = command.workers.unwrap_or_else(cpu_cores);
            let job = SweepJob {
                corpus: command.corpus,
                pipeline_id: command.pipeline,
                topics: command.topics,
                params,
                experiment: command.experiment,
                workers,
                top_n: command.top_n,
            };
            let report = sweep(context, &job).await?;
            emit(format, &report, || render_sweep(&report));
        }
        Command::Coherence(command) => {
            let report = score_files(&command)?;
            emit(format, &report, || {
                let mut text = format!(
                    "{} {:.4} (top {} words)\n",
                    report.measure, report.overall, report.top_n
                );
                for (topic, value) in report.per_topic.iter().enumerate() {
                    let value = value.map_or("-".to_owned(), |value| format!("{value:.4}"));
                    let _ = writeln!(text, "  topic {topic:>3}: {value}");
                }
                text
            });
        }
        Command::Runs => {
            let runs = context.tracker.list_runs(None).await?;
            emit(format, &runs, || {
                let mut text = String::new();
                if runs.is_empty() {
                    text.push_str(
                        "No runs yet: `topica train --corpus NAME --topics K` starts one.\n",
                    );
                }
                for run in &runs {
                    let c_v = run
                        .metrics
                        .get("coherence_c_v")
                        .map_or("-".to_owned(), |value| format!("{value:.4}"));
                    let _ = writeln!(
                        text,
                        "{}\t{}\t{}\tc_v {c_v}",
                        run.run_id, run.run_name, run.status
                    );
                }
                text
            });
        }
        Command::Export(ExportCommand::Tokens(command)) => {
            let run_id = resolve_run(context, &command.run).await?;
            let lines = match &command.output {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    let mut writer = std::io::BufWriter::new(file);
                    crate::export::export_tokens(context, &run_id, command.unfiltered, &mut writer)
                        .await?
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    let exported = crate::export::export_tokens(
                        context,
                        &run_id,
                        command.unfiltered,
                        &mut stdout,
                    )
                    .await;
                    match exported {
                        Ok(lines) => lines,
                        // The reader closed the pipe (`topica export tokens | head`), so stop quietly.
                        Err(error) if is_broken_pipe(&error) => return Ok(()),
                        Err(error) => return Err(error),
                    }
                }
            };
            if let Some(path) = &command.output {
                let summary =
                    serde_json::json!({ "run_id": run_id, "documents": lines, "output": path });
                emit(format, &summary, || {
                    format!("Wrote {lines} documents to {}\n", path.display())
                });
            }
        }
        Command::Model(ModelCommand::Promote(command)) => {
            context
                .registry
                .set_alias(&command.name, &command.alias, &command.version)
                .await?;
            let version = context
                .registry
                .resolve(&format!("models:/{}@{}", command.name, command.alias))
                .await?;
            emit(format, &version, || {
                format!(
                    "models:/{}@{} now points at version {} (run {})\n",
                    command.name, command.alias, version.version, version.run_id
                )
            });
        }
        Command::Serve(command) => crate::serve::serve(context.clone(), command).await?,
    }
    Ok(())
}

/// Everything `topica pipeline` did, for `--format json`.
#[derive(Debug, Serialize)]
struct PipelineSummary {
    run_id: String,
    ingest: IngestReport,
    preprocess: PreprocessReport,
    train: TrainReport,
    kpi: KpiReport,
}

async fn run_ingest(
    context: &Context,
    path: &std::path::Path,
    args: &IngestArgs,
) -> Result<IngestReport> {
    let options = IngestOptions {
        date_pattern: DatePattern::new(&args.date_pattern).map_err(anyhow::Error::msg)?,
        fields: FieldNames {
            text: args.text_field.clone(),
            id: args.id_field.clone(),
            date: args.date_field.clone(),
            title: args.title_field.clone(),
            collection: args.collection_field.clone(),
        },
        ..IngestOptions::default()
    };
    let (report, _) = ingest(
        context.store.as_ref(),
        path,
        &args.corpus,
        &options,
        args.replace,
    )
    .await?;
    Ok(report)
}

/// Reads `--workers`, by default the number of CPU cores, and `--partitions`, by default 1.
///
/// One partition is the default because it is exact Gibbs sampling and gives the same model on
/// every machine. On 2 busy cores, partitioned training was not faster in our measurements.
fn parallelism(args: &TrainArgs) -> Result<Parallelism> {
    let workers = args.workers.unwrap_or_else(cpu_cores);
    if workers == 0 {
        anyhow::bail!("--workers 0 is invalid: use at least 1 thread");
    }
    let partitions = args.partitions.unwrap_or(1);
    Ok(Parallelism {
        partitions,
        workers,
    })
}

/// Returns the number of CPU cores, or 1 when it is unknown. It is the default number of worker
/// threads.
fn cpu_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

fn train_request(corpus: &str, pipeline_id: Option<String>, args: &TrainArgs) -> Result<TrainJob> {
    let params = args.sampler.params(args.num_topics);
    params
        .validate()
        .map_err(|error| anyhow::anyhow!("invalid training settings: {error}"))?;
    Ok(TrainJob {
        corpus: corpus.to_owned(),
        pipeline_id,
        params,
        experiment: args.experiment.clone(),
        registered_model: Some(args.registered_model.clone()),
        parent_run_id: None,
        show_progress: true,
    })
}

/// Coherence of topics read from files, with the time the computation took.
#[derive(Debug, Serialize)]
struct FileCoherence {
    measure: String,
    top_n: usize,
    window_size: Option<usize>,
    overall: f64,
    per_topic: Vec<Option<f64>>,
    missing_words: Vec<(usize, String)>,
    /// Seconds spent computing coherence, excluding reading the files.
    seconds: f64,
}

fn score_files(command: &CoherenceCommand) -> Result<FileCoherence> {
    let topics_text = std::fs::read_to_string(&command.topics)
        .with_context(|| format!("cannot read the topics file {}", command.topics.display()))?;
    let topics: Vec<Vec<String>> = serde_json::from_str(&topics_text).with_context(|| {
        format!(
            "invalid topics file {}: expected a JSON list of word lists",
            command.topics.display()
        )
    })?;

    let texts_text = std::fs::read_to_string(&command.texts)
        .with_context(|| format!("cannot read the texts file {}", command.texts.display()))?;
    let mut texts: Vec<Vec<String>> = Vec::new();
    for (index, line) in texts_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        #[derive(serde::Deserialize)]
        struct Line {
            tokens: Vec<String>,
        }
        let parsed: Line = serde_json::from_str(line).with_context(|| {
            format!(
                "invalid line {} of {}: expected {{\"tokens\": [...]}}",
                index + 1,
                command.texts.display()
            )
        })?;
        texts.push(parsed.tokens);
    }

    let measure: Measure = command
        .measure
        .parse()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let settings = CoherenceSettings {
        measure,
        top_n: command.top_n,
        window_size: command.window,
    };
    let started = std::time::Instant::now();
    let score = coherence(&topics, &texts, &settings)?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(FileCoherence {
        measure: measure.to_string(),
        top_n: command.top_n,
        window_size: score.window_size,
        overall: score.overall,
        per_topic: score.per_topic,
        missing_words: score
            .missing_words
            .into_iter()
            .map(|missing| (missing.topic, missing.word))
            .collect(),
        seconds,
    })
}

/// Collects the texts of `topica infer`: each `--text`, then the `--input` file's texts.
fn infer_inputs(command: &InferCommand) -> Result<Vec<InputText>> {
    let mut texts: Vec<InputText> = command
        .texts
        .iter()
        .enumerate()
        .map(|(index, text)| InputText {
            id: format!("text-{}", index + 1),
            text: text.clone(),
        })
        .collect();
    let Some(path) = &command.input else {
        return Ok(texts);
    };
    let texts_before = texts.len();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let content = String::from_utf8(bytes).map_err(|error| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (invalid byte at offset {}): convert it to UTF-8 first",
            path.display(),
            error.utf8_error().valid_up_to()
        )
    })?;
    let is_jsonl = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("jsonl"));
    if !is_jsonl {
        let id = path.file_name().map_or_else(
            || "input".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        );
        texts.push(InputText { id, text: content });
        return Ok(texts);
    }
    for (index, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_number = index + 1;
        let row: serde_json::Value = serde_json::from_str(line).with_context(|| {
            format!("line {line_number} of {} is not valid JSON", path.display())
        })?;
        let Some(text) = row.get("text").and_then(serde_json::Value::as_str) else {
            anyhow::bail!(
                "line {line_number} of {} has no string field \"text\"",
                path.display()
            );
        };
        let id = match row.get("id") {
            Some(serde_json::Value::String(id)) => id.clone(),
            Some(id) if !id.is_null() => id.to_string(),
            _ => format!("line-{line_number}"),
        };
        texts.push(InputText {
            id,
            text: text.to_owned(),
        });
    }
    if texts.len() == texts_before {
        anyhow::bail!(
            "{} contains no JSON line with a \"text\" field: write one {{\"text\": ...}} object per line",
            path.display()
        );
    }
    Ok(texts)
}

/// Returns the run id behind a run id or a `models:/NAME@ALIAS` / `models:/NAME/VERSION` URI.
async fn resolve_run(context: &Context, reference: &str) -> Result<String> {
    if reference.starts_with("models:/") {
        Ok(context.registry.resolve(reference).await?.run_id)
    } else {
        Ok(reference.to_owned())
    }
}
