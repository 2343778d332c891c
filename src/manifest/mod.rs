//! The site manifest: types, loading with located errors, and validation.

pub mod load;
pub mod names;
pub mod spec;

pub use load::{Invalid, Site, load};
