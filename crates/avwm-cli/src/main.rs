//! The `avwm` command-line tool.
fn main() {}
