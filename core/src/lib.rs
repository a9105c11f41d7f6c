//! Topica's pure-Rust core: the maths shared by the host and the Wasm plugins.
//!
//! Nothing here touches a file, a clock or a thread, so every module compiles to
//! `wasm32-unknown-unknown` as well as natively.

pub mod coherence;
pub mod dictionary;
pub mod lda;
pub mod model;
pub mod phrases;
