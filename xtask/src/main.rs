//! Build tasks that cargo alone cannot express: `cargo xtask plugins` compiles the built-in
//! plugins to WebAssembly components, `cargo xtask site` builds the browser bundle, and
//! `cargo xtask all` does both.

mod plugins;
mod site;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Paths every task needs.
pub struct Workspace {
    /// The workspace root (the folder holding the top-level Cargo.toml).
    pub root: PathBuf,
    /// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
    pub target_dir: PathBuf,
}

impl Workspace {
    fn locate() -> Result<Self> {
        // `cargo run` sets CARGO_MANIFEST_DIR for the process, and it names this checkout. The
        // compile-time value can name another checkout, because cargo reuses a binary built
        // there when both share one CARGO_TARGET_DIR. It is only the fallback.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        let root = manifest_dir
            .parent()
            .context("xtask must live one folder below the workspace root")?
            .to_path_buf();
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        Ok(Self { root, target_dir })
    }

    /// Returns a `cargo` command run from the workspace root.
    pub fn cargo(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command.current_dir(&self.root);
        command
    }
}

/// Runs a command and fails with its description when it exits unsuccessfully.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("failed to start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

fn main() -> Result<()> {
    let workspace = Workspace::locate()?;
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "plugins" => plugins::build(&workspace),
        "site" => site::build(&workspace),
        "all" => {
            plugins::build(&workspace)?;
            site::build(&workspace)
        }
        other => bail!("unknown task {other:?}: expected `plugins`, `site` or `all`"),
    }
}
