//! One module per route.

mod home;
mod not_found;
mod run;

pub use home::HomePage;
pub use not_found::NotFound;
pub use run::RunPage;
