CREATE TABLE corpora (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    version TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    document_count INTEGER NOT NULL
);

CREATE TABLE documents (
    corpus_id INTEGER NOT NULL REFERENCES corpora(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    collection TEXT,
    date TEXT,
    title TEXT,
    file_name TEXT,
    text TEXT NOT NULL,
    char_count INTEGER NOT NULL,
    word_count INTEGER NOT NULL,
    PRIMARY KEY (corpus_id, position),
    UNIQUE (corpus_id, doc_id)
);

CREATE TABLE pipelines (
    corpus_id INTEGER NOT NULL REFERENCES corpora(id) ON DELETE CASCADE,
    pipeline_id TEXT NOT NULL,
    description TEXT NOT NULL,
    dictionary TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (corpus_id, pipeline_id)
);

CREATE TABLE tokens (
    corpus_id INTEGER NOT NULL,
    pipeline_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    tokens TEXT NOT NULL,
    PRIMARY KEY (corpus_id, pipeline_id, position),
    FOREIGN KEY (corpus_id, pipeline_id) REFERENCES pipelines(corpus_id, pipeline_id) ON DELETE CASCADE
);
