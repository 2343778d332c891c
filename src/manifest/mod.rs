//! The site manifest: types, loading with located errors, and validation.

pub mod names;
pub mod spec;
pub mod load;

pub use load::{Invalid, Site, load};
