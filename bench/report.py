"""Render the benchmark results as Markdown (bench/RESULTS.md)."""

from __future__ import annotations

import statistics
from pathlib import Path

from targets import PYTHON_EQUIVALENT_STEPS, TRAINING_TARGET_CORPORA, chain_seconds

MODEL_ORDER = (
    "gensim LdaModel passes=1",
    "gensim LdaMulticore passes=1",
    "gensim LdaModel passes=10",
    "gensim LdaMulticore passes=10",
    "tomotopy",
    "Topica",
)
# tomotopy's sweeps in every run, `LDAModel.train(1000, ...)`.
TOMOTOPY_ITERATIONS = 1000
SCORE_KEYS = ("c_v@10", "c_v@20", "u_mass@20", "c_npmi@20")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def load(section: dict) -> str:
    before = section["load_average_before"]
    after = section["load_average_after"]
    return (
        f"Load average (1, 5, 15 min) {before[0]:.2f}, {before[1]:.2f}, {before[2]:.2f} at the start "
        f"and {after[0]:.2f}, {after[1]:.2f}, {after[2]:.2f} at the end of this section.\n"
    )


def section_header(results: dict, key: str, title: str) -> tuple[str, object]:
    """Return the section's heading with its load average, or with its error, and its result."""
    section = results.get(key)
    text = f"## {title}\n\n"
    if section is None:
        return text + "Not run, because an earlier section failed.\n\n", None
    text += load(section) + "\n"
    if section["error"]:
        text += f"This section failed:\n\n```\n{section['error']}\n```\n\n"
    return text, section["result"]


def render_header(results: dict, results_path: Path) -> str:
    machine, versions = results["machine"], results["versions"]
    hardware = f"{machine['nproc']} CPUs, {machine['cpu_model']}, {machine['memory_gib']} GiB RAM"
    uncommitted = versions["topica_uncommitted_files"]
    commit = versions["topica_commit"] + (f" with {uncommitted} uncommitted files" if uncommitted else "")
    text = "# Benchmark results\n\n"
    text += (
        f"Written by `{results['command_line']}` ({results['mode']} grid), started {results['started']}, "
        f"finished {results['finished']} ({results['elapsed_seconds'] / 60:.1f} min). Every number below comes "
        f"from that run. The raw measurements are in `{results_path}`; `bench/README.md` says what each "
        "number includes. The machine is shared with other builds, so each section gives its load average.\n\n"
    )
    text += table(
        ["", ""],
        [
            ["machine", f"{hardware}, Linux {machine['kernel']}"],
            ["Topica", f"{versions['topica']}, commit {commit}"],
            ["gensim", versions["gensim"]],
            ["tomotopy", versions["tomotopy"]],
            ["Python", versions["python"]],
            ["rustc", versions["rustc"]],
        ],
    )
    return text + "\n"


def render_targets(results: dict) -> str:
    text = "## Targets\n\n"
    rows = []
    for line in results["targets"]:
        met = {True: "met", False: "not met", None: "–"}[line["met"]]
        rows.append([line["target"], line["scope"], line["measured"], met])
    return text + table(["target", "scope", "measured", "result"], rows) + "\n"


def render_corpora(results: dict) -> str:
    text, prepared = section_header(results, "preparation", "Corpora")
    if not prepared:
        return text
    text += (
        "Topica ingests each corpus and preprocesses it with `bench/pipeline.toml` (Topica's default chain "
        "with English stopwords only). The filtered token lists are what every model trains on. The "
        "unfiltered lists are what c_v and c_npmi slide their windows over.\n\n"
    )
    rows = []
    for name, record in prepared.items():
        report = record["preprocess_report"]
        filtered = record.get("filtered", {})
        unfiltered = record.get("unfiltered", {})
        rows.append(
            [
                name,
                str(record["documents"]),
                number(record["text_bytes"] / 1e6),
                f"{report['tokens']:,}",
                f"{report['vocabulary_before_filter']:,} → {report['vocabulary']:,}",
                f"{filtered['documents']:,} / {filtered['tokens']:,}" if filtered else "not exported",
                f"{unfiltered['tokens']:,}" if unfiltered else "not exported",
                number(record["ingest"]["process_wall_seconds"]),
                number(record["preprocess"]["process_wall_seconds"]),
            ]
        )
    header = [
        "corpus", "documents", "text MB", "tokens after the chain", "vocabulary before → after filter",
        "filtered docs / tokens", "unfiltered tokens", "ingest s", "preprocess s",
    ]  # fmt: skip
    return text + table(header, rows) + "\n"


