//! End-to-end tests of the `topica` binary on real corpora, with the plugins running in Wasm.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/chroniclitaly")
}

/// Runs `topica` with a data directory and returns its output.
fn topica(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_topica"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("the topica binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must succeed and parses its JSON output.
fn topica_json(data_dir: &Path, args: &[&str]) -> Value {
    let mut all_args = vec!["--format", "json"];
    all_args.extend_from_slice(args);
    let output = topica(data_dir, &all_args);
    assert!(
        output.status.success(),
        "topica {args:?} failed: {}",
        stderr(&output)
    );
    serde_json::from_str(&stdout(&output))
        .unwrap_or_else(|error| panic!("invalid JSON ({error}): {}", stdout(&output)))
}

/// Runs a command that must fail and returns its error output.
fn topica_error(data_dir: &Path, args: &[&str]) -> String {
    let output = topica(data_dir, args);
    assert!(
        !output.status.success(),
        "topica {args:?} succeeded unexpectedly: {}",
        stdout(&output)
    );
    stderr(&output)
}

fn corpus_names(data_dir: &Path) -> Vec<String> {
    topica_json(data_dir, &["corpora"])
        .as_array()
        .expect("corpora are a list")
        .iter()
        .map(|corpus| corpus["name"].as_str().unwrap().to_owned())
        .collect()
}

mod ingest {
    use super::*;

    #[test]
    fn sample_folder_becomes_collections() {
        let data = tempfile::tempdir().unwrap();
        let report = topica_json(
            data.path(),
            &[
                "ingest",
                samples().to_str().unwrap(),
                "--corpus",
                "chroniclitaly",
            ],
        );
        assert_eq!(report["documents_stored"], 277);
        assert_eq!(
            report["collections"],
            serde_json::json!(["CronacaSovversiva", "LItalia"])
        );
        assert_eq!(report["skipped"].as_array().unwrap().len(), 0);
        assert_eq!(report["date_issues"].as_array().unwrap().len(), 0);

        let corpora = topica_json(data.path(), &["corpora"]);
        assert_eq!(corpora[0]["name"], "chroniclitaly");
        assert_eq!(corpora[0]["document_count"], 277);
        assert_eq!(corpora[0]["first_date"], "1897-02-27");
        assert_eq!(corpora[0]["last_date"], "1919-11-24");
    }

    #[test]
    fn existing_name_needs_replace() {
        let data = tempfile::tempdir().unwrap();
        let input = tempfile::tempdir().unwrap();
        std::fs::write(input.path().join("1901-01-01_a.txt"), "first corpus text").unwrap();
        topica_json(
            data.path(),
            &[
                "ingest",
                input.path().to_str().unwrap(),
                "--corpus",
                "letters",
            ],
        );

        std::fs::write(input.path().join("1901-01-02_b.txt"), "second document").unwrap();
        let error = topica_error(
            data.path(),
            &[
                "ingest",
                input.path().to_str().unwrap(),
                "--corpus",
                "letters",
            ],
        );
        assert!(
            error.contains("corpus \"letters\" already exists"),
            "{error}"
        );
        assert!(error.contains("--replace"), "{error}");
        assert_eq!(
            topica_json(data.path(), &["corpora"])[0]["document_count"],
            1
        );

        let report = topica_json(
            data.path(),
            &[
                "ingest",
                input.path().to_str().unwrap(),
                "--corpus",
                "letters",
                "--replace",
            ],
        );
        assert_eq!(report["documents_stored"], 2);
        assert_eq!(
            topica_json(data.path(), &["corpora"])[0]["document_count"],
            2
        );
    }

    #[test]
    fn bad_files_are_reported_and_skipped() {
        let data = tempfile::tempdir().unwrap();
        let input = tempfile::tempdir().unwrap();
        let root = input.path();
        std::fs::create_dir(root.join("letters")).unwrap();
        std::fs::write(
            root.join("letters/1910-05-01_ok.txt"),
            "Una lettera da Napoli.",
        )
        .unwrap();
        std::fs::write(
            root.join("letters/2023-02-30_bad-date.txt"),
            "A date that never was.",
        )
        .unwrap();
        std::fs::write(root.join("letters/undated.txt"), "No date in this name.").unwrap();
        std::fs::write(
            root.join("letters/1910-05-02_latin1.txt"),
            b"citt\xe0 vecchia".as_slice(),
        )
        .unwrap();
        std::fs::write(root.join("letters/1910-05-03_empty.txt"), "  \n ").unwrap();
        std::fs::write(
            root.join("letters/1910-05-04_copy.txt"),
            "Una lettera da Napoli.",
        )
        .unwrap();
        std::fs::write(root.join("notes.md"), "not a text file").unwrap();

        let report = topica_json(
            data.path(),
            &["ingest", root.to_str().unwrap(), "--corpus", "letters"],
        );
        assert_eq!(report["documents_stored"], 3);

        let skipped = report["skipped"].as_array().unwrap();
        let reason_of = |item: &str| {
            skipped
                .iter()
                .find(|entry| entry["item"] == item)
                .map(|entry| entry["reason"].as_str().unwrap().to_owned())
        };
        assert!(
            reason_of("letters/1910-05-02_latin1.txt")
                .unwrap()
                .contains("not UTF-8")
        );
        assert!(reason_of("notes.md").unwrap().contains("not a .txt file"));

        let issues = report["date_issues"].as_array().unwrap();
        assert!(
            issues
                .iter()
                .any(|issue| issue["doc_id"] == "letters/2023-02-30_bad-date.txt"
                    && issue["problem"] == "impossible"
                    && issue["value"] == "2023-02-30")
        );
        assert!(
            issues
                .iter()
                .any(|issue| issue["doc_id"] == "letters/undated.txt"
                    && issue["problem"] == "missing")
        );
        assert_eq!(
            report["empty_documents"],
            serde_json::json!(["letters/1910-05-03_empty.txt"])
        );
        assert_eq!(
            report["duplicates"][0]["doc_id"],
            "letters/1910-05-04_copy.txt"
        );
        assert_eq!(
            report["duplicates"][0]["duplicate_of"],
            "letters/1910-05-01_ok.txt"
        );
    }

    #[test]
    fn zip_with_escaping_entry_is_contained() {
        use std::io::Write;
        let data = tempfile::tempdir().unwrap();
        let input = tempfile::tempdir().unwrap();
        let zip_path = input.path().join("upload.zip");
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        writer
            .start_file("corpus/Giornale/1905-03-04_ed-1.txt", options)
            .unwrap();
        writer
            .write_all("Il giornale del giorno.".as_bytes())
            .unwrap();
        writer.start_file("../escaped.txt", options).unwrap();
        writer.write_all(b"should never be written").unwrap();
        writer.start_file("/absolute.txt", options).unwrap();
        writer.write_all(b"should never be written").unwrap();
        writer.finish().unwrap();

        let report = topica_json(
            data.path(),
            &["ingest", zip_path.to_str().unwrap(), "--corpus", "zipped"],
        );
        assert_eq!(report["documents_stored"], 1);
        assert_eq!(report["collections"], serde_json::json!(["Giornale"]));
        let skipped = report["skipped"].as_array().unwrap();
        for name in ["../escaped.txt", "/absolute.txt"] {
            let entry = skipped
                .iter()
                .find(|entry| entry["item"] == name)
                .unwrap_or_else(|| panic!("{name} not reported"));
            assert!(
                entry["reason"].as_str().unwrap().contains("unsafe path"),
                "{entry}"
            );
        }
        assert!(!input.path().parent().unwrap().join("escaped.txt").exists());
        assert!(!Path::new("/absolute.txt").exists());
    }

    #[test]
    fn relative_data_dir_works() {
        let workdir = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        let output = Command::new(env!("CARGO_BIN_EXE_topica"))
            .current_dir(workdir.path())
            .args([
                "--format",
                "json",
                "ingest",
                folder.to_str().unwrap(),
                "--corpus",
                "litalia",
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(workdir.path().join("topica-data/topica.sqlite").exists());
    }

    #[test]
    fn empty_corpus_name_is_rejected() {
        let data = tempfile::tempdir().unwrap();
        let error = topica_error(
            data.path(),
            &["ingest", samples().to_str().unwrap(), "--corpus", " "],
        );
        assert!(error.contains("invalid corpus name"), "{error}");
        assert!(corpus_names(data.path()).is_empty());
    }

    #[test]
    fn corrupt_zip_creates_nothing() {
        let data = tempfile::tempdir().unwrap();
        let input = tempfile::tempdir().unwrap();
        let zip_path = input.path().join("broken.zip");
        std::fs::write(&zip_path, b"PK\x03\x04 this is not really a zip").unwrap();

        let error = topica_error(
            data.path(),
            &["ingest", zip_path.to_str().unwrap(), "--corpus", "broken"],
        );
        assert!(error.contains("corrupt zip archive"), "{error}");
        assert!(error.contains("broken.zip"), "{error}");
        assert!(corpus_names(data.path()).is_empty());
    }

    #[test]
    fn empty_input_creates_nothing() {
        let data = tempfile::tempdir().unwrap();
        let input = tempfile::tempdir().unwrap();
        let error = topica_error(
            data.path(),
            &[
                "ingest",
                input.path().to_str().unwrap(),
                "--corpus",
                "nothing",
            ],
        );
        assert!(error.contains("no documents found"), "{error}");
        assert!(corpus_names(data.path()).is_empty());
    }

    #[test]
    fn csv_without_text_column_creates_nothing() {
        let data = tempfile::tempdir().unwrap();
        let input = tempfile::tempdir().unwrap();
        let csv_path = input.path().join("speeches.csv");
        std::fs::write(&csv_path, "id,body,date\n1,hello world,1950-01-01\n").unwrap();

        let error = topica_error(
            data.path(),
            &["ingest", csv_path.to_str().unwrap(), "--corpus", "speeches"],
        );
        assert!(error.contains("no text column \"text\""), "{error}");
        assert!(error.contains("\"body\""), "{error}");
        assert!(corpus_names(data.path()).is_empty());

        let report = topica_json(
            data.path(),
            &[
                "ingest",
                csv_path.to_str().unwrap(),
                "--corpus",
                "speeches",
                "--text-field",
                "body",
            ],
        );
        assert_eq!(report["documents_stored"], 1);
    }

    #[test]
    fn jsonl_fields_are_configurable() {
        let data = tempfile::tempdir().unwrap();
        let input = tempfile::tempdir().unwrap();
        let path = input.path().join("rows.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"key\": \"a\", \"body\": \"first text\", \"year\": 1970, \"source\": \"UN\"}\n",
                "not json\n",
                "\n",
                "{\"key\": \"b\", \"body\": \"second text\", \"year\": \"2023-02-30\"}\n",
            ),
        )
        .unwrap();
        let report = topica_json(
            data.path(),
            &[
                "ingest",
                path.to_str().unwrap(),
                "--corpus",
                "rows",
                "--text-field",
                "body",
                "--id-field",
                "key",
                "--date-field",
                "year",
                "--collection-field",
                "source",
            ],
        );
        assert_eq!(report["documents_stored"], 2);
        assert_eq!(report["collections"], serde_json::json!(["UN"]));
        assert_eq!(report["skipped"][0]["item"], "line 2");
        assert_eq!(report["date_issues"][0]["doc_id"], "b");
        assert_eq!(report["date_issues"][0]["problem"], "impossible");
    }

    /// A kill at any moment leaves either no corpus or the whole corpus, never part of one.
    #[test]
    fn killed_ingest_leaves_no_half_corpus() {
        let data = tempfile::tempdir().unwrap();
        for delay_ms in [50, 150, 300] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_topica"))
                .arg("--data-dir")
                .arg(data.path())
                .args([
                    "ingest",
                    samples().to_str().unwrap(),
                    "--corpus",
                    "killed",
                    "--replace",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            child.kill().unwrap();
            child.wait().unwrap();

            let corpora = topica_json(data.path(), &["corpora"]);
            for corpus in corpora.as_array().unwrap() {
                assert_eq!(
                    corpus["document_count"], 277,
                    "after a kill at {delay_ms} ms: {corpus}"
                );
            }
        }
    }
}

mod workflow {
    use super::*;

    /// Ingests and preprocesses the L'Italia half of the sample into a fresh data directory.
    fn prepared() -> tempfile::TempDir {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        topica_json(
            data.path(),
            &["ingest", folder.to_str().unwrap(), "--corpus", "litalia"],
        );
        topica_json(data.path(), &["preprocess", "--corpus", "litalia"]);
        data
    }

    fn train(data: &Path, seed: &str) -> Value {
        topica_json(
            data,
            &[
                "train",
                "--corpus",
                "litalia",
                "--topics",
                "6",
                "--iterations",
                "60",
                "--seed",
                seed,
            ],
        )
    }

    fn model_json(data: &Path, run_id: &str) -> Value {
        let path = data
            .join("tracking/runs")
            .join(run_id)
            .join("artifacts/model/model.json");
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn preprocess_stores_tokens_and_dictionary() {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        topica_json(
            data.path(),
            &["ingest", folder.to_str().unwrap(), "--corpus", "litalia"],
        );
        let report = topica_json(data.path(), &["preprocess", "--corpus", "litalia"]);
        assert_eq!(report["documents"], 115);
        assert!(report["tokens"].as_u64().unwrap() > 100_000, "{report}");
        let vocabulary = report["vocabulary"].as_u64().unwrap();
        assert!(vocabulary > 1_000, "{report}");
        assert!(
            vocabulary < report["vocabulary_before_filter"].as_u64().unwrap(),
            "{report}"
        );
        assert_eq!(report["pipeline_id"].as_str().unwrap().len(), 32);

        let again = topica_json(data.path(), &["preprocess", "--corpus", "litalia"]);
        assert_eq!(
            again["pipeline_id"], report["pipeline_id"],
            "the same settings give the same pipeline id"
        );
    }

    #[test]
    fn same_seed_gives_identical_model() {
        let data = prepared();
        let first = train(data.path(), "11");
        let second = train(data.path(), "11");
        let other = train(data.path(), "12");
        assert_ne!(first["run_id"], second["run_id"]);
        assert_eq!(first["topics"], second["topics"]);

        let first_model = model_json(data.path(), first["run_id"].as_str().unwrap());
        let second_model = model_json(data.path(), second["run_id"].as_str().unwrap());
        let other_model = model_json(data.path(), other["run_id"].as_str().unwrap());
        assert_eq!(first_model["topic_word"], second_model["topic_word"]);
        assert_ne!(first_model["topic_word"], other_model["topic_word"]);
    }

    #[test]
    fn partitions_fix_model_for_any_workers() {
        let data = prepared();
        let settings = [
            "train",
            "--corpus",
            "litalia",
            "--topics",
            "6",
            "--iterations",
            "40",
            "--seed",
            "5",
            "--partitions",
            "3",
        ];
        let mut models = Vec::new();
        for workers in ["1", "2"] {
            let report = topica_json(
                data.path(),
                &[&settings[..], &["--workers", workers]].concat(),
            );
            let run_id = report["run_id"].as_str().unwrap();
            let run_path = data
                .path()
                .join("tracking/runs")
                .join(run_id)
                .join("run.json");
            let run: Value = serde_json::from_slice(&std::fs::read(run_path).unwrap()).unwrap();
            assert_eq!(run["params"]["partitions"], "3", "{workers} workers");
            assert_eq!(run["params"]["workers"], workers);
            models.push(model_json(data.path(), run_id));
        }
        assert_eq!(models[0]["topic_word"], models[1]["topic_word"]);
        assert_eq!(models[0]["alpha"], models[1]["alpha"]);
        assert_eq!(models[0]["log_likelihood"], models[1]["log_likelihood"]);
    }

    #[test]
    fn kpi_scores_the_tracked_model() {
        let data = prepared();
        let trained = train(data.path(), "3");
        let run_id = trained["run_id"].as_str().unwrap();
        assert_eq!(trained["topics"].as_array().unwrap().len(), 6);

        let report = topica_json(data.path(), &["kpi", "--run", run_id]);
        let scores = report["scores"].as_array().unwrap();
        let measures: Vec<&str> = scores
            .iter()
            .map(|score| score["measure"].as_str().unwrap())
            .collect();
        assert_eq!(measures, ["c_v", "u_mass", "c_npmi"]);
        for score in scores {
            let overall = score["overall"].as_f64().unwrap();
            assert!(overall.is_finite(), "{score}");
            assert_eq!(score["per_topic"].as_array().unwrap().len(), 6);
        }
        let c_v = scores[0]["overall"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c_v), "c_v {c_v}");

        let runs = topica_json(data.path(), &["runs"]);
        let run = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|run| run["run_id"] == run_id)
            .unwrap();
        assert_eq!(run["status"], "FINISHED");
        assert_eq!(run["metrics"]["coherence_c_v"].as_f64().unwrap(), c_v);
    }

    /// Asserts that `topics` contains `expected_len` finite probabilities summing to 1.
    fn assert_distribution(topics: &Value, expected_len: usize) -> Vec<f64> {
        let values: Vec<f64> = topics
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_f64().unwrap())
            .collect();
        assert_eq!(values.len(), expected_len);
        assert!(
            values.iter().all(|p| p.is_finite() && *p > 0.0),
            "{values:?}"
        );
        let sum: f64 = values.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6, "sum {sum}");
        values
    }

    #[test]
    fn infer_folds_new_texts_into_the_model() {
        let data = prepared();
        let trained = train(data.path(), "4");
        let run_id = trained["run_id"].as_str().unwrap();

        // A text made of topic 2's top words, without the phrases the chain cannot rebuild.
        let words: Vec<&str> = trained["topics"][2]["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| pair[0].as_str().unwrap())
            .filter(|word| !word.contains('_'))
            .take(6)
            .collect();
        let on_topic = words.join(" ");
        let args = [
            "infer",
            "--run",
            run_id,
            "--text",
            &on_topic,
            "--text",
            "xyzzy qwertz plugh",
            "--text",
            "",
            "--seed",
            "9",
        ];
        let report = topica_json(data.path(), &args);
        assert_eq!(report["skipped_steps"], serde_json::json!(["phrases"]));
        let documents = report["documents"].as_array().unwrap();
        assert_eq!(documents.len(), 3);

        let on_topic = &documents[0];
        assert_eq!(on_topic["tokens"], words.len());
        assert_eq!(on_topic["known_tokens"], words.len());
        assert_eq!(on_topic["oov_share"], 0.0);
        let theta = assert_distribution(&on_topic["topics"], 6);
        let best = (0..6)
            .max_by(|&a, &b| theta[a].total_cmp(&theta[b]))
            .unwrap();
        assert_eq!(best, 2, "{theta:?}");

        // Words outside the vocabulary and an empty text both get the normalised prior.
        let alpha: Vec<f64> = model_json(data.path(), run_id)["alpha"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_f64().unwrap())
            .collect();
        let alpha_sum: f64 = alpha.iter().sum();
        assert_eq!(
            documents[1]["oov_words"],
            serde_json::json!(["xyzzy", "qwertz", "plugh"])
        );
        for (document, oov_share) in [
            (&documents[1], serde_json::json!(1.0)),
            (&documents[2], Value::Null),
        ] {
            assert_eq!(document["known_tokens"], 0);
            assert_eq!(document["oov_share"], oov_share);
            assert_eq!(document["prior_only"], true);
            let theta = assert_distribution(&document["topics"], 6);
            for (p, a) in theta.iter().zip(&alpha) {
                assert!((p - a / alpha_sum).abs() < 1e-12, "{theta:?} vs {alpha:?}");
            }
        }

        // The seed fixes the result; JSON lines carry their ids.
        assert_eq!(topica_json(data.path(), &args), report);
        let input = data.path().join("texts.jsonl");
        let lines = format!(
            "{}\n{{\"id\": 17, \"text\": \"{on_topic}\"}}\n",
            r#"{"text": "xyzzy"}"#,
            on_topic = words.join(" ")
        );
        std::fs::write(&input, lines).unwrap();
        let from_file = topica_json(
            data.path(),
            &["infer", "--run", run_id, "--input", input.to_str().unwrap()],
        );
        let ids: Vec<&str> = from_file["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|document| document["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["line-1", "17"]);
    }

    #[test]
    fn infer_names_bad_input() {
        let data = prepared();
        let trained = train(data.path(), "4");
        let run_id = trained["run_id"].as_str().unwrap();

        let error = topica_error(data.path(), &["infer", "--run", run_id]);
        assert!(error.contains("no texts"), "{error}");
        let error = topica_error(
            data.path(),
            &[
                "infer",
                "--run",
                run_id,
                "--text",
                "guerra",
                "--iterations",
                "0",
            ],
        );
        assert!(error.contains("iterations 0"), "{error}");

        let latin1 = data.path().join("latin1.txt");
        std::fs::write(&latin1, b"citt\xe0 e governo").unwrap();
        let error = topica_error(
            data.path(),
            &[
                "infer",
                "--run",
                run_id,
                "--input",
                latin1.to_str().unwrap(),
            ],
        );
        assert!(error.contains("latin1.txt is not UTF-8"), "{error}");

        let no_text = data.path().join("bad.jsonl");
        std::fs::write(&no_text, "{\"text\": \"guerra\"}\n{\"body\": \"pace\"}\n").unwrap();
        let error = topica_error(
            data.path(),
            &[
                "infer",
                "--run",
                run_id,
                "--input",
                no_text.to_str().unwrap(),
            ],
        );
        assert!(
            error.contains("line 2 of") && error.contains("\"text\""),
            "{error}"
        );

        let empty = data.path().join("empty.jsonl");
        std::fs::write(&empty, "\n").unwrap();
        let error = topica_error(
            data.path(),
            &["infer", "--run", run_id, "--input", empty.to_str().unwrap()],
        );
        assert!(
            error.contains("empty.jsonl contains no JSON line"),
            "{error}"
        );

        let error = topica_error(
            data.path(),
            &["infer", "--run", "0123456789abcdef", "--text", "guerra"],
        );
        assert!(error.contains("0123456789abcdef"), "{error}");
    }

    #[test]
    fn invalid_settings_stop_before_any_work() {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        let error = topica_error(
            data.path(),
            &[
                "pipeline",
                folder.to_str().unwrap(),
                "--corpus",
                "litalia",
                "--topics",
                "0",
            ],
        );
        assert!(error.contains("num_topics = 0"), "{error}");
        assert!(corpus_names(data.path()).is_empty());

        let data = prepared();
        let error = topica_error(
            data.path(),
            &[
                "sweep",
                "--corpus",
                "litalia",
                "--topics",
                "3..4",
                "--iterations",
                "0",
            ],
        );
        assert!(error.contains("iterations = 0"), "{error}");
        let runs = topica_json(data.path(), &["runs"]);
        assert_eq!(runs, serde_json::json!([]));
    }

    #[test]
    fn unknown_model_format_is_refused() {
        let data = prepared();
        let trained = train(data.path(), "5");
        let run_id = trained["run_id"].as_str().unwrap();
        let path = data
            .path()
            .join("tracking/runs")
            .join(run_id)
            .join("artifacts/model/model.json");
        let mut model: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        model["format_version"] = serde_json::json!(99);
        std::fs::write(&path, serde_json::to_vec(&model).unwrap()).unwrap();

        let error = topica_error(data.path(), &["kpi", "--run", run_id]);
        assert!(error.contains("99"), "{error}");
        assert!(error.contains('1'), "{error}");
    }

    #[test]
    fn zero_topics_is_rejected_and_many_topics_warn() {
        let data = prepared();
        let error = topica_error(
            data.path(),
            &["train", "--corpus", "litalia", "--topics", "0"],
        );
        assert!(error.contains("num_topics"), "{error}");

        let report = topica_json(
            data.path(),
            &[
                "train",
                "--corpus",
                "litalia",
                "--topics",
                "130",
                "--iterations",
                "5",
            ],
        );
        assert!(
            report["warnings"][0]
                .as_str()
                .unwrap()
                .contains("130 topics for 115 documents"),
            "{report}"
        );
    }

    #[test]
    fn export_matches_training_tokens() {
        let data = prepared();
        let trained = train(data.path(), "9");
        let run_id = trained["run_id"].as_str().unwrap();
        let output = topica(data.path(), &["export", "tokens", "--run", run_id]);
        assert!(output.status.success(), "{}", stderr(&output));
        let lines: Vec<Value> = stdout(&output)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len() as u64, trained["documents"].as_u64().unwrap());
        let tokens: u64 = lines
            .iter()
            .map(|line| line["tokens"].as_array().unwrap().len() as u64)
            .sum();
        assert_eq!(tokens, trained["tokens"].as_u64().unwrap());
        assert!(lines[0]["id"].as_str().unwrap().ends_with(".txt"));
    }

    #[test]
    fn filters_that_empty_the_vocabulary_fail() {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        topica_json(
            data.path(),
            &["ingest", folder.to_str().unwrap(), "--corpus", "litalia"],
        );
        let config = data.path().join("pipeline.toml");
        std::fs::write(&config, "[dictionary]\nno_below = 1000\nno_above = 0.5\n").unwrap();

        let error = topica_error(
            data.path(),
            &[
                "preprocess",
                "--corpus",
                "litalia",
                "--config",
                config.to_str().unwrap(),
            ],
        );
        assert!(error.contains("removed all"), "{error}");
        assert!(error.contains("no_below=1000"), "{error}");
        assert!(error.contains("no_above=0.5"), "{error}");
    }

    #[test]
    fn pipeline_prints_topics_and_coherence() {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("CronacaSovversiva");
        let summary = topica_json(
            data.path(),
            &[
                "pipeline",
                folder.to_str().unwrap(),
                "--corpus",
                "cronaca",
                "--topics",
                "5",
                "--iterations",
                "40",
                "--seed",
                "1",
            ],
        );
        let run_id = summary["run_id"].as_str().unwrap();
        assert_eq!(summary["train"]["run_id"], run_id);
        assert_eq!(summary["train"]["topics"].as_array().unwrap().len(), 5);
        assert_eq!(summary["kpi"]["scores"][0]["measure"], "c_v");
        assert_eq!(
            summary["kpi"]["scores"][0]["per_topic"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        let first_topic_words = summary["train"]["topics"][0]["words"].as_array().unwrap();
        assert_eq!(first_topic_words.len(), 10);
    }
}

mod sweep_and_scoring {
    use super::*;

    #[test]
    fn sweep_tracks_children_under_parent() {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        topica_json(
            data.path(),
            &["ingest", folder.to_str().unwrap(), "--corpus", "litalia"],
        );
        topica_json(data.path(), &["preprocess", "--corpus", "litalia"]);

        let report = topica_json(
            data.path(),
            &[
                "sweep",
                "--corpus",
                "litalia",
                "--topics",
                "3..5",
                "--iterations",
                "30",
                "--seed",
                "2",
            ],
        );
        let models = report["models"].as_array().unwrap();
        let ks: Vec<u64> = models
            .iter()
            .map(|model| model["num_topics"].as_u64().unwrap())
            .collect();
        assert_eq!(ks, [3, 4, 5]);
        for model in models {
            let c_v = model["c_v"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&c_v), "{model}");
            assert_eq!(
                model["topics"].as_array().unwrap().len() as u64,
                model["num_topics"].as_u64().unwrap()
            );
        }

        let parent = report["parent_run_id"].as_str().unwrap();
        let runs = topica_json(data.path(), &["runs"]);
        let children: Vec<&Value> = runs
            .as_array()
            .unwrap()
            .iter()
            .filter(|run| run["tags"]["mlflow.parentRunId"] == parent)
            .collect();
        assert_eq!(children.len(), 3);
        let parent_run = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|run| run["run_id"] == parent)
            .unwrap();
        assert_eq!(parent_run["status"], "FINISHED");
    }

    #[test]
    fn coherence_command_scores_files() {
        let data = tempfile::tempdir().unwrap();
        let topics = data.path().join("topics.json");
        let texts = data.path().join("texts.jsonl");
        std::fs::write(
            &topics,
            r#"[["pane", "vino"], ["guerra", "pace", "neverseen"]]"#,
        )
        .unwrap();
        let lines = [
            r#"{"id": "a", "tokens": ["pane", "vino", "casa"]}"#,
            r#"{"id": "b", "tokens": ["guerra", "pace", "pane"]}"#,
            r#"{"id": "c", "tokens": ["vino", "pane"]}"#,
        ];
        std::fs::write(&texts, lines.join("\n")).unwrap();

        let report = topica_json(
            data.path(),
            &[
                "coherence",
                "--topics",
                topics.to_str().unwrap(),
                "--texts",
                texts.to_str().unwrap(),
                "--measure",
                "u_mass",
            ],
        );
        assert_eq!(report["measure"], "u_mass");
        assert!(report["overall"].as_f64().unwrap().is_finite());
        assert_eq!(report["per_topic"].as_array().unwrap().len(), 2);
        assert_eq!(
            report["missing_words"],
            serde_json::json!([[1, "neverseen"]])
        );

        let error = topica_error(
            data.path(),
            &[
                "coherence",
                "--topics",
                topics.to_str().unwrap(),
                "--texts",
                "missing.jsonl",
            ],
        );
        assert!(error.contains("cannot read the texts file"), "{error}");
    }
}

