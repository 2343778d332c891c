//! Integration tests: one binary, one module per scenario family.
