//! Convene reference server library.
