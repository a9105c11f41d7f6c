//! TODO: being written.
use anyhow::Result;
pub fn build(_workspace: &crate::Workspace) -> Result<()> { todo!() }
