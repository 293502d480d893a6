//! The corpus as `corpus.py` wrote it: one JSON document per line.

use eyre::Context;
use serde::Deserialize;
use std::{
    io::{BufRead, BufReader},
    path::Path,
};

/// One document of the corpus (a play, a manual page, a dictionary section).
#[derive(Debug, Deserialize)]
pub(crate) struct CorpusDocument {
    /// Position in the file, from 0.
    pub(crate) id: u64,
    /// Its UTF-8 text; its bytes are its tokens.
    pub(crate) text: String,
}

/// Reads `documents.jsonl`.
pub(crate) fn load(path: &Path) -> eyre::Result<Vec<CorpusDocument>> {
    let file = std::fs::File::open(path).wrap_err_with(|| format!("opening {}", path.display()))?;
    let mut documents = Vec::new();
    for (number, line) in BufReader::with_capacity(1 << 20, file).lines().enumerate() {
        let line = line?;
        let document: CorpusDocument = serde_json::from_str(&line)
            .wrap_err_with(|| format!("{} line {}", path.display(), number + 1))?;
        documents.push(document);
    }
    Ok(documents)
}

/// Size of the corpus.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Summary {
    pub(crate) documents: usize,
    /// Total bytes of text: the number of tokens, separators not counted.
    pub(crate) bytes: u64,
}

impl Summary {
    pub(crate) fn of(documents: &[CorpusDocument]) -> Self {
        Self {
            documents: documents.len(),
            bytes: documents.iter().map(|d| d.text.len() as u64).sum(),
        }
    }
}
