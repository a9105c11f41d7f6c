//! Embeds the built-in plugin components that `cargo xtask plugins` writes to
//! `<target>/topica-plugins/`, or to the folder named by `TOPICA_PLUGIN_DIR`.
//!
//! The script writes `builtins.rs` into `OUT_DIR` with one `include_bytes!` per built-in plugin,
//! and sets `TOPICA_PLUGIN_DIR` for the crate so that tests can load test-only plugins, such as
//! `misbehave.wasm`, from the same folder without embedding them.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Built-in plugins, by the file name stem that `cargo xtask plugins` writes.
const BUILTINS: [&str; 7] = [
    "tokenizer",
    "lowercase",
    "alpha-filter",
    "stopwords",
    "stemmer",
    "phrases",
    "lda",
];

fn main() {
    println!("cargo:rerun-if-env-changed=TOPICA_PLUGIN_DIR");
    println!("cargo:rerun-if-changed=build.rs");

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let plugin_dir = match env::var_os("TOPICA_PLUGIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => target_dir(&out_dir).join("topica-plugins"),
    };

    let missing: Vec<String> = BUILTINS
        .iter()
        .map(|name| plugin_dir.join(format!("{name}.wasm")))
        .filter(|path| !path.is_file())
        .map(|path| path.display().to_string())
        .collect();
    if !missing.is_empty() {
        println!(
            "cargo::error=built-in plugins not found in {}: run `cargo xtask plugins` first (with \
             the same CARGO_TARGET_DIR), or set TOPICA_PLUGIN_DIR to the folder that contains \
             them. Missing: {}",
            plugin_dir.display(),
            missing.join(", ")
        );
        return;
    }

    let mut source = String::from(
        "/// Built-in plugin components by name, embedded at build time.\n\
         pub(crate) const BUILTINS: [(&str, &[u8]); ",
    );
    writeln!(source, "{}] = [", BUILTINS.len()).unwrap();
    for name in BUILTINS {
        let path = plugin_dir.join(format!("{name}.wasm"));
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            source,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    source.push_str("];\n");
    fs::write(out_dir.join("builtins.rs"), source)
        .expect("failed to write builtins.rs into OUT_DIR");

    println!("cargo:rustc-env=TOPICA_PLUGIN_DIR={}", plugin_dir.display());
}

/// Finds cargo's target directory above `OUT_DIR` (`<target>[/<triple>]/<profile>/build/<crate>/out`):
/// the nearest ancestor that contains the `CACHEDIR.TAG` file cargo writes there.
fn target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .or_else(|| out_dir.ancestors().nth(4))
        .unwrap_or(out_dir)
        .to_path_buf()
}