def median(rows: list[dict], key) -> float | None:
    values = [key(row) for row in rows]
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def render_training(results: dict) -> str:
    text, rows = section_header(results, "training", "Training")
    if not rows:
        return text
    text += (
        "Medians over the seeds listed. Train s is the training call only: `seconds` from "
        "`topica train --format json`, and the time around `LdaModel(...)`, `LdaMulticore(...)` or "
        "`LDAModel.train(...)` in Python. Train CPU for Topica (marked *) is the whole `topica train` "
        "process, because Topica reports no CPU time of its own. Peak RSS is the kernel's high-water mark "
        "of the largest process. Tree RSS sums the RSS of a process and its workers, sampled every 50 ms. "
        "Coherence comes from `topica coherence` for every model: c_v and c_npmi on the unfiltered texts, "
        "u_mass on the filtered texts.\n\n"
    )
    combinations = sorted({(row["corpus"], row["topics"]) for row in rows}, key=lambda item: (item[0], item[1]))
    for corpus, topics in combinations:
        subset = [row for row in rows if row["corpus"] == corpus and row["topics"] == topics]
        text += f"### {corpus}, K={topics}\n\n"
        model_rows, by_model = [], {}
        for model in model_order(subset):
            runs = [row for row in subset if row["model"] == model]
            if not runs:
                continue
            by_model[model] = runs
            cpu = number(median(runs, lambda row: row["train_cpu_seconds"]))
            if runs[0]["train_cpu_is_process"]:
                cpu += "*"
            c_v_per_seed = ", ".join(f"{row['scores']['c_v@10']:.4f}" for row in runs)
            model_rows.append(
                [
                    model,
                    ", ".join(str(row["seed"]) for row in runs),
                    number(median(runs, lambda row: row["train_seconds"])),
                    cpu,
                    number(median(runs, lambda row: row["process_wall_seconds"])),
                    number(median(runs, lambda row: row["max_rss_mib"]), 0),
                    number(median(runs, lambda row: row["sampled_tree_rss_mib"]), 0),
                    *[number(median(runs, lambda row, key=key: row["scores"][key]), 4) for key in SCORE_KEYS],
                    c_v_per_seed if len(runs) > 1 else "",
                ]
            )
        header = [
            "model", "seeds", "train s", "train CPU s", "process s", "peak RSS MiB", "tree RSS MiB",
            *SCORE_KEYS, "c_v@10 per seed",
        ]  # fmt: skip
        text += table(header, model_rows) + "\n"
        text += render_ratios(by_model) + "\n"
    return text


def model_order(rows: list[dict]) -> list[str]:
    """Return the anchors in MODEL_ORDER, then Topica's runs by ascending number of sweeps."""
    topica = sorted(
        {(row.get("iterations", 0), row["model"]) for row in rows if row["model"].startswith("Topica")}
    )
    return [model for model in MODEL_ORDER if model != "Topica"] + [model for _, model in topica]


