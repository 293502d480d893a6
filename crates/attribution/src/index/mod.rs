//! The suffix-array index.
