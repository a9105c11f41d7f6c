//! `cargo xtask site [--release]`: builds the browser bundle into `<target>/site`, the folder
//! the server serves the web app's scripts, styles and static files from.
//!
//! Steps: compile `topica-hydrate` for `wasm32-unknown-unknown`, generate the JavaScript glue
//! with the `wasm-bindgen-cli-support` library (the `web` target, so the page can import it as
//! an ES module), copy `style/main.css` and everything in `public/`.
//!
//! Layout of the output, which `HydrationScripts` in Leptos 0.8 expects for the output name
//! `topica` when `LEPTOS_OUTPUT_NAME` is unset at compile time:
//!
//! ```text
//! <target>/site/favicon.svg        from public/
//! <target>/site/pkg/topica.js      wasm-bindgen glue
//! <target>/site/pkg/topica_bg.wasm the app
//! <target>/site/pkg/topica.css     from style/main.css
//! ```
//!
//! Without `--release` the Wasm is built with the `dev` profile. With `--release` it is built
//! with a `web-release` profile defined on the command line: release settings with
//! `opt-level = "s"`, LTO and one codegen unit. That build is slower, but its Wasm is about a
//! quarter of the size (1.2 MB against 4.8 MB when first measured).

use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use wasm_bindgen_cli_support::Bindgen;

use crate::{Workspace, run};

const PACKAGE: &str = "topica-hydrate";
const TARGET: &str = "wasm32-unknown-unknown";
/// File stem of the generated files. The server's `LeptosOptions::output_name` must match.
const OUTPUT_NAME: &str = "topica";
/// Output folder relative to the target directory, and the server's default site root.
const SITE_FOLDER: &str = "site";
/// Folder below the site root that contains the bundle. It must match the server's
/// `LeptosOptions::site_pkg_dir`.
const PKG_FOLDER: &str = "pkg";

/// Profile for `--release`. Its name must differ from `SITE_FOLDER`, because cargo writes
/// host artifacts of a custom profile to `<target>/<profile name>`.
const RELEASE_PROFILE: &str = "web-release";
/// Settings of `RELEASE_PROFILE`, passed with `--config` so the workspace manifest needs no
/// profile that only this task uses.
const RELEASE_PROFILE_SETTINGS: [&str; 6] = [
    "inherits=\"release\"",
    "opt-level=\"s\"",
    "codegen-units=1",
    "lto=true",
    "debug=false",
    "panic=\"abort\"",
];

/// Builds the bundle. `--release` among the task's arguments selects the size-optimised build.
pub fn build(workspace: &Workspace) -> Result<()> {
    let release = std::env::args()
        .skip(2)
        .any(|argument| argument == "--release");
    let started = Instant::now();

    let wasm = compile(workspace, release)?;

    let site = workspace.target_dir.join(SITE_FOLDER);
    let pkg = site.join(PKG_FOLDER);
    // Stale files from an earlier build (old snippets, for example) must not be served.
    if pkg.exists() {
        fs::remove_dir_all(&pkg)
            .with_context(|| format!("failed to remove the old bundle {}", pkg.display()))?;
    }
    fs::create_dir_all(&pkg).with_context(|| format!("failed to create {}", pkg.display()))?;

    Bindgen::new()
        .input_path(&wasm)
        .web(true)?
        .out_name(OUTPUT_NAME)
        .typescript(false)
        .debug(!release)
        .generate(&pkg)
        .with_context(|| format!("wasm-bindgen failed on {}", wasm.display()))?;

    let stylesheet = workspace.root.join("style").join("main.css");
    let stylesheet_copy = pkg.join(format!("{OUTPUT_NAME}.css"));
    fs::copy(&stylesheet, &stylesheet_copy).with_context(|| {
        format!(
            "failed to copy {} to {}",
            stylesheet.display(),
            stylesheet_copy.display()
        )
    })?;
    copy_folder(&workspace.root.join("public"), &site)?;

    let wasm_output = pkg.join(format!("{OUTPUT_NAME}_bg.wasm"));
    let wasm_bytes = fs::metadata(&wasm_output)
        .with_context(|| format!("wasm-bindgen wrote no {}", wasm_output.display()))?
        .len();
    println!(
        "site built in {:.0?}: {} ({wasm_bytes} bytes of Wasm)",
        started.elapsed(),
        site.display()
    );
    Ok(())
}

/// Compiles the hydrate crate and returns the path of the core Wasm module cargo wrote.
fn compile(workspace: &Workspace, release: bool) -> Result<std::path::PathBuf> {
    let mut cargo = workspace.cargo();
    cargo.args(["build", "--package", PACKAGE, "--target", TARGET]);
    let profile_folder = if release {
        for setting in RELEASE_PROFILE_SETTINGS {
            cargo
                .arg("--config")
                .arg(format!("profile.{RELEASE_PROFILE}.{setting}"));
        }
        cargo.args(["--profile", RELEASE_PROFILE]);
        RELEASE_PROFILE
    } else {
        "debug"
    };
    run(&mut cargo)?;

    let file = format!("{}.wasm", PACKAGE.replace('-', "_"));
    Ok(workspace
        .target_dir
        .join(TARGET)
        .join(profile_folder)
        .join(file))
}

/// Copies every file below `source` into `destination`, keeping relative paths. A missing
/// `source` copies nothing.
fn copy_folder(source: &Path, destination: &Path) -> Result<()> {
    if !source.exists() {
        return Ok(());
    }

    for entry in
        fs::read_dir(source).with_context(|| format!("failed to read {}", source.display()))?
    {
        let entry = entry.with_context(|| format!("failed to read {}", source.display()))?;
        let from = entry.path();
        let to = destination.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&to)
                .with_context(|| format!("failed to create {}", to.display()))?;
            copy_folder(&from, &to)?;
        } else {
            fs::copy(&from, &to).with_context(|| {
                format!("failed to copy {} to {}", from.display(), to.display())
            })?;
        }
    }
    Ok(())
}
