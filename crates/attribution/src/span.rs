//! Span attribution.
