//! The open data files in `data/`: what the pages publish, in files that
//! spreadsheets, scripts and QDA tools open.

use super::OutputFile;
use crate::model::Study;

/// Every file of `data/`, built from the published study only.
pub(crate) fn files(study: &Study) -> Vec<OutputFile> {
    let _ = study;
    Vec::new()
}
