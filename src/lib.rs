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