def render_ratios(by_model: dict[str, list[dict]]) -> str:
    """Return the ratio table of every Topica run against every anchor. Runs with fewer sweeps are
    compared only with tomotopy and gensim LdaMulticore passes=10, the anchors of the targets."""
    rows = []
    for topica_model, topica in by_model.items():
        if not topica_model.startswith("Topica"):
            continue
        topica_wall = median(topica, lambda row: row["train_seconds"])
        topica_cpu = median(topica, lambda row: row["train_cpu_seconds"])
        topica_rss = median(topica, lambda row: row["max_rss_mib"])
        topica_c_v = median(topica, lambda row: row["scores"]["c_v@10"])
        for model, runs in by_model.items():
            if model.startswith("Topica"):
                continue
            if topica_model != "Topica" and model not in ("tomotopy", "gensim LdaMulticore passes=10"):
                continue
            rows.append(
                [
                    f"{topica_model} / {model}",
                    number(topica_wall / median(runs, lambda row: row["train_seconds"])),
                    number(topica_cpu / median(runs, lambda row: row["train_cpu_seconds"])),
                    number(topica_rss / median(runs, lambda row: row["max_rss_mib"])),
                    f"{topica_c_v - median(runs, lambda row: row['scores']['c_v@10']):+.4f}",
                ]
            )
    if not rows:
        return ""
    return table(["ratio", "train s", "train CPU s*", "peak RSS", "c_v@10 difference"], rows)


def render_coherence_timing(results: dict) -> str:
    text, rows = section_header(results, "coherence_timing", "c_v computation")
    if not rows:
        return text
    text += (
        "The same topics (the first-seed Topica model of each corpus and K) scored by `topica coherence` "
        "and by gensim's `CoherenceModel(topics=..., texts=..., dictionary=Dictionary(texts), "
        "coherence='c_v', topn=N)` on the unfiltered texts. Topica s is the `seconds` it reports "
        "(scoring only, after reading the files). Gensim s covers `Dictionary(texts)` and the scoring, "
        "after reading the files.\n\n"
    )
    table_rows = []
    for row in rows:
        difference = abs(row["topica_value"] - row["gensim_value"])
        table_rows.append(
            [
                row["corpus"],
                str(row["topics"]),
                str(row["top_n"]),
                f"{row['topica_value']:.5f}",
                f"{row['gensim_value']:.5f}",
                f"{difference:.5f}" + ("" if difference <= 1e-3 else " (above 0.001)"),
                number(row["topica_seconds"], 3),
                number(row["topica_process_seconds"], 2),
                number(row["gensim_seconds"], 2),
                number(row["gensim_seconds"] / row["topica_seconds"], 1),
            ]
        )
    header = [
        "corpus", "K", "top n", "Topica c_v", "gensim c_v", "abs difference", "Topica s",
        "Topica process s", "gensim s", "gensim / Topica",
    ]  # fmt: skip
    return text + table(header, table_rows) + "\n"


def render_sweep(results: dict) -> str:
    text, sweep = section_header(results, "sweep", "K sweep")
    if not sweep:
        return text
    runs, gensim = sweep["topica"], sweep["gensim"]
    first, last = sweep["topics"]
    text += (
        f"The usual gensim notebook sweep on {sweep['corpus']}: one model per K = {first}..{last}, each scored "
        f"with c_v on its top {gensim['top_n']} words. gensim: `LdaModel` (passes=1) and `CoherenceModel` "
        f"per K, {gensim['seconds']:.1f} s inside Python ({gensim['process_wall_seconds']:.1f} s for the "
        "process). Topica: "
    )
    text += "; ".join(
        f"`{run['method']}`, {run['seconds']:.1f} s as reported ({run['process_wall_seconds']:.1f} s for the "
        f"process, {run['workers']} workers)"
        for run in runs
    )
    text += ". Topica's c_v comes from the same sweep command, on the unfiltered texts.\n\n"

    gensim_by_k = {entry["topics"]: entry for entry in gensim["per_k"]}
    runs_by_k = [{entry["topics"]: entry for entry in run["per_k"]} for run in runs]
    rows = []
    for topics in range(first, last + 1):
        anchor = gensim_by_k.get(topics, {})
        row = [
            str(topics),
            number(anchor.get("c_v"), 4),
            number(anchor.get("train_seconds")),
            number(anchor.get("coherence_seconds")),
        ]
        for by_k in runs_by_k:
            ours = by_k.get(topics, {})
            row += [number(ours.get("c_v"), 4), number(ours.get("train_seconds"))]
        rows.append(row)

    header = ["K", "gensim c_v", "gensim train s", "gensim c_v s"]
    for run in runs:
        header += [f"Topica c_v ({run['iterations']} sweeps)", f"Topica train s ({run['iterations']} sweeps)"]
    return text + table(header, rows) + "\n"


