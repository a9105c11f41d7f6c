"""Write the gensim reference values that the `topica-core` integration tests compare against.

Run from the repository root:

    /opt/topica-py/bin/python core/tests/gensim/make_reference.py

Versions used for the committed JSON: Python 3.11, gensim 4.4.0 (with its numpy and scipy).
The script reads `lee/lee_background.jsonl` and `stopwords/english.txt` from the corpora folder
(`/work/shared/corpora`, or the folder named by the `TOPICA_CORPORA` environment variable) and
writes four files next to itself:

- `lee_texts.json`: the tokenized documents (`raw`: lowercase `[a-z]+` tokens, `texts`: the
  same without stopwords and tokens shorter than 3 characters).
- `dictionary.json`: `Dictionary(texts)` ids, dfs and cfs, and `filter_extremes` results.
- `phrases.json`: `Phrases` vocabulary sizes, exported phrases and transformed documents.
- `coherence.json`: `CoherenceModel` values for fixed topics, per topic and overall.

The outputs are deterministic: no randomness is used except `random.Random(7)`, which picks
the words of the "random" topics.
"""

import json
import os
import random
import re
import sys
from pathlib import Path

import gensim
from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel
from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

OUT_DIR = Path(__file__).resolve().parent
CORPORA = Path(os.environ.get("TOPICA_CORPORA", "/work/shared/corpora"))

# Number of documents whose phrase-transformed tokens are stored (all documents are used to fit).
PHRASED_DOCS_STORED = 80


def tokenize(text):
    """Lowercase `text` and return its `[a-z]+` tokens."""
    return re.findall(r"[a-z]+", text.lower())


