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
MAX_WASM_NATIVE_RATIO = 1.3
# Topica's default number of sweeps, `topica train` without `--iterations`.
DEFAULT_TOPICA_ITERATIONS = 1000


def section_result(results: dict, name: str):
    return (results.get(name) or {}).get("result")


def median_of(rows: list[dict], key) -> float:
    return statistics.median(key(row) for row in rows)


def select(rows: list[dict], corpus: str, topics: int, model: str) -> list[dict]:
    return [row for row in rows if row["corpus"] == corpus and row["topics"] == topics and row["model"] == model]


def target(name: str, scope: str, measured: str, met: bool | None) -> dict:
    """Build one line of the targets table. `met` is None when the target was not measured."""
    return {"target": name, "scope": scope, "measured": measured, "met": met}


def topica_label(iterations: int) -> str:
    """Return the model name of a Topica run: "Topica" at the default sweep count, else with the count."""
    return "Topica" if iterations == DEFAULT_TOPICA_ITERATIONS else f"Topica {iterations} sweeps"


def fastest_at_quality(rows: list[dict], corpus: str, topics: int, quality: float) -> dict:
    """Return, among Topica's sweep counts for one corpus and K, the fewest whose median c_v@10
    reaches `quality`, or the most when none does: its sweep count, median seconds, median c_v@10,
    number of seeds and whether it reached `quality`."""
    topica = [row for row in rows if row["corpus"] == corpus and row["topics"] == topics and row["model"].startswith("Topica")]
    ladder = sorted({row.get("iterations", DEFAULT_TOPICA_ITERATIONS) for row in topica})
    chosen = None
    for iterations in ladder:
        group = [row for row in topica if row.get("iterations", DEFAULT_TOPICA_ITERATIONS) == iterations]
        chosen = {
            "iterations": iterations,
            "seconds": median_of(group, lambda row: row["train_seconds"]),
            "c_v": median_of(group, lambda row: row["scores"]["c_v@10"]),
            "seeds": len(group),
        }
        chosen["reached"] = chosen["c_v"] >= quality
        if chosen["reached"]:
            break
    return chosen


def training_targets(rows: list[dict], grid: dict) -> list[dict]:
    lines = []
    for corpus in TRAINING_TARGET_CORPORA:
        if corpus not in grid["corpora"]:
            lines.append(target("training ≤ 0.5× tomotopy at ≥ its c_v@10", corpus, "not run in this mode", None))
            continue
        for topics in grid["topics"]:
            scope = f"{corpus}, K={topics}"
            tomotopy = select(rows, corpus, topics, "tomotopy")
            tomotopy_seconds = median_of(tomotopy, lambda row: row["train_seconds"])
            tomotopy_c_v = median_of(tomotopy, lambda row: row["scores"]["c_v@10"])
            topica = fastest_at_quality(rows, corpus, topics, tomotopy_c_v)
            seeds = f"{topica['seeds']} seed" if topica["seeds"] == 1 else f"{topica['seeds']} seeds"
            reached = (
                f"fewest sweeps reaching it: {topica['iterations']}"
                if topica["reached"]
                else f"not reached by {topica['iterations']} sweeps"
            )
            ratio = topica["seconds"] / tomotopy_seconds
            lines.append(
                target(
                    "training ≤ 0.5× tomotopy at ≥ its c_v@10",
                    scope,
                    f"{ratio:.2f}× ({topica['seconds']:.1f} s / {tomotopy_seconds:.1f} s), "
                    f"c_v@10 median {topica['c_v']:.4f} vs {tomotopy_c_v:.4f} ({seeds}; {reached})",
                    ratio <= MAX_TRAIN_RATIO_TOMOTOPY and topica["reached"],
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
            multicore_c_v = multicore[0]["scores"]["c_v@10"]
            ratio = topica["seconds"] / multicore_seconds
            lines.append(
                target(
                    "training ≤ 0.1× gensim LdaMulticore passes=10",
                    scope,
                    f"{ratio:.3f}× ({topica['seconds']:.1f} s / {multicore_seconds:.1f} s) with the "
                    f"{topica['iterations']}-sweep Topica above; gensim's c_v@10 {multicore_c_v:.4f}",
                    ratio <= MAX_TRAIN_RATIO_MULTICORE and topica["reached"],
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


def sweep_targets(sweep: dict) -> list[dict]:
    gensim = sweep["gensim"]
    gensim_c_v = statistics.mean(entry["c_v"] for entry in gensim["per_k"])
    lines = []
    for topica in sweep["topica"]:
        ratio = topica["seconds"] / gensim["seconds"]
        topica_c_v = statistics.mean(entry["c_v"] for entry in topica["per_k"])
        lines.append(
            target(
                "sweep ≤ 2 % of gensim's time",
                f"{sweep['corpus']}, K={sweep['topics'][0]}..{sweep['topics'][1]}, {topica['method']}",
                f"{ratio * 100:.1f} % ({topica['seconds']:.1f} s / {gensim['seconds']:.1f} s), "
                f"mean c_v {topica_c_v:.4f} vs gensim's {gensim_c_v:.4f}",
                ratio <= MAX_SWEEP_RATIO,
            )
        )
    return lines


# The steps of Topica's chain that do the Python loop's work: tokenize, lowercase, drop short
# and non-alphabetic tokens, drop stopwords.
PYTHON_EQUIVALENT_STEPS = ("tokenizer", "lowercase", "alpha-filter", "stopwords")


def chain_seconds(timings: dict, plugins: tuple[str, ...]) -> float:
    return sum(step["seconds"] for step in timings["steps"] if step["plugin"] in plugins)


def preprocessing_target(preprocessing: dict) -> dict:
    topica_seconds = chain_seconds(preprocessing["topica"]["timings"], PYTHON_EQUIVALENT_STEPS)
    python_seconds = preprocessing["python"]["seconds"]
    speedup = python_seconds / topica_seconds
    return target(
        "Wasm preprocessing ≥ 20× faster than Python",
        f"{preprocessing['corpus']}, Topica's {', '.join(PYTHON_EQUIVALENT_STEPS)} steps against the Python loop",
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


def wasm_native_targets(rows: list[dict]) -> list[dict]:
    lines = []
    for row in rows:
        ratio = row["wasm_seconds"] / row["native_seconds"]
        same = row["wasm_log_likelihood"] == row["native_log_likelihood"]
        lines.append(
            target(
                "Wasm / native training time ≤ 1.3",
                f"{row['corpus']}, K={row['topics']}, {row['iterations']} sweeps",
                f"{ratio:.2f} ({row['wasm_seconds']:.2f} s / {row['native_seconds']:.2f} s), "
                + ("identical log-likelihood" if same else "log-likelihoods differ"),
                ratio <= MAX_WASM_NATIVE_RATIO and same,
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
        lines.extend(sweep_targets(sweep))
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

    wasm_native = section_result(results, "wasm_native")
    if wasm_native:
        lines += wasm_native_targets(wasm_native)
    else:
        lines.append(target("Wasm / native training time ≤ 1.3", "all", "not measured: the section failed", None))
    return lines