def render_wasm_native(results: dict) -> str:
    text, rows = section_header(results, "wasm_native", "Wasm against native")
    if not rows:
        return text
    text += (
        "The single-partition sampler on the same filtered token lists, the same seed and the same "
        "settings: in the Wasm plugin through `topica train --partitions 1` (its `seconds`, which include "
        "instantiating the plugin and copying the documents in), and compiled natively as the `lda_speed` "
        "example of topica-core (the training call only). Equal final log-likelihoods mean the same "
        "model, bit for bit.\n\n"
    )
    table_rows = [
        [
            row["corpus"],
            str(row["topics"]),
            str(row["iterations"]),
            f"{row['tokens']:,}",
            number(row["wasm_seconds"]),
            number(row["native_seconds"]),
            number(row["wasm_seconds"] / row["native_seconds"]),
            "yes" if row["wasm_log_likelihood"] == row["native_log_likelihood"] else "no",
        ]
        for row in rows
    ]
    header = ["corpus", "K", "sweeps", "tokens", "Wasm s", "native s", "Wasm / native", "same model"]
    return text + table(header, table_rows) + "\n"


def render_preprocessing(results: dict) -> str:
    text, result = section_header(results, "preprocessing", "Preprocessing throughput")
    if not result:
        return text
    megabytes = result["text_bytes"] / 1e6
    documents = result["documents"]
    topica, python = result["topica"], result["python"]
    timings = topica["timings"]
    equivalent = chain_seconds(timings, PYTHON_EQUIVALENT_STEPS)
    text += (
        f"{result['corpus']}: {documents:,} documents stored by `topica ingest`, {megabytes:.2f} MB of text in "
        f"the source file; the Python loop reads {python['documents']:,} documents. Python's time is only the "
        'loop `re.findall(r"[a-z]+", text.lower())`, length ≥ 3, English stopword set, over texts already in '
        "memory. Topica's times come from the `timings` that `topica preprocess` reports: each step of the "
        "Wasm chain (instantiation excluded), and the parts of the whole command. The token count in the "
        "whole-process row is after Topica's whole chain: phrases joins frequent pairs into one token, "
        "and the tokenizer and stopword list are Topica's own, so it differs from Python's count.\n\n"
    )
    rows = [
        [
            "Topica " + " + ".join(PYTHON_EQUIVALENT_STEPS),
            number(equivalent),
            f"{documents / equivalent:,.0f}",
            number(megabytes / equivalent),
            "",
            "",
        ],
        [
            "Python regex + stopwords",
            number(python["seconds"]),
            f"{python['documents'] / python['seconds']:,.0f}",
            number(python["bytes"] / 1e6 / python["seconds"]),
            f"{python['tokens']:,}",
            number(python["max_rss_mib"], 0),
        ],
        [
            "Topica `preprocess`, whole process",
            number(topica["process_wall_seconds"]),
            f"{documents / topica['process_wall_seconds']:,.0f}",
            number(megabytes / topica["process_wall_seconds"]),
            f"{topica['tokens']:,}",
            number(topica["max_rss_mib"], 0),
        ],
    ]
    text += table(["pipeline", "s", "docs/s", "MB/s", "tokens", "peak RSS MiB"], rows) + "\n"
    parts = [["read documents from the store", number(timings["read"])]]
    parts += [[f"step {step['plugin']}", number(step["seconds"])] for step in timings["steps"]]
    parts += [
        ["whole chain, instantiation included", number(timings["chain"])],
        ["dictionary and filter_extremes", number(timings["dictionary"])],
        ["store tokens and dictionary", number(timings["store"])],
    ]
    return text + table(["part of `topica preprocess`", "s"], parts) + "\n"


