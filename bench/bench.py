"""Benchmark Topica against gensim 4.4 and tomotopy 0.14 on the same token lists.

bench/run builds Topica, prepares the Python environment and calls this script. The script
ingests and preprocesses each corpus with Topica and exports the token lists. It trains every
model on those lists and scores every model with `topica coherence`. It also times c_v, the K
sweep and preprocessing, then writes the raw results as JSON and the tables as Markdown.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import report
import targets
from measure import Measured, run_measured
from targets import topica_label
from topica_cli import Topica

log = logging.getLogger("bench")

BENCH_DIR = Path(__file__).resolve().parent
WORKER = BENCH_DIR / "anchor_worker.py"
PIPELINE_FILE = BENCH_DIR / "pipeline.toml"

# Path of each corpus inside the corpora folder.
CORPUS_SOURCES = {
    "lee": "lee/lee_background.jsonl",
    "state_union": "state_union",
    "ungd_paragraphs": "ungd_paragraphs/ungd_paragraphs.jsonl",
}
PREPROCESS_CORPUS = "ungd_paragraphs"
SWEEP_CORPUS = "state_union"
STOPWORDS_FILE = "stopwords/english.txt"

TRAIN_ITERATIONS = targets.DEFAULT_TOPICA_ITERATIONS
ANCHOR_WORKERS = 2
# Sweeps of the Wasm against native comparison.
WASM_NATIVE_ITERATIONS = 200
# Top words per topic saved for every model. c_v is scored on the top 10 and the top 20.
SAVED_TOP_WORDS = 20
# Top words for u_mass and c_npmi, the default of gensim's CoherenceModel and of `topica kpi`.
OTHER_MEASURES_TOP_N = 20


@dataclasses.dataclass(frozen=True)
class Grid:
    """Corpora, numbers of topics, seeds and settings of one benchmark mode."""

    name: str
    corpora: tuple[str, ...]
    topics: tuple[int, ...]
    # Seeds for Topica and tomotopy per corpus. gensim uses the first seed only.
    seeds: dict[str, tuple[int, ...]]
    gensim_passes: tuple[int, ...]
    sweep_topics: tuple[int, int]
    # Sweep counts Topica trains with, besides TRAIN_ITERATIONS: the training target takes the
    # fewest that reach tomotopy's c_v@10.
    topica_iterations: tuple[int, ...]
    # Sweep counts for the `topica sweep` runs.
    sweep_iterations: tuple[int, ...]


QUICK = Grid(
    name="quick",
    corpora=("lee", "state_union"),
    topics=(10, 20),
    seeds={"lee": (1,), "state_union": (1,)},
    gensim_passes=(1,),
    sweep_topics=(3, 19),
    topica_iterations=(200, TRAIN_ITERATIONS),
    sweep_iterations=(200,),
)
FULL = Grid(
    name="full",
    corpora=("lee", "state_union", "ungd_paragraphs"),
    topics=(10, 20, 50),
    seeds={"lee": (1,), "state_union": (1, 2, 3), "ungd_paragraphs": (1, 2, 3)},
    gensim_passes=(1, 10),
    sweep_topics=(3, 19),
    topica_iterations=(200, 500, TRAIN_ITERATIONS),
    sweep_iterations=(200, TRAIN_ITERATIONS),
)


@dataclasses.dataclass
class PreparedCorpus:
    """A corpus stored, preprocessed and exported by Topica."""

    name: str
    pipeline_id: str
    documents: int
    text_bytes: int
    filtered_tokens: Path | None
    unfiltered_tokens: Path | None


class Bench:
    """One benchmark run: its Topica data directory, work files and collected results."""

    def __init__(self, args: argparse.Namespace, grid: Grid):
        self.args = args
        self.grid = grid
        self.work_dir: Path = args.work_dir
        self.topica = Topica(args.topica, self.work_dir / "topica-data")
        self.results: dict = {}
        self.results_path = self.work_dir / "results.json"

    def save(self) -> None:
        """Write the results so far, so that a failed run still leaves its measurements."""
        self.results_path.write_text(json.dumps(self.results, indent=2), encoding="utf-8")

    def section(self, name: str, function, *args) -> None:
        """Run one section, store its result or its error under `name`, with the load average."""
        log.info("section %s: started", name)
        load_before = os.getloadavg()
        try:
            value = function(*args)
            error = None
        # Sections are independent, so any failure is recorded in the results and the run goes on.
        except Exception as exc:  # noqa: BLE001
            log.exception("section %s failed", name)
            value, error = None, f"{type(exc).__name__}: {exc}"
        self.results[name] = {
            "result": value,
            "error": error,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        }
        self.save()
        log.info("section %s: finished", name)

    def worker(self, *args: object) -> tuple[dict, Measured]:
        """Run one anchor_worker.py job in a new Python process and parse its JSON output."""
        measured = run_measured([sys.executable, WORKER, *[str(arg) for arg in args]])
        return measured.json(), measured

    # Preparation ------------------------------------------------------------------------------

    def prepare_corpus(self, name: str, export: bool) -> dict:
        source = self.args.corpora / CORPUS_SOURCES[name]
        ingested = self.topica.ingest(source, name)
        preprocessed = self.topica.preprocess(name, PIPELINE_FILE)
        preprocess_report = preprocessed.json()
        documents = ingested.json()["documents_stored"]
        prepared = PreparedCorpus(
            name=name,
            pipeline_id=preprocess_report["pipeline_id"],
            documents=documents,
            text_bytes=corpus_text_bytes(source),
            filtered_tokens=None,
            unfiltered_tokens=None,
        )
        record = {
            "source": str(source),
            "documents": documents,
            "text_bytes": prepared.text_bytes,
            "ingest": process_summary(ingested),
            "preprocess": process_summary(preprocessed),
            "preprocess_report": {
                key: preprocess_report[key]
                for key in ("pipeline_id", "documents", "tokens", "vocabulary_before_filter", "vocabulary", "timings")
            },
        }
        if export:
            # `export tokens` needs a run; one iteration is enough because only its token lists are used.
            run_id = self.topica.train(name, prepared.pipeline_id, topics=10, seed=0, iterations=1).json()["run_id"]
            tokens_dir = self.work_dir / "tokens"
            tokens_dir.mkdir(parents=True, exist_ok=True)
            prepared.filtered_tokens = tokens_dir / f"{name}.filtered.jsonl"
            prepared.unfiltered_tokens = tokens_dir / f"{name}.unfiltered.jsonl"
            self.topica.export_tokens(run_id, prepared.filtered_tokens, unfiltered=False)
            self.topica.export_tokens(run_id, prepared.unfiltered_tokens, unfiltered=True)
            record["filtered"] = token_file_stats(prepared.filtered_tokens)
            record["unfiltered"] = token_file_stats(prepared.unfiltered_tokens)
        self.prepared[name] = prepared
        return record

    def prepare_all(self) -> dict:
        self.prepared: dict[str, PreparedCorpus] = {}
        names = list(self.grid.corpora)
        if PREPROCESS_CORPUS not in names:
            names.append(PREPROCESS_CORPUS)
        records = {}
        for name in names:
            log.info("preparing corpus %s", name)
            records[name] = self.prepare_corpus(name, export=name in self.grid.corpora)
        return records

    # Training and scoring ---------------------------------------------------------------------

    def score(self, topics: list[list[str]], corpus: PreparedCorpus, label: str) -> dict:
        """Score topics with `topica coherence`: c_v on the unfiltered texts, u_mass on the
        filtered ones, c_npmi on the unfiltered ones."""
        topics_file = self.work_dir / "topics" / f"{label}.json"
        topics_file.parent.mkdir(parents=True, exist_ok=True)
        topics_file.write_text(json.dumps(topics), encoding="utf-8")
        requests = {
            "c_v@10": ("c_v", 10, corpus.unfiltered_tokens),
            "c_v@20": ("c_v", 20, corpus.unfiltered_tokens),
            f"u_mass@{OTHER_MEASURES_TOP_N}": ("u_mass", OTHER_MEASURES_TOP_N, corpus.filtered_tokens),
            f"c_npmi@{OTHER_MEASURES_TOP_N}": ("c_npmi", OTHER_MEASURES_TOP_N, corpus.unfiltered_tokens),
        }
        scores = {"topics_file": str(topics_file)}
        for key, (measure, top_n, texts) in requests.items():
            measured = self.topica.coherence(topics_file, texts, measure, top_n)
            output = measured.json()
            scores[key] = output["overall"]
            scores[f"{key} seconds"] = output["seconds"]
            scores[f"{key} process seconds"] = measured.wall_seconds
            if output.get("missing_words"):
                scores[f"{key} missing words"] = output["missing_words"]
        return scores

    def train_topica(self, corpus: PreparedCorpus, topics: int, seed: int, iterations: int) -> dict:
        measured = self.topica.train(corpus.name, corpus.pipeline_id, topics, seed, iterations)
        output = measured.json()
        return {
            "model": topica_label(iterations),
            "iterations": iterations,
            "seed": seed,
            "run_id": output["run_id"],
            "train_seconds": output["seconds"],
            # Topica reports no CPU time of its own, so this is the whole process's.
            "train_cpu_seconds": measured.cpu_seconds,
            "train_cpu_is_process": True,
            "warnings": output["warnings"],
            "empty_topics": output["empty_topics"],
            **process_summary(measured),
            "top_words": self.topica.model_top_words(output["run_id"], SAVED_TOP_WORDS),
        }

    def train_anchor(self, corpus: PreparedCorpus, model: str, topics: int, seed: int, passes: int) -> dict:
        output, measured = self.worker(
            "train",
            "--model", model,
            "--texts", corpus.filtered_tokens,
            "--topics", topics,
            "--seed", seed,
            "--passes", passes,
            "--iterations", TRAIN_ITERATIONS,
            "--workers", ANCHOR_WORKERS,
            "--top-n", SAVED_TOP_WORDS,
        )  # fmt: skip
        label = "tomotopy" if model == "tomotopy" else f"gensim {model} passes={passes}"
        return {
            "model": label,
            "seed": seed,
            "passes": passes if model != "tomotopy" else None,
            "train_seconds": output["train_seconds"],
            "train_cpu_seconds": output["train_cpu_seconds"],
            "train_cpu_is_process": False,
            "vocabulary": output["vocabulary"],
            **process_summary(measured),
            "top_words": output["topics"],
        }

    def train_grid(self) -> list[dict]:
        rows = []
        for name in self.grid.corpora:
            corpus = self.prepared[name]
            seeds = self.grid.seeds[name]
            for topics in self.grid.topics:
                jobs = []
                for passes in self.grid.gensim_passes:
                    jobs.append(("LdaModel", seeds[0], passes))
                    jobs.append(("LdaMulticore", seeds[0], passes))
                jobs += [("tomotopy", seed, 0) for seed in seeds]
                # For Topica, the third field is the number of sweeps.
                jobs += [
                    ("Topica", seed, iterations) for iterations in self.grid.topica_iterations for seed in seeds
                ]
                for model, seed, passes in jobs:
                    log.info("training %s on %s, K=%d, seed %d, passes %d", model, name, topics, seed, passes)
                    if model == "Topica":
                        row = self.train_topica(corpus, topics, seed, passes)
                    else:
                        row = self.train_anchor(corpus, model, topics, seed, passes)
                    label = f"{name}-k{topics}-{row['model']}-seed{seed}".replace(" ", "_").replace("=", "")
                    row.update({"corpus": name, "topics": topics})
                    row["scores"] = self.score(row["top_words"], corpus, label)
                    log.info(
                        "  train %.2f s, c_v@10 %s, peak RSS %.0f MiB",
                        row["train_seconds"], row["scores"]["c_v@10"], row["max_rss_mib"],
                    )  # fmt: skip
                    rows.append(row)
                    self.results.setdefault("training_partial", []).append(row)
                    self.save()
        self.results.pop("training_partial", None)
        return rows

    # Coherence timing -------------------------------------------------------------------------

    def coherence_timing(self) -> list[dict]:
        """Time gensim's c_v on the topics of each corpus and K's first Topica model, against the
        `seconds` that `topica coherence` reported for the same topics."""
        rows = []
        training = self.results["training"]["result"] or []
        for name in self.grid.corpora:
            corpus = self.prepared[name]
            first_seed = self.grid.seeds[name][0]
            for topics in self.grid.topics:
                model = next(
                    row for row in training
                    if row["corpus"] == name and row["topics"] == topics and row["model"] == "Topica"
                    and row["seed"] == first_seed
                )  # fmt: skip
                for top_n in (10, 20):
                    log.info("gensim c_v on %s, K=%d, top %d", name, topics, top_n)
                    output, measured = self.worker(
                        "coherence",
                        "--topics-file", model["scores"]["topics_file"],
                        "--texts", corpus.unfiltered_tokens,
                        "--measure", "c_v",
                        "--top-n", top_n,
                    )  # fmt: skip
                    key = f"c_v@{top_n}"
                    rows.append(
                        {
                            "corpus": name,
                            "topics": topics,
                            "top_n": top_n,
                            "topica_value": model["scores"][key],
                            "topica_seconds": model["scores"][f"{key} seconds"],
                            "topica_process_seconds": model["scores"][f"{key} process seconds"],
                            "gensim_value": output["overall"],
                            "gensim_seconds": output["seconds"],
                            "gensim_dictionary_seconds": output["dictionary_seconds"],
                            "gensim_process_seconds": measured.wall_seconds,
                            "load_average": measured.load_average,
                        }
                    )
        return rows

    # Sweep ------------------------------------------------------------------------------------

    def sweep(self) -> dict:
        corpus = self.prepared[SWEEP_CORPUS]
        k_min, k_max = self.grid.sweep_topics
        seed = self.grid.seeds[SWEEP_CORPUS][0]

        log.info("gensim sweep K=%d..%d on %s", k_min, k_max, SWEEP_CORPUS)
        gensim_output, gensim_measured = self.worker(
            "sweep",
            "--texts", corpus.filtered_tokens,
            "--unfiltered", corpus.unfiltered_tokens,
            "--k-min", k_min,
            "--k-max", k_max,
            "--seed", seed,
        )  # fmt: skip
        result = {
            "corpus": SWEEP_CORPUS,
            "topics": [k_min, k_max],
            "gensim": {**gensim_output, **process_summary(gensim_measured)},
        }

        result["topica"] = []
        for iterations in self.grid.sweep_iterations:
            log.info("topica sweep K=%d..%d on %s, %d sweeps", k_min, k_max, SWEEP_CORPUS, iterations)
            measured = self.topica.sweep(SWEEP_CORPUS, corpus.pipeline_id, k_min, k_max, seed, iterations)
            output = measured.json()
            result["topica"].append(
                {
                    "method": f"topica sweep --iterations {iterations}",
                    "iterations": iterations,
                    "seconds": output["seconds"],
                    "workers": output["workers"],
                    "best_num_topics": output["best_num_topics"],
                    "per_k": [
                        {"topics": entry["num_topics"], "c_v": entry["c_v"], "train_seconds": entry["training_seconds"]}
                        for entry in output["models"]
                    ],
                    **process_summary(measured),
                }
            )
        return result

    # Wasm against native ----------------------------------------------------------------------

    def wasm_native(self) -> list[dict]:
        """Train the single-partition sampler in the Wasm plugin (`topica train --partitions 1`) and
        natively (the `lda_speed` example of topica-core) on the same token lists and settings."""
        native_binary = self.args.topica.parent / "examples" / "lda_speed"
        rows = []
        for name in self.grid.corpora:
            corpus = self.prepared[name]
            seed = self.grid.seeds[name][0]
            for topics in self.grid.topics:
                log.info("Wasm and native training on %s, K=%d, %d sweeps", name, topics, WASM_NATIVE_ITERATIONS)
                wasm = self.topica.run(
                    "train",
                    "--corpus", name,
                    "--pipeline", corpus.pipeline_id,
                    "--topics", topics,
                    "--seed", seed,
                    "--iterations", WASM_NATIVE_ITERATIONS,
                    "--partitions", 1,
                ).json()  # fmt: skip
                environment = {
                    **self.topica.env,
                    "TOPICA_SPEED_TOKENS": str(corpus.filtered_tokens),
                    "TOPICA_SPEED_TOPICS": str(topics),
                    "TOPICA_SPEED_ITERATIONS": str(WASM_NATIVE_ITERATIONS),
                    "TOPICA_SPEED_SEED": str(seed),
                    "TOPICA_SPEED_JSON": "1",
                }
                native = run_measured([str(native_binary)], env=environment).json()
                rows.append(
                    {
                        "corpus": name,
                        "topics": topics,
                        "iterations": WASM_NATIVE_ITERATIONS,
                        "tokens": wasm["tokens"],
                        "wasm_seconds": wasm["seconds"],
                        "native_seconds": native["seconds"],
                        "wasm_log_likelihood": wasm["final_log_likelihood"],
                        "native_log_likelihood": native["log_likelihood"],
                    }
                )
        return rows

    # Preprocessing throughput -----------------------------------------------------------------

    def preprocessing(self) -> dict:
        prepared = self.results["preparation"]["result"][PREPROCESS_CORPUS]
        source = self.args.corpora / CORPUS_SOURCES[PREPROCESS_CORPUS]
        log.info("Python regex preprocessing of %s", PREPROCESS_CORPUS)
        python_output, python_measured = self.worker(
            "preprocess", "--jsonl", source, "--stopwords", self.args.corpora / STOPWORDS_FILE
        )
        return {
            "corpus": PREPROCESS_CORPUS,
            "documents": prepared["documents"],
            "text_bytes": prepared["text_bytes"],
            "topica": {
                **prepared["preprocess"],
                "tokens": prepared["preprocess_report"]["tokens"],
                "timings": prepared["preprocess_report"]["timings"],
            },
            "python": {**python_output, **process_summary(python_measured)},
        }


def corpus_text_bytes(source: Path) -> int:
    """Return the UTF-8 size of the corpus texts: `.txt` file sizes, or the JSONL `text` fields."""
    if source.is_dir():
        return sum(path.stat().st_size for path in source.glob("*.txt"))
    with source.open(encoding="utf-8") as file:
        return sum(len(json.loads(line)["text"].encode("utf-8")) for line in file if line.strip())


def token_file_stats(path: Path) -> dict:
    documents = tokens = 0
    vocabulary: set[str] = set()
    with path.open(encoding="utf-8") as file:
        for line in file:
            words = json.loads(line)["tokens"]
            documents += 1
            tokens += len(words)
            vocabulary.update(words)
    return {"documents": documents, "tokens": tokens, "vocabulary": len(vocabulary)}


def process_summary(measured: Measured) -> dict:
    return {
        "process_wall_seconds": measured.wall_seconds,
        "process_cpu_seconds": measured.cpu_seconds,
        "max_rss_mib": measured.max_rss_mib,
        "sampled_tree_rss_mib": measured.sampled_tree_rss_mib,
        "load_average": measured.load_average,
    }


def command_output(argv: list[str], cwd: Path | None = None) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=cwd).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"unavailable ({exc})"


def machine_info() -> dict:
    cpu_model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as file:
        for line in file:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with open("/proc/meminfo", encoding="utf-8") as file:
        for line in file:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    return {
        "nproc": command_output(["nproc"]),
        "cpu_model": cpu_model,
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
    }


def versions(topica_binary: Path) -> dict:
    repo = BENCH_DIR.parent
    changed = command_output(["git", "status", "--porcelain"], cwd=repo)
    return {
        "topica_commit": command_output(["git", "rev-parse", "HEAD"], cwd=repo),
        "topica_uncommitted_files": len(changed.splitlines()) if changed else 0,
        "topica": command_output([str(topica_binary), "--version"]),
        "gensim": importlib.metadata.version("gensim"),
        "tomotopy": importlib.metadata.version("tomotopy"),
        "python": platform.python_version(),
        "rustc": command_output(["rustc", "--version"]),
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark Topica against gensim and tomotopy.")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="run the reduced grid: lee and state_union, K 10 and 20, one seed, gensim passes=1",
    )
    parser.add_argument(
        "--corpora",
        type=Path,
        required=True,
        help="folder with the lee, state_union, ungd_paragraphs and stopwords folders",
    )
    parser.add_argument("--topica", type=Path, required=True, help="the release `topica` binary")
    parser.add_argument("--work-dir", type=Path, required=True, help="folder for Topica's data and exported tokens")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md", help="Markdown file to write")
    parser.add_argument("--command-line", default="", help="command line to record in the results")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    grid = QUICK if args.quick else FULL
    for name in (*grid.corpora, PREPROCESS_CORPUS):
        source = args.corpora / CORPUS_SOURCES[name]
        if not source.exists():
            raise SystemExit(f"corpus {name} not found at {source}: pass --corpora with the folder holding it")

    # The data directory is the benchmark's own, so a fresh one per run keeps runs independent.
    data_dir = args.work_dir / "topica-data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    args.work_dir.mkdir(parents=True, exist_ok=True)

    bench = Bench(args, grid)
    started = datetime.datetime.now(datetime.timezone.utc)
    bench.results.update(
        {
            "mode": grid.name,
            "grid": dataclasses.asdict(grid),
            "command_line": args.command_line,
            "started": started.isoformat(timespec="seconds"),
            "machine": machine_info(),
            "versions": versions(args.topica),
            "settings": {
                "train_iterations": TRAIN_ITERATIONS,
                "anchor_workers": ANCHOR_WORKERS,
                "other_measures_top_n": OTHER_MEASURES_TOP_N,
                "pipeline_file": PIPELINE_FILE.read_text(encoding="utf-8"),
            },
        }
    )
    bench.section("preparation", bench.prepare_all)
    if bench.results["preparation"]["error"] is None:
        bench.section("training", bench.train_grid)
        if bench.results["training"]["error"] is None:
            bench.section("coherence_timing", bench.coherence_timing)
        bench.section("wasm_native", bench.wasm_native)
        bench.section("sweep", bench.sweep)
        bench.section("preprocessing", bench.preprocessing)
    finished = datetime.datetime.now(datetime.timezone.utc)
    bench.results["finished"] = finished.isoformat(timespec="seconds")
    bench.results["elapsed_seconds"] = (finished - started).total_seconds()
    bench.results["targets"] = targets.evaluate(bench.results)
    bench.save()

    args.output.write_text(report.render(bench.results, bench.results_path), encoding="utf-8")
    log.info("wrote %s and %s", args.output, bench.results_path)


if __name__ == "__main__":
    main(sys.argv[1:])
