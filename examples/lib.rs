//! Helpers shared by the example programs in this folder. The examples
//! themselves are the files next to this one; run them with
//! `cargo run --example NAME` from the repository root.
