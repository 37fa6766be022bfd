// `snipcheck-worker` embeds CPython, but links no libpython: the main process picks the
// environment's libpython3.X.so and has the loader preload it when it starts the worker.
// The symbols the worker takes from it are therefore left unresolved at link time. The main
// binary gets no such flag, so any use of Python there fails to link.
fn main() {
    println!(
        "cargo:rustc-link-arg-bin=snipcheck-worker=-Wl,--unresolved-symbols=ignore-in-object-files"
    );
}
