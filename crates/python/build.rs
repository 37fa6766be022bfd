// Refuses a pyo3 configuration that would link a particular libpython into our binaries:
// the main binary must start without any, and the worker takes the environment's
// (`.cargo/config.toml` names the configuration that does this).
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
}
