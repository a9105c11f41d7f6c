//! Building blocks shared by the pages.

mod error;
mod format;
mod sparkline;
mod topics;

pub use error::{ErrorList, LoadError};
pub use format::{format_score, format_timestamp};
pub use sparkline::Sparkline;
pub use topics::TopicsPanel;