mod deployment {
    use super::*;

    fn required_env(name: &str, start: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: start the test server with eval \"$({start} start)\"")
        })
    }

    /// The whole pipeline with corpora in MongoDB and runs in MLflow, then scoring the model
    /// loaded back through its registered alias.
    #[test]
    fn pipeline_runs_on_mongodb_and_mlflow() {
        let mongodb = required_env("TOPICA_TEST_MONGODB_URI", "scripts/mongodb-test-server");
        let mlflow = required_env("TOPICA_TEST_MLFLOW_URI", "scripts/mlflow-test-server");
        let data = tempfile::tempdir().unwrap();
        let database = format!("topica_cli_{}", std::process::id());
        let model_name = format!("cli-test-{}", std::process::id());
        let remote = |args: &[&str]| -> Vec<String> {
            let mut all: Vec<String> = [
                "--mongodb-uri",
                &mongodb,
                "--mongodb-database",
                &database,
                "--mlflow-uri",
                &mlflow,
            ]
            .iter()
            .map(|arg| arg.to_string())
            .collect();
            all.extend(args.iter().map(|arg| arg.to_string()));
            all
        };
        let run = |args: &[&str]| {
            let args = remote(args);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            topica_json(data.path(), &args)
        };

        let folder = samples().join("LItalia");
        let summary = run(&[
            "pipeline",
            folder.to_str().unwrap(),
            "--corpus",
            "litalia",
            "--replace",
            "--topics",
            "4",
            "--iterations",
            "30",
            "--seed",
            "8",
            "--registered-model",
            &model_name,
        ]);
        let run_id = summary["run_id"].as_str().unwrap().to_owned();
        assert_eq!(summary["train"]["model_version"], "1");
        assert!(
            !data.path().join("topica.sqlite").exists() || corpus_names(data.path()).is_empty()
        );

        let corpora = run(&["corpora"]);
        assert_eq!(corpora[0]["name"], "litalia");
        assert_eq!(corpora[0]["document_count"], 115);

        let runs = run(&["runs"]);
        let tracked = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|tracked| tracked["run_id"] == run_id.as_str())
            .unwrap();
        assert_eq!(tracked["status"], "FINISHED");
        assert_eq!(tracked["params"]["num_topics"], "4");
        assert!(
            tracked["metrics"]["coherence_c_v"]
                .as_f64()
                .unwrap()
                .is_finite()
        );

        run(&["model", "promote", "--name", &model_name, "--version", "1"]);
        let report = run(&[
            "kpi",
            "--run",
            &format!("models:/{model_name}@champion"),
            "--top-n",
            "10",
        ]);
        assert_eq!(report["run_id"], run_id.as_str());
        assert_eq!(report["top_n"], 10);
    }
}

