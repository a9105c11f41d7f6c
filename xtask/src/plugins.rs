//! `cargo xtask plugins`: compiles every plugin crate to a core Wasm module for
//! `wasm32-unknown-unknown` with the `plugin` profile, wraps each module into a component with
//! `wit-component`, and writes `<target>/topica-plugins/<name>.wasm`, the folder that
//! `topica-plugin-host`'s build script embeds the built-in plugins from.
//!
//! A plugin that fails to build does not stop the others: the task reports every failure at
//! the end and then exits with an error.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wit_component::ComponentEncoder;

use crate::{Workspace, run};

/// Plugin crate folders below `plugins/`. The file name is the folder's last component, and the
/// package is `topica-plugin-<file name>`. `testing/misbehave` is for the host's tests only.
const PLUGINS: [&str; 8] = [
    "tokenizer",
    "lowercase",
    "alpha-filter",
    "stopwords",
    "stemmer",
    "phrases",
    "lda",
    "testing/misbehave",
];

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "plugin";
/// Fixed-width SIMD lets the compiler vectorise the sampler's loops over the topics, as it does
/// natively with SSE2. In the benchmark it made Wasm training at 50 topics about 10 % faster.
/// wasmtime enables SIMD by default, and the models stay the same bit for bit.
const RUSTFLAGS: [&str; 2] = ["-C", "target-feature=+simd128"];

/// Output folder for components, relative to the target directory.
pub const OUTPUT_FOLDER: &str = "topica-plugins";

struct Plugin {
    /// File name without `.wasm`, such as `alpha-filter`.
    name: &'static str,
    /// Cargo package, such as `topica-plugin-alpha-filter`.
    package: String,
}

impl Plugin {
    fn new(folder: &'static str) -> Self {
        let name = folder.rsplit('/').next().unwrap_or(folder);
        Self {
            name,
            package: format!("topica-plugin-{name}"),
        }
    }

    /// Path of the core module cargo writes for this package.
    fn core_module(&self, workspace: &Workspace) -> PathBuf {
        let file = format!("{}.wasm", self.package.replace('-', "_"));
        workspace.target_dir.join(TARGET).join(PROFILE).join(file)
    }
}

/// Builds every plugin and writes its component; fails after the loop if any plugin failed.
pub fn build(workspace: &Workspace) -> Result<()> {
    let plugins: Vec<Plugin> = PLUGINS.into_iter().map(Plugin::new).collect();
    let output = workspace.target_dir.join(OUTPUT_FOLDER);
    fs::create_dir_all(&output)
        .with_context(|| format!("failed to create the plugin folder {}", output.display()))?;

    // One cargo run builds the crates in parallel. When it fails, building each crate on its
    // own finds the failing ones and still produces the others.
    let all_built = compile(workspace, plugins.iter()).is_ok();

    let mut failures = Vec::new();
    for plugin in &plugins {
        let result = if all_built {
            Ok(())
        } else {
            compile(workspace, std::iter::once(plugin))
        };
        let result = result.and_then(|()| componentize(workspace, plugin, &output));
        match result {
            Ok(bytes) => println!("{:<18} {bytes:>9} bytes", format!("{}.wasm", plugin.name)),
            Err(error) => {
                println!("{:<18} failed: {error:#}", format!("{}.wasm", plugin.name));
                failures.push(plugin.name);
            }
        }
    }

    println!("components are in {}", output.display());
    if !failures.is_empty() {
        bail!(
            "{} of {} plugins failed to build: {}; the other components are in {}",
            failures.len(),
            plugins.len(),
            failures.join(", "),
            output.display()
        );
    }
    Ok(())
}

fn compile<'a>(workspace: &Workspace, plugins: impl Iterator<Item = &'a Plugin>) -> Result<()> {
    let mut command = workspace.cargo();
    command.args(["build", "--target", TARGET, "--profile", PROFILE]);
    // Flags for this build only: the browser bundle, built for the same target, keeps its own.
    command.env("CARGO_ENCODED_RUSTFLAGS", RUSTFLAGS.join("\u{1f}"));
    for plugin in plugins {
        command.args(["-p", &plugin.package]);
    }
    run(&mut command)
}

/// Turns the plugin's core module into a validated component and writes it; returns its size.
fn componentize(workspace: &Workspace, plugin: &Plugin, output: &Path) -> Result<usize> {
    let core_path = plugin.core_module(workspace);
    let core = fs::read(&core_path)
        .with_context(|| format!("failed to read the core module {}", core_path.display()))?;
    let component = ComponentEncoder::default()
        .module(&core)
        .with_context(|| {
            format!(
                "{} has no valid component-type section",
                core_path.display()
            )
        })?
        .validate(true)
        .encode()
        .with_context(|| format!("failed to encode {} as a component", core_path.display()))?;

    // Writing identical bytes would still change the file's modification time, which makes
    // cargo rebuild the host crate that embeds these files.
    let path = output.join(format!("{}.wasm", plugin.name));
    let unchanged = fs::read(&path).is_ok_and(|existing| existing == component);
    if !unchanged {
        fs::write(&path, &component)
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    Ok(component.len())
}
