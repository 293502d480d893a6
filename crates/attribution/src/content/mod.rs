//! Contribution formats, normalisation and near-duplicate detection.
