// The tests and examples of this crate run snippets, so they embed CPython: without an
// rpath to the libpython it was built against, the loader picks whichever comes first.
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
