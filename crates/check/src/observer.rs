//! What a check tells its front end while it works: the library prints nothing itself.

use std::path::Path;

use snipcheck_record::Snippet;

/// Receives a check's progress. Every method has a default that ignores the event, so a
/// front end implements only what it shows.
pub trait Observer {
    /// `snippets` snippets of `documents` documents are about to run (the rest were
    /// answered by the result cache).
    fn running(&mut self, _snippets: usize, _documents: usize) {}
    /// A snippet's verdict arrived.
    fn verdict(&mut self, _snippet: &Snippet) {}
    /// A snippet has been running for `seconds` of its `limit`.
    fn slow(&mut self, _snippet: &Snippet, _seconds: f64, _limit: f64) {}
    /// The snippets finished running.
    fn ran(&mut self) {}
    /// `cached` verdicts came from the result cache and `ran` snippets were run.
    fn cached(&mut self, _cached: usize, _ran: usize) {}
    /// Which environment the snippets run in, when nothing in the config or the options
    /// named it (the active virtualenv, or the one snipcheck is installed in).
    fn environment(&mut self, _note: &str) {}
    /// Something went wrong that does not stop the check.
    fn warning(&mut self, _message: &str) {}
    /// `--update` wrote the run's results into this record file.
    fn wrote_record(&mut self, _file: &Path) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {}
