"""The Topica commands the benchmark runs, each measured as its own process."""

from __future__ import annotations

import json
import os
from pathlib import Path

from measure import Measured, run_measured

# Variables that would send runs to MLflow or corpora to MongoDB. The benchmark removes them so
# that Topica uses the embedded SQLite store and the file tracker under its own data directory.
REMOTE_BACKEND_VARIABLES = ("MLFLOW_TRACKING_URI", "MONGODB_URI", "MONGODB_DATABASE", "TOPICA_DATA_DIR")


class Topica:
    """Runs one `topica` binary against one data directory."""

    def __init__(self, binary: Path, data_dir: Path):
        self.binary = binary
        self.data_dir = data_dir
        self.env = {name: value for name, value in os.environ.items() if name not in REMOTE_BACKEND_VARIABLES}

    def run(self, *args: object) -> Measured:
        """Run `topica --data-dir DIR --format json ARGS...` and measure it."""
        argv = [self.binary, "--data-dir", self.data_dir, "--format", "json", *args]
        return run_measured([str(arg) for arg in argv], env=self.env)

    def ingest(self, path: Path, corpus: str) -> Measured:
        return self.run("ingest", path, "--corpus", corpus, "--replace")

    def preprocess(self, corpus: str, config: Path) -> Measured:
        return self.run("preprocess", "--corpus", corpus, "--config", config)

    def train(self, corpus: str, pipeline_id: str, topics: int, seed: int, iterations: int) -> Measured:
        # Two partitions on two worker threads, like the anchors' two workers.
        return self.run(
            "train",
            "--corpus", corpus,
            "--pipeline", pipeline_id,
            "--topics", topics,
            "--seed", seed,
            "--iterations", iterations,
            "--partitions", 2,
            "--workers", 2,
        )  # fmt: skip

    def export_tokens(self, run_id: str, output: Path, *, unfiltered: bool) -> Measured:
        flags = ["--unfiltered"] if unfiltered else []
        return self.run("export", "tokens", "--run", run_id, *flags, "-o", output)

    def coherence(self, topics_file: Path, texts: Path, measure: str, top_n: int) -> Measured:
        return self.run(
            "coherence", "--topics", topics_file, "--texts", texts, "--measure", measure, "--top-n", top_n
        )

    def sweep(self, corpus: str, pipeline_id: str, k_min: int, k_max: int, seed: int, iterations: int) -> Measured:
        return self.run(
            "sweep",
            "--corpus", corpus,
            "--pipeline", pipeline_id,
            "--topics", f"{k_min}..{k_max}",
            "--seed", seed,
            "--iterations", iterations,
        )  # fmt: skip

    def model_top_words(self, run_id: str, top_n: int) -> list[list[str]]:
        """Read a run's model artifact and return each topic's `top_n` most probable words.

        The order is the one Topica's `top_words` uses: count in the topic, descending, then word
        id, ascending. The path is the file tracker's layout (`tracking/runs/RUN/artifacts/`),
        because `topica train` reports only the top 10 words.
        """
        path = self.data_dir / "tracking" / "runs" / run_id / "artifacts" / "model" / "model.json"
        model = json.loads(path.read_text(encoding="utf-8"))
        vocabulary = model["vocabulary"]
        size = len(vocabulary)
        counts = model["topic_word"]
        topics = []
        for topic in range(model["num_topics"]):
            row = counts[topic * size : (topic + 1) * size]
            order = sorted(range(size), key=lambda word: (-row[word], word))
            topics.append([vocabulary[word] for word in order[:top_n]])
        return topics
