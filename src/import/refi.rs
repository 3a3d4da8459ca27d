//! REFI-QDA: `.qdpx` projects (a zip of `project.qde` and `sources/`), bare
//! `.qde` project files and `.qdc` codebooks.

use super::{Errors, Incoming, RefiOptions};

/// Reads a REFI-QDA file into [`Incoming`].
pub fn read(opts: &RefiOptions) -> Result<Incoming, Errors> {
    let _ = opts;
    Ok(Incoming::default())
}
