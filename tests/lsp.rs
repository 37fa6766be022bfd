//! `snipcheck lsp` driven the way an editor drives it, over stdio: diagnostics on open and
//! on change, a code action from `fix`, hover, errors for bad messages, a clean exit that
//! leaves no worker behind; warm workers kept between edits (seen through the server's
//! `snipcheck/session` status), replaced when a snippet kills one, and a stale check
//! cancelled by the next edit.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snipcheck_python::SessionStatus;

struct Client {
    server: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
}

impl Client {
    fn start(dir: &Path) -> Client {
        Client::start_caching(dir, &crate::support::cache_dir())
    }

    /// A server whose result cache is under `cache` (the language server always reads it;
    /// its keys hold the document's path, so a fresh folder's documents start unknown).
    fn start_caching(dir: &Path, cache: &Path) -> Client {
        let mut server = Command::new(env!("CARGO_BIN_EXE_snipcheck"))
            .arg("lsp")
            .env("SNIPCHECK_CACHE_DIR", cache)
            .current_dir(dir)
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

    fn initialize(&mut self, dir: &Path) {
        self.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"rootUri": format!("file://{}", dir.display()), "capabilities": {}}}));
        self.answer(1);
        self.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}}),
        );
    }

    /// The server's warm workers; `id` must be unused so far.
    fn session(&mut self, id: i64) -> SessionStatus {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": "snipcheck/session"}));
        serde_json::from_value(self.answer(id)["result"].clone()).unwrap()
    }

    /// `shutdown` and `exit`: the server ends with code 0 and none of its workers is left.
    fn exit_cleanly(mut self) {
        let server = self.server.id();
        self.send(json!({"jsonrpc": "2.0", "id": 1000, "method": "shutdown"}));
        assert_eq!(self.answer(1000)["result"], Value::Null);
        self.send(json!({"jsonrpc": "2.0", "method": "exit"}));
        let status = self.server.wait().unwrap();
        assert_eq!(status.code(), Some(0));
        let deadline = Instant::now() + Duration::from_secs(10);
        while workers_of(server) > 0 {
            assert!(Instant::now() < deadline, "workers outlived the server");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A folder with the session fixtures' config, and the URI of `name` in it (holding the
/// fixture `name`).
fn session_fixture(name: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let fixtures = Path::new("fixtures/lsp");
    std::fs::copy(
        fixtures.join("snipcheck.yaml"),
        dir.path().join("snipcheck.yaml"),
    )
    .unwrap();
    let text = std::fs::read_to_string(fixtures.join(name)).unwrap();
    std::fs::write(dir.path().join(name), &text).unwrap();
    let uri = format!("file://{}/{name}", dir.path().display());
    (dir, uri, text)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(Path::new("fixtures/lsp").join(name)).unwrap()
}

/// Each diagnostic as (0-based line, code, message).
fn findings(diagnostics: &[Value]) -> Vec<(u64, String, String)> {
    let mut found: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            (
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["code"].as_str().unwrap_or("").to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
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

#[test]
fn an_edit_is_checked_on_the_warm_worker_and_nothing_the_last_check_changed_leaks() {
    let (dir, uri, text) = session_fixture("leak.md");
    let mut client = Client::start(dir.path());
    client.initialize(dir.path());
    client.open(&uri, &text);
    assert_eq!(
        findings(&client.diagnostics(1)),
        [(11, "exception".into(), "ValueError: first version".into())]
    );
    let first = client.session(2);
    assert_eq!((first.workers_started, first.worker_pids.len()), (1, 1));

    // The edited document asserts that the modules the first check changed are intact: a
    // check that forked from a worker the snippets had changed would fail it.
    client.change(&uri, 2, &fixture_text("leak-edited.md"));
    assert_eq!(
        findings(&client.diagnostics(2)),
        [(11, "exception".into(), "ValueError: edited version".into())]
    );
    let second = client.session(3);
    assert_eq!(second.workers_started, 1, "{second:?}");
    assert_eq!(second.workers_reused, 1, "{second:?}");
    assert_eq!(second.worker_pids, first.worker_pids);

    // A changed config (another variable passed to snippets) ends the kept worker.
    let config = dir.path().join("snipcheck.yaml");
    let allowing =
        std::fs::read_to_string(&config).unwrap() + "  env_allow: [SNIPCHECK_LSP_TEST]\n";
    std::fs::write(&config, allowing).unwrap();
    client.change(&uri, 3, &text);
    assert_eq!(
        findings(&client.diagnostics(3)),
        [(11, "exception".into(), "ValueError: first version".into())]
    );
    let third = client.session(4);
    assert_eq!(third.workers_started, 2, "{third:?}");
    assert_eq!(third.worker_pids.len(), 1, "{third:?}");
    assert_ne!(third.worker_pids, first.worker_pids);
    client.exit_cleanly();
}

/// The processes of a check on a kept worker are capped as those of the first: the run's
/// sweep for cgroups that killed workers left behind spares those of the workers kept.
#[test]
fn a_kept_worker_keeps_its_process_cap_between_checks() {
    let (dir, uri, text) = session_fixture("capped.md");
    let mut client = Client::start(dir.path());
    client.initialize(dir.path());
    client.open(&uri, &text);
    let first = findings(&client.diagnostics(1));
    client.change(&uri, 2, &fixture_text("capped-edited.md"));
    let second = findings(&client.diagnostics(2));
    let capped = |found: &[(u64, String, String)], prefix: &str| {
        assert_eq!(found.len(), 1, "{found:?}");
        let message = found[0]
            .2
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{found:?}"));
        message.to_string()
    };
    let before = capped(&first, "ValueError: capped: ");
    let after = capped(&second, "ValueError: capped after the edit: ");
    assert_eq!(client.session(3).workers_reused, 1);
    assert_eq!(before, after, "the first check's cap: {before}");
    // Root can write the v1 pids hierarchy where there is one (this project's machines).
    if std::fs::metadata("/sys/fs/cgroup/pids/cgroup.procs").is_ok()
        && unsafe { libc::geteuid() } == 0
    {
        assert_eq!(before, "True");
    }
    client.exit_cleanly();
}

#[test]
fn a_snippet_that_kills_or_hangs_its_worker_is_its_diagnostic_and_the_next_edit_gets_a_worker() {
    let (dir, uri, text) = session_fixture("killer.md");
    let mut client = Client::start(dir.path());
    client.initialize(dir.path());
    client.open(&uri, &text);
    let killed = findings(&client.diagnostics(1));
    assert_eq!(killed.len(), 1, "{killed:?}");
    assert_eq!((killed[0].0, killed[0].1.as_str()), (5, "crashed"));
    assert!(killed[0].2.starts_with("Lost: "), "{killed:?}");
    // The killed worker was replaced: the killer ran again, step by step, to tell it was
    // the one (killing a second worker), and the rest of the document ran on a third.
    let replaced = client.session(2);
    assert_eq!(replaced.workers_started, 3, "{replaced:?}");
    assert_eq!(replaced.worker_pids.len(), 1, "{replaced:?}");

    // The edit fixes the killer and adds a snippet that hangs: its time limit stops it.
    let hangs = (
        9,
        "timeout".into(),
        "Timeout: still running after 1 s; stopped".into(),
    );
    client.change(&uri, 2, &fixture_text("killer-edited.md"));
    assert_eq!(
        findings(&client.diagnostics(2)),
        [
            (5, "exception".into(), "KeyError: 'no longer kills'".into()),
            hangs.clone()
        ]
    );
    let after = client.session(3);
    assert_eq!(after.workers_started, 3, "{after:?}");
    assert_eq!(after.worker_pids, replaced.worker_pids);

    // A kept worker killed while idle is replaced by the next check.
    // SAFETY: signalling the server's idle worker, a process the test asked about.
    unsafe { libc::kill(after.worker_pids[0] as libc::pid_t, libc::SIGKILL) };
    let edited = fixture_text("killer-edited.md").replace("no longer kills", "idle killed");
    client.change(&uri, 3, &edited);
    assert_eq!(
        findings(&client.diagnostics(3)),
        [
            (5, "exception".into(), "KeyError: 'idle killed'".into()),
            hangs
        ]
    );
    let renewed = client.session(4);
    assert_eq!(renewed.workers_started, 4, "{renewed:?}");
    assert_ne!(renewed.worker_pids, after.worker_pids);
    client.exit_cleanly();
}

#[test]
fn an_edit_cancels_the_stale_check_and_shutdown_ends_a_running_one() {
    let (dir, uri, text) = session_fixture("sleeper.md");
    let marker = dir.path().join("sleeping");
    let sleeping = text.replace("MARKER", &marker.display().to_string());
    let mut client = Client::start(dir.path());
    client.initialize(dir.path());
    client.open(&uri, &sleeping);
    // Once the snippet sleeps (300 s, under a 600 s limit), the text changes: the check
    // must be cancelled, or the next diagnostics would come only after the sleep.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the snippet never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    client.change(&uri, 2, &fixture_text("sleeper-edited.md"));
    let first = client.wait_for(|m| m["method"] == "textDocument/publishDiagnostics");
    assert_eq!(
        first["params"]["version"], 2,
        "the stale check was published"
    );
    assert_eq!(
        findings(first["params"]["diagnostics"].as_array().unwrap()),
        [(4, "exception".into(), "RuntimeError: awake".into())]
    );
    // The stale check held its worker past the grace period: that worker was killed.
    let status = client.session(2);
    assert_eq!(status.workers_started, 2, "{status:?}");
    assert_eq!(status.worker_pids.len(), 1, "{status:?}");

    // Shut down while a snippet sleeps: the server still ends cleanly, with its workers.
    std::fs::remove_file(&marker).unwrap();
    client.change(&uri, 3, &sleeping);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the snippet never started again");
        std::thread::sleep(Duration::from_millis(20));
    }
    client.exit_cleanly();
}

#[test]
fn the_result_cache_still_answers_the_examples_an_edit_left_alone() {
    let (dir, uri, text) = session_fixture("counted.md");
    let counter = dir.path().join("runs");
    let counting =
        |name: &str| fixture_text(name).replace("COUNTER", &counter.display().to_string());
    let cache = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut client = Client::start_caching(dir.path(), cache.path());
    client.initialize(dir.path());
    client.open(
        &uri,
        &text.replace("COUNTER", &counter.display().to_string()),
    );
    assert_eq!(
        findings(&client.diagnostics(1)),
        [(8, "exception".into(), "ValueError: first version".into())]
    );
    client.change(&uri, 2, &counting("counted-edited.md"));
    assert_eq!(
        findings(&client.diagnostics(2)),
        [(8, "exception".into(), "ValueError: edited version".into())]
    );
    // The counting example ran for the first check only: the second took its verdict from
    // the cache.
    assert_eq!(std::fs::read_to_string(&counter).unwrap(), "ran\n");
    client.exit_cleanly();
}
