// Links against the libpython found at build time, and records which one, so that the
// environment snipcheck creates uses the same interpreter version as the one embedded.
fn main() {
    // Without an rpath the loader silently picks whichever libpython comes first on the system.
    pyo3_build_config::add_libpython_rpath_link_args();
    let config = pyo3_build_config::get();
    println!(
        "cargo:rustc-env=SNIPCHECK_LINKED_PYTHON_VERSION={}.{}",
        config.version().major,
        config.version().minor
    );
    println!(
        "cargo:rustc-env=SNIPCHECK_BUILD_PYTHON={}",
        config.executable().unwrap_or("python3")
    );
}
