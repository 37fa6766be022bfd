//! Integration tests: run the real binary on fixture documents and snapshot what it writes.
//!
//! One test binary (`autotests = false`); each module is one area of behaviour.

mod agreement;
mod bad_input;
mod cache;
mod check;
mod fix;
mod formats;
mod gate;
mod guide;
mod hostile;
mod lsp;
mod markers;
mod packaging;
mod references;
mod reports;
mod sandbox;
mod shard;
mod support;
mod versions;
