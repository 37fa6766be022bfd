//! `snipcheck lsp` driven the way an editor drives it, over stdio: diagnostics on open and
//! on change, a code action from `fix`, hover, errors for bad messages, a clean exit that
//! leaves no worker behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Client {
    server: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
}

impl Client {
    fn start(dir: &Path) -> Client {
        let mut server = Command::new(env!("CARGO_BIN_EXE_snipcheck"))
            .arg("lsp")
            .current_dir(dir)
            .env("SNIPCHECK_CACHE_DIR", crate::support::cache_dir())
            .env("SNIPCHECK_NO_CACHE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = server.stdin.take().unwrap();
        let mut stdout = BufReader::new(server.stdout.take().unwrap());
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || loop {
            let mut length = 0;
            let mut line = String::new();
            loop {
                line.clear();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.trim().parse().unwrap();
                } else if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            stdout.read_exact(&mut body).unwrap();
            if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        Client {
            server,
            stdin,
            messages,
        }
    }

    fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, message: Value) {
        self.send_raw(&serde_json::to_vec(&message).unwrap());
    }

    /// The next message that `wanted` accepts (others, such as notifications of other
    /// kinds, are passed over).
    fn wait_for(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .messages
                .recv_timeout(left)
                .expect("the server answers in time");
            if wanted(&message) {
                return message;
            }
        }
    }

    fn diagnostics(&self, version: i64) -> Vec<Value> {
        let message = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn answer(&self, id: i64) -> Value {
        self.wait_for(|m| m["id"] == id)
    }
}

fn spans(diagnostics: &[Value]) -> Vec<(u64, u64, u64, String)> {
    let mut spans: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            (
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["range"]["start"]["character"].as_u64().unwrap(),
                d["range"]["end"]["character"].as_u64().unwrap(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort();
    spans
}

/// Workers of the server (their environment names it as their run).
fn workers_of(server: u32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let run = format!("SNIPCHECK_RUN_ID={server}");
    entries
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .map(|environ| environ.split(|&b| b == 0).any(|v| v == run.as_bytes()))
                .unwrap_or(false)
        })
        .count()
}

#[test]
fn the_language_server_publishes_findings_fixes_them_and_exits_cleanly() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    for file in ["notes.md", "snipcheck.yaml"] {
        std::fs::copy(Path::new("fixtures/fix").join(file), dir.path().join(file)).unwrap();
    }
    let text = std::fs::read_to_string(dir.path().join("notes.md")).unwrap();
    let uri = format!("file://{}/notes.md", dir.path().display());
    let mut client = Client::start(dir.path());

    client.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"rootUri": format!("file://{}", dir.path().display()), "capabilities": {}}}));
    let initialized = client.answer(1);
    assert_eq!(initialized["result"]["capabilities"]["hoverProvider"], true);
    client.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    client.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}}}),
    );

    // Each wrong name at its exact span (0-based lines, UTF-16 columns).
    let opened = client.diagnostics(1);
    assert_eq!(
        spans(&opened),
        [
            (4, 30, 35, "wrong-name".into()),
            (5, 18, 28, "wrong-name".into()),
            (7, 38, 49, "wrong-name".into()),
            (9, 30, 35, "wrong-name".into()),
        ]
    );
    let ordered = opened
        .iter()
        .find(|d| d["range"]["start"]["line"] == 7)
        .unwrap();
    assert_eq!(
        ordered["message"],
        "`Ordereddict` not found in collections; did you mean `collections.OrderedDict`?"
    );

    // The fix as a code action.
    client.send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction", "params": {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 7, "character": 0}, "end": {"line": 7, "character": 0}},
        "context": {"diagnostics": []}}}),
    );
    let actions = client.answer(2)["result"].clone();
    assert_eq!(
        actions[0]["title"],
        "Replace `Ordereddict` with `OrderedDict`"
    );
    let edit = &actions[0]["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "OrderedDict");
    assert_eq!(edit["range"]["start"], json!({"line": 7, "character": 38}));

    // An edit: the fixed name is no longer reported.
    let fixed = text.replace("`Ordereddict`", "`OrderedDict`");
    client.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}}),
    );
    let changed = client.diagnostics(2);
    assert_eq!(changed.len(), 3, "{changed:?}");

    // Hover on a resolved name shows its home.
    client.send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 7, "character": 40}}}),
    );
    assert_eq!(
        client.answer(3)["result"]["contents"]["value"],
        "`OrderedDict` is `collections.OrderedDict`"
    );

    // Bad messages get JSON-RPC errors, and the server keeps serving.
    client.send_raw(b"{not json");
    let malformed = client.wait_for(|m| m["id"].is_null() && m.get("error").is_some());
    assert_eq!(malformed["error"]["code"], -32700);
    client.send(json!({"jsonrpc": "2.0", "id": 4, "method": "snipcheck/unknown"}));
    assert_eq!(client.answer(4)["error"]["code"], -32601);

    let server = client.server.id();
    client.send(json!({"jsonrpc": "2.0", "id": 5, "method": "shutdown"}));
    assert_eq!(client.answer(5)["result"], Value::Null);
    client.send(json!({"jsonrpc": "2.0", "method": "exit"}));
    let status = client.server.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    // No worker outlives it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while workers_of(server) > 0 {
        assert!(Instant::now() < deadline, "workers outlived the server");
        std::thread::sleep(Duration::from_millis(50));
    }
}
