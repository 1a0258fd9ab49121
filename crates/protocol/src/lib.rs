//! OVSP v1 wire types.
