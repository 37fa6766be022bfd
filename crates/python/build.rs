// Refuses a pyo3 configuration that would link a particular libpython into our binaries:
// the main binary must start without any, and the worker takes the environment's
// (`.cargo/config.toml` names the configuration that does this). Also stamps the build, so
// that `snipcheck` never talks to a `snipcheck-worker` of another build (`cargo run` builds
// only the binary it runs, and could leave a stale worker beside it).
use std::hash::{Hash, Hasher};
use std::path::Path;

fn main() {
    let config = pyo3_build_config::get();
    #[allow(deprecated)] // `abi3()` says what `target_abi()` says, in one call
    let stable_abi = config.abi3();
    if !stable_abi || !config.suppress_build_script_link_lines() {
        panic!(
            "pyo3 must be configured for the stable ABI without link lines: build from the \
             repository (its .cargo/config.toml sets PYO3_CONFIG_FILE=crates/python/pyo3-abi3.cfg)"
        );
    }
    // What the two processes share: this crate's code and the record types it sends.
    let mut hasher = std::hash::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    for folder in ["src", "../record/src"] {
        println!("cargo:rerun-if-changed={folder}");
        hash_folder(Path::new(folder), &mut hasher);
    }
    println!(
        "cargo:rustc-env=SNIPCHECK_BUILD_ID={:016x}",
        hasher.finish()
    );
}

fn hash_folder(folder: &Path, hasher: &mut impl Hasher) {
    let mut entries: Vec<_> = std::fs::read_dir(folder)
        .map(|read| read.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            hash_folder(&path, hasher);
        } else if let Ok(bytes) = std::fs::read(&path) {
            path.to_string_lossy().hash(hasher);
            bytes.hash(hasher);
        }
    }
}
