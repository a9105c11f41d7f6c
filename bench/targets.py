"""Compare the measured results with Topica's performance targets."""

from __future__ import annotations

import statistics

# Corpora the training-time targets are judged on.
TRAINING_TARGET_CORPORA = ("state_union", "ungd_paragraphs")

MAX_TRAIN_RATIO_TOMOTOPY = 0.5
MAX_TRAIN_RATIO_MULTICORE = 0.1
MIN_COHERENCE_SPEEDUP = 50.0
MAX_SWEEP_RATIO = 0.02
MIN_PREPROCESS_SPEEDUP = 20.0
C_V_AGREEMENT = 1e-3


def section_result(results: dict, name: str):
    return (results.get(name) or {}).get("result")


def median_of(rows: list[dict], key) -> float:
    return statistics.median(key(row) for row in rows)


def select(rows: list[dict], corpus: str, topics: int, model: str) -> list[dict]:
    return [row for row in rows if row["corpus"] == corpus and row["topics"] == topics and row["model"] == model]


def target(name: str, scope: str, measured: str, met: bool | None) -> dict:
    """Build one line of the targets table. `met` is None when the target was not measured."""
    return {"target": name, "scope": scope, "measured": measured, "met": met}


def training_targets(rows: list[dict], grid: dict) -> list[dict]:
    lines = []
    for corpus in TRAINING_TARGET_CORPORA:
        if corpus not in grid["corpora"]:
            lines.append(target("training ≤ 0.5× tomotopy at ≥ its c_v@10", corpus, "not run in this mode", None))
            continue
        for topics in grid["topics"]:
            scope = f"{corpus}, K={topics}"
            topica = select(rows, corpus, topics, "Topica")
            tomotopy = select(rows, corpus, topics, "tomotopy")
            topica_seconds = median_of(topica, lambda row: row["train_seconds"])
            topica_c_v = median_of(topica, lambda row: row["scores"]["c_v@10"])
            tomotopy_seconds = median_of(tomotopy, lambda row: row["train_seconds"])
            tomotopy_c_v = median_of(tomotopy, lambda row: row["scores"]["c_v@10"])
            quality_met = topica_c_v >= tomotopy_c_v
            seeds = f"{len(topica)} seed" if len(topica) == 1 else f"{len(topica)} seeds"
            ratio = topica_seconds / tomotopy_seconds
            lines.append(
                target(
                    "training ≤ 0.5× tomotopy at ≥ its c_v@10",
                    scope,
                    f"{ratio:.2f}× ({topica_seconds:.1f} s / {tomotopy_seconds:.1f} s), "
                    f"c_v@10 median {topica_c_v:.4f} vs {tomotopy_c_v:.4f} ({seeds})",
                    ratio <= MAX_TRAIN_RATIO_TOMOTOPY and quality_met,
                )
            )
            multicore = select(rows, corpus, topics, "gensim LdaMulticore passes=10")
            if not multicore:
                lines.append(
                    target(
                        "training ≤ 0.1× gensim LdaMulticore passes=10",
                        scope,
                        "not measured: this mode runs gensim with passes=1 only",
                        None,
                    )
                )
                continue
            multicore_seconds = multicore[0]["train_seconds"]
            ratio = topica_seconds / multicore_seconds
            lines.append(
                target(
                    "training ≤ 0.1× gensim LdaMulticore passes=10",
                    scope,
                    f"{ratio:.3f}× ({topica_seconds:.1f} s / {multicore_seconds:.1f} s), "
                    f"Topica c_v@10 {'≥' if quality_met else '<'} tomotopy's",
                    ratio <= MAX_TRAIN_RATIO_MULTICORE and quality_met,
                )
            )
    return lines


def coherence_targets(rows: list[dict]) -> list[dict]:
    lines = []
    for row in rows:
        speedup = row["gensim_seconds"] / row["topica_seconds"]
        difference = abs(row["topica_value"] - row["gensim_value"])
        lines.append(
            target(
                "c_v ≥ 50× faster than gensim (values within 0.001)",
                f"{row['corpus']}, K={row['topics']}, top {row['top_n']}",
                f"{speedup:.1f}× ({row['gensim_seconds']:.2f} s / {row['topica_seconds']:.3f} s), "
                f"values differ by {difference:.5f}",
                speedup >= MIN_COHERENCE_SPEEDUP and difference <= C_V_AGREEMENT,
            )
        )
    return lines


def sweep_target(sweep: dict) -> dict:
    topica, gensim = sweep["topica"], sweep["gensim"]
    ratio = topica["seconds"] / gensim["seconds"]
    return target(
        "sweep ≤ 2 % of gensim's time",
        f"{sweep['corpus']}, K={sweep['topics'][0]}..{sweep['topics'][1]}, {topica['method']}",
        f"{ratio * 100:.1f} % ({topica['seconds']:.1f} s / {gensim['seconds']:.1f} s)",
        ratio <= MAX_SWEEP_RATIO,
    )


def preprocessing_target(preprocessing: dict) -> dict:
    topica_seconds = preprocessing["topica"]["process_wall_seconds"]
    python_seconds = preprocessing["python"]["seconds"]
    speedup = python_seconds / topica_seconds
    return target(
        "Wasm preprocessing ≥ 20× faster than Python",
        f"{preprocessing['corpus']}, whole `topica preprocess` against the Python loop",
        f"{speedup:.2f}× ({python_seconds:.2f} s / {topica_seconds:.2f} s)",
        speedup >= MIN_PREPROCESS_SPEEDUP,
    )


def memory_targets(rows: list[dict], grid: dict) -> list[dict]:
    lines = []
    for corpus in grid["corpora"]:
        for topics in grid["topics"]:
            topica = max(row["max_rss_mib"] for row in select(rows, corpus, topics, "Topica"))
            tomotopy = max(row["max_rss_mib"] for row in select(rows, corpus, topics, "tomotopy"))
            lines.append(
                target(
                    "Topica peak RSS ≤ tomotopy's",
                    f"{corpus}, K={topics}",
                    f"{topica:.0f} MiB vs {tomotopy:.0f} MiB ({topica / tomotopy:.2f}×)",
                    topica <= tomotopy,
                )
            )
    return lines


def evaluate(results: dict) -> list[dict]:
    """Return one line per target and scope, from whatever sections succeeded."""
    grid = results["grid"]
    lines: list[dict] = []

    training = section_result(results, "training")
    if training:
        lines += training_targets(training, grid)
    else:
        lines.append(target("training targets", "all", "not measured: the training section failed", None))

    timing = section_result(results, "coherence_timing")
    if timing:
        lines += coherence_targets(timing)
    else:
        lines.append(target("c_v ≥ 50× faster than gensim", "all", "not measured: the section failed", None))

    sweep = section_result(results, "sweep")
    if sweep:
        lines.append(sweep_target(sweep))
    else:
        lines.append(target("sweep ≤ 2 % of gensim's time", "all", "not measured: the section failed", None))

    preprocessing = section_result(results, "preprocessing")
    if preprocessing:
        lines.append(preprocessing_target(preprocessing))
    else:
        failed = "not measured: the section failed"
        lines.append(target("Wasm preprocessing ≥ 20× faster than Python", "all", failed, None))

    if training:
        lines += memory_targets(training, grid)

    lines.append(
        target("Wasm / native training time", "all", "not measured yet: there is no native trainer binary", None)
    )
    return lines
