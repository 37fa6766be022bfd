// The binary embeds CPython: without an rpath to the libpython it was built against, the
// loader silently picks whichever libpython3.x.so comes first on the system.
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
