//! `topica export tokens`: the token lists a run used, as JSONL.

use std::io::Write;

use crate::context::Context;
use anyhow::Context as _;

use crate::kpi::KpiError;
use crate::train::load_training_corpus;

/// Writes one `{"id": …, "tokens": […]}` line per document.
///
/// By default these are exactly the lists training saw: dictionary-filtered, with documents left
/// empty omitted. With `unfiltered`, every document's lists before dictionary filtering, which is
/// what c_v and c_npmi slide their windows over.
pub async fn export_tokens(
    context: &Context,
    run_id: &str,
    unfiltered: bool,
    output: &mut dyn Write,
) -> anyhow::Result<usize> {
    let run = context.tracker.get_run(run_id).await?;
    let param = |name: &'static str| {
        run.params.get(name).cloned().ok_or(KpiError::MissingParam {
            run_id: run_id.to_owned(),
            param: name,
        })
    };
    let corpus = param("corpus")?;
    let pipeline_id = param("pipeline_id")?;
    let training = load_training_corpus(context, &corpus, Some(&pipeline_id)).await?;

    let mut lines = 0;
    if unfiltered {
        for (id, tokens) in training.all_doc_ids.iter().zip(&training.all_texts) {
            let line = serde_json::json!({ "id": id, "tokens": tokens });
            writeln!(output, "{line}").context("cannot write the token export")?;
            lines += 1;
        }
    } else {
        for (id, tokens) in training.doc_ids.iter().zip(training.texts()) {
            let kept: Vec<&String> = tokens
                .iter()
                .filter(|token| training.dictionary.token2id(token).is_some())
                .collect();
            let line = serde_json::json!({ "id": id, "tokens": kept });
            writeln!(output, "{line}").context("cannot write the token export")?;
            lines += 1;
        }
    }
    output.flush().context("cannot write the token export")?;
    Ok(lines)
}
