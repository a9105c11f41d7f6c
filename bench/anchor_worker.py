"""Run one anchor job (gensim or tomotopy training, gensim c_v, the gensim K sweep, or the Python
preprocessing baseline) in its own process and print a JSON summary on stdout.

bench.py starts this script once per job so that each job's peak RSS is its own. Clocks start
after the inputs are loaded and stop when the measured call returns.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
from pathlib import Path


def load_token_lists(path: Path) -> list[list[str]]:
    """Read `{"id": ..., "tokens": [...]}` lines as written by `topica export tokens`."""
    with path.open(encoding="utf-8") as file:
        return [json.loads(line)["tokens"] for line in file if line.strip()]


def cpu_seconds() -> float:
    """Return the user + system CPU of this process and of its children that have been waited for.

    gensim's LdaMulticore terminates and joins its worker pool when training ends, so its workers
    are included once training returns.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def train_gensim(args: argparse.Namespace) -> dict:
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel, LdaMulticore

    texts = load_token_lists(args.texts)
    dictionary = Dictionary(texts)
    corpus = [dictionary.doc2bow(text) for text in texts]

    wall_start, cpu_start = time.perf_counter(), cpu_seconds()
    if args.model == "LdaMulticore":
        model = LdaMulticore(
            corpus=corpus,
            id2word=dictionary,
            num_topics=args.topics,
            passes=args.passes,
            workers=args.workers,
            random_state=args.seed,
        )
    else:
        model = LdaModel(
            corpus=corpus,
            id2word=dictionary,
            num_topics=args.topics,
            passes=args.passes,
            random_state=args.seed,
        )
    wall, cpu = time.perf_counter() - wall_start, cpu_seconds() - cpu_start

    topics = [[word for word, _ in model.show_topic(topic, topn=args.top_n)] for topic in range(args.topics)]
    return {
        "train_seconds": wall,
        "train_cpu_seconds": cpu,
        "documents": len(texts),
        "tokens": sum(len(text) for text in texts),
        "vocabulary": len(dictionary),
        "topics": topics,
    }


def train_tomotopy(args: argparse.Namespace) -> dict:
    import tomotopy

    texts = load_token_lists(args.texts)
    model = tomotopy.LDAModel(k=args.topics, seed=args.seed)
    for text in texts:
        model.add_doc(text)

    wall_start, cpu_start = time.perf_counter(), cpu_seconds()
    model.train(iterations=args.iterations, workers=args.workers)
    wall, cpu = time.perf_counter() - wall_start, cpu_seconds() - cpu_start

    topics = [[word for word, _ in model.get_topic_words(topic, top_n=args.top_n)] for topic in range(args.topics)]
    return {
        "train_seconds": wall,
        "train_cpu_seconds": cpu,
        "documents": len(model.docs),
        "tokens": model.num_words,
        "vocabulary": model.num_vocabs,
        "log_likelihood_per_word": model.ll_per_word,
        "topics": topics,
    }


def coherence_gensim(args: argparse.Namespace) -> dict:
    """Score topics with gensim's CoherenceModel, timing the dictionary and the score."""
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel

    topics = [topic[: args.top_n] for topic in json.loads(args.topics_file.read_text(encoding="utf-8"))]
    texts = load_token_lists(args.texts)

    dictionary_start = time.perf_counter()
    dictionary = Dictionary(texts)
    score_start = time.perf_counter()
    model = CoherenceModel(
        topics=topics, texts=texts, dictionary=dictionary, coherence=args.measure, topn=args.top_n
    )
    # get_coherence() is aggregate_measures(get_coherence_per_topic()), so calling the two parts
    # returns the per-topic values as well without scoring twice.
    per_topic = model.get_coherence_per_topic()
    overall = model.aggregate_measures(per_topic)
    finished = time.perf_counter()
    return {
        "measure": args.measure,
        "top_n": args.top_n,
        "overall": float(overall),
        "per_topic": [float(value) for value in per_topic],
        "dictionary_seconds": score_start - dictionary_start,
        "coherence_seconds": finished - score_start,
        "seconds": finished - dictionary_start,
    }


