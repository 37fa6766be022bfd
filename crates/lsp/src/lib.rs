//! `snipcheck lsp`: a language server over stdio for every format snipcheck reads.
//!
//! On open and on change (debounced) a document is checked as `snipcheck check` would check
//! it, from the editor's text, and its findings are published as diagnostics: a failing
//! example at its failing line, a wrong name at its exact span, the category as code and the
//! suggestion in the message. `fix`'s replacements are code actions; hover shows a name's
//! home or an example's last verdict and output. Every check runs in one
//! [`Session`](snipcheck_check::Session), so its workers stay warm between edits and a
//! re-check forks from a worker that already imported the document's libraries. A check
//! whose document changes again is cancelled, never published. [`transport`] frames
//! messages, [`findings`] turns a record into protocol values; this module keeps the
//! documents and runs the checks.

mod findings;
mod transport;

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snipcheck_check::{Cancel, Cancelled, CheckOptions, Session, Silent};
use snipcheck_record::Record;

use crate::transport::Incoming;

/// How long the text must stay unchanged before it is checked: enough to take a burst of
/// notifications (a paste, an edit at several cursors) as one change. Checking while the
/// user types costs little more: a check the next change makes stale is cancelled, and the
/// warm workers make each check short.
const DEBOUNCE: Duration = Duration::from_millis(10);

/// An open document.
struct Open {
    path: PathBuf,
    text: String,
    version: i64,
    /// The last record of this document, for code actions and hover.
    record: Option<Record>,
}

enum Event {
    Incoming(Incoming),
    Checked {
        uri: String,
        version: i64,
        /// `None`: the check was cancelled.
        record: Box<Option<Result<Record, String>>>,
    },
}

/// The check running now.
struct Checking {
    uri: String,
    cancel: Cancel,
    thread: JoinHandle<()>,
}

/// Serves the protocol on stdin and stdout until `exit`; returns the process exit code.
pub fn serve(options: CheckOptions) -> i32 {
    let (events, inbox) = mpsc::channel::<Event>();
    let reader = events.clone();
    std::thread::spawn(move || {
        let mut input = BufReader::new(std::io::stdin().lock());
        loop {
            let incoming = transport::read(&mut input);
            let closed = matches!(incoming, Incoming::Closed);
            if reader.send(Event::Incoming(incoming)).is_err() || closed {
                return;
            }
        }
    });
    let mut server = Server {
        options,
        open: HashMap::new(),
        due: HashMap::new(),
        checking: None,
        session: Arc::new(Session::new()),
        events,
        shutdown: false,
    };
    loop {
        let wait = server
            .due
            .values()
            .min()
            .map(|at| at.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        match inbox.recv_timeout(wait) {
            Ok(Event::Incoming(Incoming::Closed)) => {
                server.stop();
                return if server.shutdown { 0 } else { 1 };
            }
            Ok(Event::Incoming(Incoming::Malformed(why))) => {
                server.send(&json!({"jsonrpc": "2.0", "id": null,
                    "error": {"code": -32700, "message": why}}));
            }
            Ok(Event::Incoming(Incoming::Message(message))) => {
                if let Some(code) = server.handle(&message) {
                    server.stop();
                    return code;
                }
            }
            Ok(Event::Checked {
                uri,
                version,
                record,
            }) => server.checked(uri, version, *record),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                server.stop();
                return 1;
            }
        }
        server.start_due_check();
    }
}

struct Server {
    options: CheckOptions,
    open: HashMap<String, Open>,
    /// Documents waiting to be checked, and when.
    due: HashMap<String, Instant>,
    checking: Option<Checking>,
    /// The workers every check runs on, kept warm between checks.
    session: Arc<Session>,
    events: mpsc::Sender<Event>,
    shutdown: bool,
}

impl Server {
    fn send(&self, message: &Value) {
        let _ = transport::write(&mut std::io::stdout().lock(), message);
    }

    fn reply(&self, id: &Value, result: Value) {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
    }