mod sandbox {
    use super::*;

    /// Writes a pipeline file whose second step is the misbehaving test plugin.
    fn misbehaving_pipeline(dir: &Path, behaviour: &str, deadline_seconds: u32) -> PathBuf {
        let plugin = Path::new(topica_plugin_host::PLUGIN_DIR).join("misbehave.wasm");
        let config = dir.join(format!("{behaviour}.toml"));
        let text = format!(
            "[[steps]]\nplugin = \"tokenizer\"\n\n[[steps]]\nplugin = {plugin:?}\nsettings = {{ behaviour = \"{behaviour}\" }}\n\n[limits]\ndeadline_seconds = {deadline_seconds}\nmemory_mib = 64\n",
            plugin = plugin.to_str().unwrap()
        );
        std::fs::write(&config, text).unwrap();
        config
    }

    #[test]
    fn looping_plugin_times_out_and_stores_nothing() {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        topica_json(
            data.path(),
            &["ingest", folder.to_str().unwrap(), "--corpus", "litalia"],
        );
        let config = misbehaving_pipeline(data.path(), "loop", 1);

        let started = std::time::Instant::now();
        let error = topica_error(
            data.path(),
            &[
                "preprocess",
                "--corpus",
                "litalia",
                "--config",
                config.to_str().unwrap(),
            ],
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "took {:?}",
            started.elapsed()
        );
        assert!(error.contains("misbehave"), "{error}");
        assert!(error.contains("timed out"), "{error}");

        let error = topica_error(
            data.path(),
            &["train", "--corpus", "litalia", "--topics", "3"],
        );
        assert!(error.contains("has not been preprocessed"), "{error}");
        assert_eq!(
            topica_json(data.path(), &["corpora"])[0]["document_count"],
            115
        );
    }