def sweep_gensim(args: argparse.Namespace) -> dict:
    """Train gensim LdaModel for each K and score it with c_v, the usual gensim notebook sweep.

    CoherenceModel gets the model and its training dictionary, as in those notebooks. The texts
    are the unfiltered token lists. gensim keeps each window's positions and only ignores words
    outside the dictionary, so this gives the same c_v as a dictionary built from those texts.
    """
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel, LdaModel

    texts = load_token_lists(args.texts)
    unfiltered = load_token_lists(args.unfiltered)
    dictionary = Dictionary(texts)
    corpus = [dictionary.doc2bow(text) for text in texts]

    results = []
    sweep_start = time.perf_counter()
    for num_topics in range(args.k_min, args.k_max + 1):
        started = time.perf_counter()
        model = LdaModel(corpus=corpus, id2word=dictionary, num_topics=num_topics, random_state=args.seed)
        trained = time.perf_counter()
        c_v = CoherenceModel(
            model=model, texts=unfiltered, dictionary=dictionary, coherence="c_v", topn=args.top_n
        ).get_coherence()
        finished = time.perf_counter()
        results.append(
            {
                "topics": num_topics,
                "c_v": float(c_v),
                "train_seconds": trained - started,
                "coherence_seconds": finished - trained,
            }
        )
    return {"seconds": time.perf_counter() - sweep_start, "top_n": args.top_n, "per_k": results}


def preprocess_python(args: argparse.Namespace) -> dict:
    """Tokenize with a regular expression and drop short words and English stopwords."""
    stopwords = {line.strip() for line in args.stopwords.read_text(encoding="utf-8").splitlines() if line.strip()}
    with args.jsonl.open(encoding="utf-8") as file:
        documents = [json.loads(line)["text"] for line in file if line.strip()]
    size_bytes = sum(len(text.encode("utf-8")) for text in documents)

    word = re.compile(r"[a-z]+")
    started = time.perf_counter()
    tokens = 0
    for text in documents:
        kept = [token for token in word.findall(text.lower()) if len(token) >= 3 and token not in stopwords]
        tokens += len(kept)
    seconds = time.perf_counter() - started
    return {"documents": len(documents), "bytes": size_bytes, "tokens": tokens, "seconds": seconds}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    jobs = parser.add_subparsers(dest="job", required=True)

    train = jobs.add_parser("train", help="train one gensim or tomotopy model")
    train.add_argument("--model", required=True, choices=["LdaModel", "LdaMulticore", "tomotopy"])
    train.add_argument("--texts", required=True, type=Path, help="filtered token lists (JSONL)")
    train.add_argument("--topics", required=True, type=int, help="number of topics K")
    train.add_argument("--seed", required=True, type=int)
    train.add_argument("--passes", type=int, default=1, help="gensim passes over the corpus")
    train.add_argument("--iterations", type=int, default=1000, help="tomotopy Gibbs iterations")
    train.add_argument("--workers", type=int, default=2, help="LdaMulticore and tomotopy workers")
    train.add_argument("--top-n", type=int, default=20, help="top words per topic to output")

    coherence = jobs.add_parser("coherence", help="score topics with gensim's CoherenceModel")
    coherence.add_argument("--topics-file", required=True, type=Path, help='JSON [["word", ...], ...]')
    coherence.add_argument("--texts", required=True, type=Path, help="token lists (JSONL)")
    coherence.add_argument("--measure", default="c_v")
    coherence.add_argument("--top-n", type=int, default=10)

    sweep = jobs.add_parser("sweep", help="gensim LdaModel + c_v for each K")
    sweep.add_argument("--texts", required=True, type=Path, help="filtered token lists (JSONL)")
    sweep.add_argument("--unfiltered", required=True, type=Path, help="unfiltered token lists (JSONL)")
    sweep.add_argument("--k-min", type=int, default=3)
    sweep.add_argument("--k-max", type=int, default=19)
    sweep.add_argument("--seed", type=int, default=1)
    sweep.add_argument("--top-n", type=int, default=20, help="top words per topic that c_v scores")

    preprocess = jobs.add_parser("preprocess", help="the Python regex + stopword baseline")
    preprocess.add_argument("--jsonl", required=True, type=Path, help="corpus JSONL with a `text` field")
    preprocess.add_argument("--stopwords", required=True, type=Path, help="stopword list, one per line")

    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.job == "train":
        result = train_tomotopy(args) if args.model == "tomotopy" else train_gensim(args)
    elif args.job == "coherence":
        result = coherence_gensim(args)
    elif args.job == "sweep":
        result = sweep_gensim(args)
    else:
        result = preprocess_python(args)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