def unmet_targets(results: dict) -> set[str]:
    return {line["target"] for line in results.get("targets") or [] if line["met"] is False}


def sampling_rates(results: dict) -> list[list[str]]:
    """Return the token samples per second of Topica (every sweep count) and tomotopy, per corpus and K."""
    training = (results.get("training") or {}).get("result") or []
    prepared = (results.get("preparation") or {}).get("result") or {}
    rows = []
    combinations = sorted({(row["corpus"], row["topics"]) for row in training})
    for corpus, topics in combinations:
        tokens = prepared[corpus]["filtered"]["tokens"]
        subset = [row for row in training if row["corpus"] == corpus and row["topics"] == topics]
        tomotopy = [row for row in subset if row["model"] == "tomotopy"]
        tomotopy_seconds = median(tomotopy, lambda row: row["train_seconds"])
        tomotopy_rate = tokens * TOMOTOPY_ITERATIONS / tomotopy_seconds
        multicore = [row for row in subset if row["model"] == "gensim LdaMulticore passes=10"]
        multicore_seconds = median(multicore, lambda row: row["train_seconds"]) if multicore else None
        for model in model_order(subset):
            if not model.startswith("Topica"):
                continue
            runs = [row for row in subset if row["model"] == model]
            sweeps = runs[0]["iterations"]
            rate = tokens * sweeps / median(runs, lambda row: row["train_seconds"])
            within_multicore = (
                number(0.1 * multicore_seconds * rate / tokens, 0) if multicore_seconds is not None else "–"
            )
            rows.append(
                [
                    corpus,
                    str(topics),
                    str(sweeps),
                    number(rate / 1e6, 1),
                    number(tomotopy_rate / 1e6, 1),
                    number(0.5 * tomotopy_seconds * rate / tokens, 0),
                    within_multicore,
                    number(median(runs, lambda row: row["scores"]["c_v@10"]), 4),
                    number(median(tomotopy, lambda row: row["scores"]["c_v@10"]), 4),
                ]
            )
    return rows


def render_limits(results: dict) -> str:
    """Explain, with this run's numbers, what keeps each unmet target out of reach."""
    unmet = unmet_targets(results)
    if not unmet:
        return ""
    text = "## What limits the targets not met\n\n"
    if any(name.startswith("training ≤") for name in unmet):
        text += limits_of_training(results)
    sweep = (results.get("sweep") or {}).get("result")
    if sweep and any(name.startswith("sweep ≤") for name in unmet):
        text += limits_of_sweep(results, sweep)
    preprocessing = (results.get("preprocessing") or {}).get("result")
    if preprocessing and any(name.startswith("Wasm preprocessing") for name in unmet):
        text += limits_of_preprocessing(preprocessing)
    if any(name.startswith("Topica peak RSS") for name in unmet):
        text += (
            "**Memory.** Topica's peak comes from the token lists, read from the store as strings before "
            "the bags of words are built, and from tables that grow with K: the document-topic counts "
            "(documents × K) and the topic-word counts (V × K) with their pending changes, held in each "
            "partition's instance and again in the host, which writes them out as JSON artifacts.\n\n"
        )
    if any(name.startswith("Wasm / native") for name in unmet):
        text += (
            "**Wasm against native.** The ratio grows with K. The sandbox's deadline is the likely cause: "
            "wasmtime's epoch interruption checks a counter at every loop back-edge and function entry of "
            "the plugin, and the sampler runs short loops over the topics for every token. The Wasm time "
            "also includes instantiating the plugin and copying the documents in, which weighs most on "
            "lee. The same overhead lowers Topica's sampling rate at K=50 in the training table.\n\n"
        )
    return text