    /// Handles one message; `Some(code)` when the server must end.
    fn handle(&mut self, message: &Value) -> Option<i32> {
        let method = message["method"].as_str().unwrap_or("");
        let id = message.get("id");
        let params = &message["params"];
        match (method, id) {
            ("initialize", Some(id)) => {
                if let Some(root) = params["rootUri"].as_str().and_then(path_of) {
                    // The config is found from the workspace's root, as `check` finds it.
                    let _ = std::env::set_current_dir(root);
                }
                self.reply(
                    id,
                    json!({
                        "capabilities": {
                            "textDocumentSync": {"openClose": true, "change": 1},
                            "codeActionProvider": true,
                            "hoverProvider": true,
                        },
                        "serverInfo": {"name": "snipcheck", "version": env!("CARGO_PKG_VERSION")},
                    }),
                );
            }
            ("shutdown", Some(id)) => {
                self.shutdown = true;
                self.stop();
                self.reply(id, Value::Null);
            }
            // The warm workers, as `SessionStatus` (camelCase), for a client to show.
            ("snipcheck/session", Some(id)) => {
                self.reply(id, json!(self.session.status()));
            }
            ("exit", None) => return Some(if self.shutdown { 0 } else { 1 }),
            ("textDocument/didOpen", None) => {
                let document = &params["textDocument"];
                let uri = document["uri"].as_str().unwrap_or("").to_string();
                let text = document["text"].as_str().unwrap_or("").to_string();
                self.changed(uri, text, document["version"].as_i64().unwrap_or(0));
            }
            ("textDocument/didChange", None) => {
                let uri = params["textDocument"]["uri"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let version = params["textDocument"]["version"].as_i64().unwrap_or(0);
                // Full sync: the last change holds the whole text.
                if let Some(text) = params["contentChanges"]
                    .as_array()
                    .and_then(|changes| changes.last())
                    .and_then(|change| change["text"].as_str())
                {
                    self.changed(uri, text.to_string(), version);
                }
            }
            ("textDocument/didClose", None) => {
                let uri = params["textDocument"]["uri"].as_str().unwrap_or("");
                self.cancel_check_of(uri);
                self.open.remove(uri);
                self.due.remove(uri);
                self.send(
                    &json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
                    "params": {"uri": uri, "diagnostics": []}}),
                );
            }
            ("textDocument/codeAction", Some(id)) => {
                let uri = params["textDocument"]["uri"].as_str().unwrap_or("");
                let first = params["range"]["start"]["line"].as_u64().unwrap_or(0) as u32;
                let last = params["range"]["end"]["line"].as_u64().unwrap_or(0) as u32;
                let actions = self.with_record(uri, |open, record, path| {
                    findings::code_actions(record, path, uri, &open.text, first, last)
                });
                self.reply(id, json!(actions.unwrap_or_default()));
            }
            ("textDocument/hover", Some(id)) => {
                let uri = params["textDocument"]["uri"].as_str().unwrap_or("");
                let line = params["position"]["line"].as_u64().unwrap_or(0) as u32;
                let character = params["position"]["character"].as_u64().unwrap_or(0) as u32;
                let shown = self
                    .with_record(uri, |open, record, path| {
                        findings::hover(record, path, &open.text, line, character)
                    })
                    .flatten();
                self.reply(
                    id,
                    match shown {
                        Some(text) => json!({"contents": {"kind": "markdown", "value": text}}),
                        None => Value::Null,
                    },
                );
            }
            (_, Some(id)) => {
                self.send(&json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32601, "message": format!("unknown method `{method}`")}}));
            }
            // Unknown notifications are ignored, as the protocol asks.
            (_, None) => {}
        }
        None
    }

    fn with_record<T>(&self, uri: &str, f: impl FnOnce(&Open, &Record, &str) -> T) -> Option<T> {
        let open = self.open.get(uri)?;
        let record = open.record.as_ref()?;
        Some(f(open, record, &open.path.display().to_string()))
    }

    fn changed(&mut self, uri: String, text: String, version: i64) {
        let Some(path) = path_of(&uri) else {
            return;
        };
        // A document of a format snipcheck does not read gets no diagnostics.
        if snipcheck_extract::Format::for_path(&path).is_none() {
            return;
        }
        let record = self.open.remove(&uri).and_then(|open| open.record);
        self.open.insert(
            uri.clone(),
            Open {
                path,
                text,
                version,
                record,
            },
        );
        self.cancel_check_of(&uri);
        self.due.insert(uri, Instant::now() + DEBOUNCE);
    }

    /// A check of `uri` running now is stale: stop it.
    fn cancel_check_of(&self, uri: &str) {
        if let Some(checking) = self.checking.as_ref().filter(|c| c.uri == uri) {
            checking.cancel.cancel();
        }
    }

    /// Stops the running check and ends every worker, waiting a little for the check to
    /// wind down so its worker is reaped before the server exits.
    fn stop(&mut self) {
        self.due.clear();
        if let Some(checking) = &self.checking {
            checking.cancel.cancel();
        }
        self.session.close();
        // Also a worker resolving names, which no session holds.
        snipcheck_python::interrupt::kill_workers();
        if let Some(checking) = self.checking.take() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !checking.thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Starts the check of a document whose wait is over, one at a time.
    fn start_due_check(&mut self) {
        if self.checking.is_some() || self.shutdown {
            return;
        }
        let now = Instant::now();
        let Some(uri) = self
            .due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(uri, _)| uri.clone())
            .next()
        else {
            return;
        };
        self.due.remove(&uri);
        let Some(open) = self.open.get(&uri) else {
            return;
        };
        let options = CheckOptions {
            paths: vec![open.path.clone()],
            texts: vec![(open.path.clone(), open.text.clone())],
            ..self.options.clone()
        };
        let version = open.version;
        let events = self.events.clone();
        let cancel = Cancel::default();
        let session = Arc::clone(&self.session);
        let thread = {
            let (uri, cancel) = (uri.clone(), cancel.clone());
            std::thread::spawn(move || {
                // A check that panics is that check's failure; the server goes on.
                let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    snipcheck_check::check_in(&session, &cancel, &options, &mut Silent)
                }));
                let record = match checked {
                    Ok(Ok(run)) => Some(Ok(run.record)),
                    Ok(Err(err)) if err.is::<Cancelled>() => None,
                    Ok(Err(err)) => Some(Err(format!("{err:#}"))),
                    Err(_) => Some(Err("snipcheck failed unexpectedly (a bug)".to_string())),
                };
                let _ = events.send(Event::Checked {
                    uri,
                    version,
                    record: Box::new(record),
                });
            })
        };
        self.checking = Some(Checking {
            uri,
            cancel,
            thread,
        });
    }

    fn checked(&mut self, uri: String, version: i64, record: Option<Result<Record, String>>) {
        self.checking = None;
        let (Some(open), Some(record)) = (self.open.get_mut(&uri), record) else {
            return;
        };
        // The text changed again meanwhile: this record is stale, a new check is due.
        if open.version != version {
            return;
        }
        let diagnostics = match &record {
            Ok(record) => {
                findings::diagnostics(record, &open.path.display().to_string(), &open.text)
            }
            Err(why) => vec![json!({
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "severity": 1,
                "source": "snipcheck",
                "message": format!("the check failed: {why}"),
            })],
        };
        open.record = record.ok();
        self.send(
            &json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
            "params": {"uri": uri, "version": version, "diagnostics": diagnostics}}),
        );
    }
}

/// The path of a `file:` URI (percent-decoded); `None` for other schemes.
fn path_of(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut raw = rest.bytes();
    while let Some(byte) = raw.next() {
        if byte == b'%' {
            let hex: Vec<u8> = raw.by_ref().take(2).collect();
            let decoded = std::str::from_utf8(&hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())?;
            bytes.push(decoded);
        } else {
            bytes.push(byte);
        }
    }
    let path = String::from_utf8(bytes).ok()?;
    Some(Path::new(&path).to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(
            path_of("file:///home/me/My%20Docs/guide.md"),
            Some(PathBuf::from("/home/me/My Docs/guide.md"))
        );
        assert_eq!(path_of("untitled:Untitled-1"), None);
        assert_eq!(path_of("file:///bad%zz"), None);
    }
}