def write_json(name, value):
    path = OUT_DIR / name
    with open(path, "w", encoding="utf-8") as out:
        json.dump(value, out, ensure_ascii=False, separators=(",", ":"))
        out.write("\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def dictionary_state(dictionary):
    """Return the tokens in id order with their dfs and cfs."""
    tokens = [None] * len(dictionary)
    for token, token_id in dictionary.token2id.items():
        tokens[token_id] = token
    return {
        "tokens": tokens,
        "dfs": [dictionary.dfs.get(i, 0) for i in range(len(tokens))],
        "cfs": [dictionary.cfs.get(i, 0) for i in range(len(tokens))],
        "num_docs": dictionary.num_docs,
        "num_pos": dictionary.num_pos,
        "num_nnz": dictionary.num_nnz,
    }


def make_dictionary_reference(texts):
    dictionary = Dictionary(texts)
    settings = [
        {"no_below": 5, "no_above": 0.5, "keep_n": 100000, "keep_tokens": None},
        {"no_below": 2, "no_above": 0.3, "keep_n": 500, "keep_tokens": None},
        # no_above = 1.0 is inclusive: words in every document stay.
        {"no_below": 1, "no_above": 1.0, "keep_n": None, "keep_tokens": None},
        # keep_tokens stay even when rare ("bushfire"), frequent ("said") or cut by keep_n.
        {"no_below": 3, "no_above": 0.1, "keep_n": 200,
         "keep_tokens": ["said", "bushfire", "zzz_not_a_word", "qaeda"]},
        # Every token is removed.
        {"no_below": 1000, "no_above": 0.5, "keep_n": 100000, "keep_tokens": None},
        # no_above * num_docs = 0.01 * 300 = 3 documents at most.
        {"no_below": 1, "no_above": 0.01, "keep_n": 0, "keep_tokens": None},
        {"no_below": 1, "no_above": 0.01, "keep_n": 50, "keep_tokens": None},
    ]
    filtered = []
    for setting in settings:
        copy = Dictionary(texts)
        copy.filter_extremes(**setting)
        filtered.append({"settings": setting, "result": dictionary_state(copy)})

    bow_probe = ["fire", "fire", "zzz_unknown", "sydney", "said", "fire", "bushfire"]
    return {
        "full": dictionary_state(dictionary),
        "filter_extremes": filtered,
        "doc2bow": {"tokens": bow_probe, "bow": dictionary.doc2bow(bow_probe)},
    }


def make_phrases_reference(raw, texts):
    cases = [
        {"name": "defaults_on_texts", "input": "texts", "settings": {}},
        {"name": "connectors_on_raw", "input": "raw",
         "settings": {"min_count": 3, "threshold": 2.0,
                      "connector_words": sorted(ENGLISH_CONNECTOR_WORDS)}},
        {"name": "delimiter_on_raw", "input": "raw",
         "settings": {"min_count": 2, "threshold": 20.0, "delimiter": "--"}},
        # A small max_vocab_size forces gensim's pruning of rare entries while counting.
        {"name": "pruned_vocab_on_raw", "input": "raw",
         "settings": {"min_count": 2, "threshold": 5.0, "max_vocab_size": 20000,
                      "connector_words": sorted(ENGLISH_CONNECTOR_WORDS)}},
    ]
    results = []
    for case in cases:
        sentences = raw if case["input"] == "raw" else texts
        kwargs = dict(case["settings"])
        if "connector_words" in kwargs:
            kwargs["connector_words"] = frozenset(kwargs["connector_words"])
        model = Phrases(sentences, **kwargs)
        exported = model.export_phrases()
        results.append({
            **case,
            "vocab_len": len(model.vocab),
            "corpus_word_count": model.corpus_word_count,
            "min_reduce": model.min_reduce,
            "phrases": dict(sorted(exported.items())),
            "phrased": [model[s] for s in sentences[:PHRASED_DOCS_STORED]],
            "phrase_token_count": sum(
                1 for s in sentences for t in model[s] if model.delimiter in t
            ),
        })
    return results


THEMED_TOPICS = [
    ["fire", "fires", "firefighters", "sydney", "wales", "homes", "blaze", "winds", "bushfires",
     "south", "mountains", "blue", "properties", "crews", "areas", "weather", "conditions",
     "rural", "service", "hill"],
    ["afghanistan", "taliban", "laden", "bin", "osama", "qaeda", "forces", "military", "afghan",
     "kandahar", "united", "states", "war", "attacks", "pakistan", "troops", "tora", "bora",
     "fighters", "alliance"],
    ["israeli", "palestinian", "arafat", "yasser", "hamas", "gaza", "israel", "suicide",
     "militants", "west", "bank", "peace", "authority", "security", "sharon", "attacks",
     "killed", "violence", "jerusalem", "attack"],
    ["test", "cricket", "match", "wickets", "australia", "south", "africa", "day", "runs",
     "first", "innings", "team", "series", "waugh", "bowling", "england", "second", "captain",
     "play", "africans"],
    ["government", "minister", "federal", "howard", "prime", "labor", "election", "party",
     "opposition", "leader", "policy", "crean", "states", "national", "commission", "workers",
     "union", "industrial", "qantas", "company"],
]

# A word the Lee texts never contain. Gensim silently drops topic words that are missing from the
# dictionary, so with `Dictionary(texts)` it scores this topic on its other 19 words.
MISSING_WORD = "xylophonist"


def make_topics(texts):
    vocabulary = Dictionary(texts)
    for topic in THEMED_TOPICS:
        for word in topic:
            if word not in vocabulary.token2id:
                sys.exit(f"themed topic word {word!r} is not in the Lee texts: pick another word")

    frequent = Dictionary(texts)
    frequent.filter_extremes(no_below=5, no_above=0.5, keep_n=1500)
    candidates = sorted(frequent.token2id)
    rng = random.Random(7)
    random_topics = [rng.sample(candidates, 20) for _ in range(3)]

    with_missing = list(THEMED_TOPICS[0][:4]) + [MISSING_WORD] + list(THEMED_TOPICS[2][:15])
    return THEMED_TOPICS + random_topics + [with_missing]


def gensim_coherence(topics, texts, measure, top_n, window_size):
    dictionary = Dictionary(texts)
    truncated = [topic[:top_n] for topic in topics]
    model = CoherenceModel(
        topics=truncated, texts=texts, dictionary=dictionary, coherence=measure, topn=top_n,
        window_size=window_size, processes=1,
    )
    per_topic = [float(value) for value in model.get_coherence_per_topic()]
    overall = float(model.get_coherence())
    return per_topic, overall


def make_coherence_reference(texts, filtered_texts, topics):
    cases = []
    runs = [
        (measure, top_n, None) for measure in ("c_v", "u_mass", "c_npmi", "c_uci")
        for top_n in (10, 20)
    ] + [("c_v", 10, 50), ("c_npmi", 20, 30), ("c_uci", 10, 3)]
    for corpus_name, corpus in (("texts", texts), ("filtered_texts", filtered_texts)):
        vocabulary = set(word for text in corpus for word in text)
        for measure, top_n, window_size in runs:
            missing = [
                {"topic": t, "word": w}
                for t, topic in enumerate(topics) for w in topic[:top_n] if w not in vocabulary
            ]
            per_topic, overall = gensim_coherence(topics, corpus, measure, top_n, window_size)
            cases.append({
                "texts": corpus_name, "measure": measure, "top_n": top_n,
                "window_size": window_size, "per_topic": per_topic, "overall": overall,
                "missing_words": missing,
            })
            print(f"{corpus_name} {measure} top_n={top_n} window={window_size}: {overall:.6f}")
    return {"topics": topics, "missing_word": MISSING_WORD, "cases": cases}


def main():
    print(f"gensim {gensim.__version__}, Python {sys.version.split()[0]}")
    stopwords = set((CORPORA / "stopwords" / "english.txt").read_text(encoding="utf-8").split())
    with open(CORPORA / "lee" / "lee_background.jsonl", encoding="utf-8") as lines:
        documents = [json.loads(line)["text"] for line in lines]

    raw = [tokenize(document) for document in documents]
    texts = [[t for t in tokens if len(t) >= 3 and t not in stopwords] for tokens in raw]
    write_json("lee_texts.json", {
        "source": "lee/lee_background.jsonl",
        "preprocessing": "raw: lowercase, regex [a-z]+; texts: raw without tokens shorter "
                         "than 3 characters and without stopwords/english.txt",
        "raw": raw,
        "texts": texts,
    })

    dictionary_reference = make_dictionary_reference(texts)
    write_json("dictionary.json", {"gensim": gensim.__version__, **dictionary_reference})

    write_json("phrases.json", {
        "gensim": gensim.__version__,
        "phrased_docs_stored": PHRASED_DOCS_STORED,
        "cases": make_phrases_reference(raw, texts),
    })

    # The u_mass input the product uses: the training documents after filter_extremes defaults.
    kept = set(dictionary_reference["filter_extremes"][0]["result"]["tokens"])
    filtered_texts = [[t for t in text if t in kept] for text in texts]
    topics = make_topics(texts)
    write_json("coherence.json", {
        "gensim": gensim.__version__,
        "filtered_texts": "texts keeping only the tokens of filter_extremes case 0",
        **make_coherence_reference(texts, filtered_texts, topics),
    })


if __name__ == "__main__":
    main()