def limits_of_training(results: dict) -> str:
    text = (
        "**Training time.** A Gibbs sampler visits every token once per sweep, so its time is tokens × "
        "sweeps / sampling rate. The table gives both tools' rates in millions of token samples per "
        "second (2 partitions on 2 cores for Topica, `workers=2` for tomotopy) and the c_v@10 medians. "
        "Topica meets a target only with fewer sweeps than tomotopy's 1000: at an equal rate, half the "
        "time means at most 500 sweeps with a c_v@10 median at least tomotopy's. Where no sweep count "
        "reaches tomotopy's median, the gap is topic quality on that corpus and K, not speed. The two "
        "budget columns give how many sweeps fit, at Topica's rate, in half of tomotopy's time and in a "
        "tenth of gensim `LdaMulticore` passes=10; a target is within reach where that number is at "
        "least a sweep count whose c_v@10 reaches tomotopy's.\n\n"
    )
    rows = sampling_rates(results)
    judged = [row for row in rows if row[0] in TRAINING_TARGET_CORPORA]
    multicore_budgets = [float(row[6]) for row in judged if row[6] != "–"]
    smallest = min((int(row[2]) for row in judged), default=0)
    if multicore_budgets and max(multicore_budgets) < smallest:
        text += (
            f"On {' and '.join(TRAINING_TARGET_CORPORA)}, no cell's budget for the gensim `LdaMulticore` "
            f"target reaches {smallest} sweeps, the fewest this run tried, so no tested setting could "
            "meet that target.\n\n"
        )
    header = ["corpus", "K", "Topica sweeps", "Topica M samples/s", "tomotopy M samples/s",
              "sweeps in 0.5× tomotopy", "sweeps in 0.1× LdaMulticore", "Topica c_v@10",
              "tomotopy c_v@10"]  # fmt: skip
    return text + table(header, rows) + "\n"


def limits_of_sweep(results: dict, sweep: dict) -> str:
    gensim = sweep["gensim"]
    budget = gensim["seconds"] * 0.02
    models = len(gensim["per_k"])
    train = statistics.median(entry["train_seconds"] for entry in gensim["per_k"])
    scoring = statistics.median(entry["coherence_seconds"] for entry in gensim["per_k"])
    tokens = results["preparation"]["result"][sweep["corpus"]]["filtered"]["tokens"]
    fastest = min(sweep["topica"], key=lambda run: run["seconds"])
    # Token samples per second of the whole sweep, every model and worker together.
    rate = models * tokens * fastest["iterations"] / fastest["seconds"]
    return (
        f"**Sweep.** gensim's sweep trains each K with one pass (median {train:.2f} s) and spends most "
        f"of its {gensim['seconds']:.1f} s in `CoherenceModel` (median {scoring:.2f} s per K). 2 % of it "
        f"is {budget:.2f} s for {models} models. `{fastest['method']}` sampled {rate / 1e6:.1f} M tokens/s "
        f"over all its models, so that budget holds {budget * rate / (models * tokens):.0f} sweeps per "
        f"model, against the {fastest['iterations']} it ran. Topica's c_v takes milliseconds; its "
        "training is what the budget cannot hold.\n\n"
    )


def limits_of_preprocessing(preprocessing: dict) -> str:
    python = preprocessing["python"]
    return (
        f"**Preprocessing.** The Python loop is one C regular expression and a set lookup per token, "
        f"{python['bytes'] / 1e6 / python['seconds']:.0f} MB/s here. Each Topica step is its own sandboxed "
        "instance: every token crosses the component boundary as a separate string, in and out, and the "
        "canonical ABI allocates and copies each one. Four steps make eight crossings per token. The "
        "chain runs one instance per core on shares of the documents, which halves the wall time on 2 "
        "cores but not the per-token copying.\n\n"
    )


def render(results: dict, results_path: Path) -> str:
    """Return RESULTS.md for one benchmark run."""
    return "".join(
        [
            render_header(results, results_path),
            render_targets(results),
            render_limits(results),
            render_corpora(results),
            render_training(results),
            render_coherence_timing(results),
            render_wasm_native(results),
            render_sweep(results),
            render_preprocessing(results),
        ]
    )
