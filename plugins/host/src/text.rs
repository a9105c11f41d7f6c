//! Handles for the text steps: tokenizers, token filters and corpus filters. Each handle owns
//! one configured instance and reuses it for every batch.

use std::sync::Arc;

use crate::bindings;
use crate::error::Error;
use crate::host::HostInner;
use crate::limits::SandboxLimits;
use crate::plugin::{PluginKind, PluginRef};
use crate::sandbox::Sandbox;

/// Fails with [`Error::WrongKind`] unless `plugin` is of the `expected` kind.
pub(crate) fn expect_kind(plugin: &PluginRef, expected: PluginKind) -> Result<(), Error> {
    if plugin.kind() == expected {
        return Ok(());
    }
    Err(Error::WrongKind {
        plugin: plugin.name().to_owned(),
        expected,
        found: plugin.kind(),
    })
}

/// Creates a sandbox for `plugin` and instantiates it, then builds the world's typed bindings
/// with `bind`.
fn instantiate<B>(
    host: Arc<HostInner>,
    plugin: &PluginRef,
    limits: &SandboxLimits,
    bind: impl FnOnce(
        &mut wasmtime::Store<crate::sandbox::StoreData>,
        &wasmtime::component::Instance,
    ) -> wasmtime::Result<B>,
) -> Result<(Sandbox, B), Error> {
    let mut sandbox = Sandbox::new(host.clone(), plugin, limits)?;
    let instance = sandbox.instantiate(&host)?;
    let bindings =
        bind(&mut sandbox.store, &instance).map_err(|error| Error::InvalidComponent {
            plugin: plugin.name().to_owned(),
            reason: format!("{error:#}"),
        })?;
    Ok((sandbox, bindings))
}

/// A configured tokenizer instance.
pub struct Tokenizer {
    sandbox: Sandbox,
    bindings: bindings::tokenizer::Tokenizer,
}

impl Tokenizer {
    pub(crate) fn new(
        host: Arc<HostInner>,
        plugin: &PluginRef,
        settings: &str,
        limits: &SandboxLimits,
    ) -> Result<Self, Error> {
        expect_kind(plugin, PluginKind::Tokenizer)?;
        let (mut sandbox, bindings) = instantiate(host, plugin, limits, |store, instance| {
            bindings::tokenizer::Tokenizer::new(store, instance)
        })?;
        sandbox.call(|store| bindings.call_configure(store, settings))?;
        Ok(Self { sandbox, bindings })
    }

    /// Splits each text into tokens, in one call under one deadline.
    pub fn tokenize(&mut self, texts: &[String]) -> Result<Vec<Vec<String>>, Error> {
        let bindings = &self.bindings;
        self.sandbox
            .call(|store| bindings.call_tokenize(store, texts))
    }

    /// Returns the plugin this instance runs.
    pub fn plugin(&self) -> &PluginRef {
        &self.sandbox.plugin
    }
}

/// A configured token-filter instance.
pub struct TokenFilter {
    sandbox: Sandbox,
    bindings: bindings::token_filter::TokenFilter,
}

impl TokenFilter {
    pub(crate) fn new(
        host: Arc<HostInner>,
        plugin: &PluginRef,
        settings: &str,
        limits: &SandboxLimits,
    ) -> Result<Self, Error> {
        expect_kind(plugin, PluginKind::TokenFilter)?;
        let (mut sandbox, bindings) = instantiate(host, plugin, limits, |store, instance| {
            bindings::token_filter::TokenFilter::new(store, instance)
        })?;
        sandbox.call(|store| bindings.call_configure(store, settings))?;
        Ok(Self { sandbox, bindings })
    }

    /// Rewrites each document's tokens, in one call under one deadline.
    pub fn apply(&mut self, docs: &[Vec<String>]) -> Result<Vec<Vec<String>>, Error> {
        let bindings = &self.bindings;
        self.sandbox.call(|store| bindings.call_apply(store, docs))
    }

    /// Returns the plugin this instance runs.
    pub fn plugin(&self) -> &PluginRef {
        &self.sandbox.plugin
    }
}

/// A configured corpus-filter instance. Call [`CorpusFilter::fit`] on every batch of the
/// corpus first, then [`CorpusFilter::apply`] on every batch.
pub struct CorpusFilter {
    sandbox: Sandbox,
    bindings: bindings::corpus_filter::CorpusFilter,
}

impl CorpusFilter {
    pub(crate) fn new(
        host: Arc<HostInner>,
        plugin: &PluginRef,
        settings: &str,
        limits: &SandboxLimits,
    ) -> Result<Self, Error> {
        expect_kind(plugin, PluginKind::CorpusFilter)?;
        let (mut sandbox, bindings) = instantiate(host, plugin, limits, |store, instance| {
            bindings::corpus_filter::CorpusFilter::new(store, instance)
        })?;
        sandbox.call(|store| bindings.call_configure(store, settings))?;
        Ok(Self { sandbox, bindings })
    }

    /// Adds a batch of documents to the statistics.
    pub fn fit(&mut self, docs: &[Vec<String>]) -> Result<(), Error> {
        let bindings = &self.bindings;
        self.sandbox.call(|store| bindings.call_fit(store, docs))
    }

    /// Rewrites a batch of documents with the statistics fitted so far.
    pub fn apply(&mut self, docs: &[Vec<String>]) -> Result<Vec<Vec<String>>, Error> {
        let bindings = &self.bindings;
        self.sandbox.call(|store| bindings.call_apply(store, docs))
    }

    /// Returns the plugin this instance runs.
    pub fn plugin(&self) -> &PluginRef {
        &self.sandbox.plugin
    }
}
