//! Convene reference server library.

pub mod media;