    #[test]
    fn memory_hungry_plugin_is_stopped() {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        topica_json(
            data.path(),
            &["ingest", folder.to_str().unwrap(), "--corpus", "litalia"],
        );
        let config = misbehaving_pipeline(data.path(), "allocate", 20);

        let error = topica_error(
            data.path(),
            &[
                "preprocess",
                "--corpus",
                "litalia",
                "--config",
                config.to_str().unwrap(),
            ],
        );
        assert!(error.contains("misbehave"), "{error}");
        assert!(error.contains("memory"), "{error}");
    }

    #[test]
    fn unknown_pipeline_key_is_rejected() {
        let data = tempfile::tempdir().unwrap();
        let folder = samples().join("LItalia");
        topica_json(
            data.path(),
            &["ingest", folder.to_str().unwrap(), "--corpus", "litalia"],
        );
        let config = data.path().join("typo.toml");
        std::fs::write(&config, "[dictionary]\nno_bellow = 3\n").unwrap();

        let error = topica_error(
            data.path(),
            &[
                "preprocess",
                "--corpus",
                "litalia",
                "--config",
                config.to_str().unwrap(),
            ],
        );
        assert!(error.contains("typo.toml"), "{error}");
        assert!(error.contains("no_bellow"), "{error}");
    }
}
