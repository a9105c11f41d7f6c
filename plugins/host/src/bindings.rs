//! Host bindings generated from `plugins/wit/topica.wit`, one module per world.
//!
//! The `topic-model` world is generated first, and the other worlds reuse its `types`
//! interface, so `PluginInfo` and `PluginError` are one Rust type across all worlds.

/// Bindings for the `topic-model` world, including the shared `types` interface.
pub(crate) mod topic_model {
    wasmtime::component::bindgen!({
        world: "topic-model",
        path: "../wit",
        additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
    });
}

/// Bindings for the `partitioned-topic-model` world. It includes `topic-model`, whose types and
/// `host` import are reused, so one linker serves both worlds.
pub(crate) mod partitioned_topic_model {
    wasmtime::component::bindgen!({
        world: "partitioned-topic-model",
        path: "../wit",
        with: {
            "topica:plugin/types": crate::bindings::topic_model::topica::plugin::types,
            "topica:plugin/topic-model-types": crate::bindings::topic_model::topica::plugin::topic_model_types,
            "topica:plugin/host": crate::bindings::topic_model::topica::plugin::host,
        },
    });
}

/// Bindings for the `tokenizer` world.
pub(crate) mod tokenizer {
    wasmtime::component::bindgen!({
        world: "tokenizer",
        path: "../wit",
        with: { "topica:plugin/types": crate::bindings::topic_model::topica::plugin::types },
    });
}

/// Bindings for the `token-filter` world.
pub(crate) mod token_filter {
    wasmtime::component::bindgen!({
        world: "token-filter",
        path: "../wit",
        with: { "topica:plugin/types": crate::bindings::topic_model::topica::plugin::types },
    });
}

/// Bindings for the `corpus-filter` world.
pub(crate) mod corpus_filter {
    wasmtime::component::bindgen!({
        world: "corpus-filter",
        path: "../wit",
        with: { "topica:plugin/types": crate::bindings::topic_model::topica::plugin::types },
    });
}

pub(crate) use topic_model::topica::plugin::types;
