//! The site manifest: types, loading with located errors, and validation.
//!
//! `load` → (`parse` → `validate`) → `Site`: a `Site` exists only for a manifest without
//! problems; otherwise `Invalid` lists every problem as `FILE:LINE:COL: path: message`.

pub mod claims;
pub mod diagnostic;
pub mod diff;
pub mod duration;
pub mod each;
pub mod load;
pub mod names;
pub mod parse;
pub mod positions;
pub mod reference;
pub mod sample;
pub mod schema;
pub mod secrets;
pub mod spec;
pub mod validate;
pub mod window;

pub use diagnostic::{Diagnostic, Invalid, Position};
pub use load::{MAX_MANIFEST_BYTES, Site, load, load_bytes, load_str, manifest_files};
pub use schema::schema_json;
