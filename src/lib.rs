//! thematic: a static-site generator for qualitative research findings.
//!
//! The pipeline runs one way: [`load`] reads the study folder, [`model`]
//! validates it into a [`model::Study`], [`render`] turns that into pages, and
//! [`output`] writes them atomically. See ARCHITECTURE.md for the map.

#![warn(missing_docs, rust_2018_idioms)]

pub mod diagnostics;
pub mod import;
pub mod init;
mod json;
pub mod load;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod privacy;
pub mod progress;
pub mod render;
pub mod search;
pub mod serve;

/// Drops `items` on every core. A large study's quotes, records and cached HTML
/// are hundreds of thousands of allocations, which one thread takes tens of
/// milliseconds to free while the other cores wait.
pub(crate) fn drop_in_parallel<T: Send>(items: Vec<T>) {
    use rayon::prelude::*;
    items.into_par_iter().for_each(drop);
}
