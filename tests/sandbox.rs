//! The sandbox enforced for real: writes outside a snippet's folders are refused where the
//! kernel has Landlock, a snippet cannot signal processes outside its document, and a
//! snippet that kills its worker is the only one charged.

use std::process::Command;

use crate::support::{command_in, json_record, root, snippet_by_id as by_id};

/// The Landlock ABI the running kernel offers (0: none), asked the way the kernel documents.
fn kernel_landlock_abi() -> i64 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute and size 0 this call only reports the ABI version.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    abi.max(0)
}

#[test]
fn writes_outside_the_folders_are_refused_and_writes_inside_work() {
    let outside = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "original").unwrap();
    let mut command = command_in(
        &root(),
        &["check", "--config", "fixtures/sandbox/snipcheck.yaml"],
    );
    command.env("SNIPCHECK_OUTSIDE", outside.path());
    let record = json_record(command, 1);
    let filesystem = record["sandbox"]["filesystem"].as_str().unwrap();
    if kernel_landlock_abi() == 0 {
        // Nothing to enforce with: the record must say so, and why.
        assert!(filesystem.starts_with("not restricted: "), "{filesystem}");
        return;
    }
    assert!(
        filesystem.starts_with("writes outside the working and temporary folders refused"),
        "{filesystem}"
    );
    for id in [
        "creates-file-outside",
        "appends-file-outside",
        "truncates-file-outside",
        "renames-file-out-its-folder",
        "links-file-into-folder-outside",
        "removes-file-outside",
        "makes-folder-outside",
    ] {
        let snippet = by_id(&record, id);
        assert_eq!(snippet["category"], "exception", "{id}: {snippet}");
        assert_eq!(
            snippet["error"]["type"], "PermissionError",
            "{id}: {snippet}"
        );
    }
    let inside = by_id(&record, "writes-renames-links-inside");
    assert_eq!(inside["status"], "passed", "{inside}");
    assert_eq!(
        inside["stdout"]["text"],
        "['b.txt', 'c.txt', 'linked.txt', 'mine.txt', 'sub']\n"
    );
    // Nothing outside changed.
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original");
    let names: Vec<_> = std::fs::read_dir(outside.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["victim.txt"]);
}

/// The snippets of `fixtures/sandbox/signals.md` signal every process they may. As root
/// without a namespace that is every process on the machine, so the check runs inside a PID
/// namespace of this test's own, beside a sentinel process that must survive it.
#[test]
fn a_snippet_that_signals_every_process_reaches_only_its_own() {
    if !Command::new("unshare")
        .args(["--pid", "--fork", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("skipped: `unshare --pid --fork` is not allowed here, and without it this test could stop the machine");
        return;
    }
    let binary = env!("CARGO_BIN_EXE_snipcheck");
    let record = tempfile::NamedTempFile::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let script = format!(
        "sleep 60 & sentinel=$!; \
         '{binary}' check --config fixtures/sandbox/signals.yaml --format json -o '{record}'; \
         echo \"exit $?\"; \
         kill -0 $sentinel && echo 'sentinel alive'; kill $sentinel",
        record = record.path().display()
    );
    let output = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "sh", "-c", &script])
        .current_dir(root())
        .env("SNIPCHECK_CACHE_DIR", crate::support::cache_dir())
        .env("SNIPCHECK_NO_CACHE", "1")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        said,
        "exit 1\nsentinel alive\n",
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(record.path()).unwrap()).unwrap();
    let processes = record["sandbox"]["processes"].as_str().unwrap();
    assert!(
        processes.starts_with("a PID namespace of its own per document"),
        "{processes}"
    );
    // Alone in its namespace, the snippet finds nobody to signal; the one that signals
    // from a process of its own reaches only its document's child.
    let everyone = by_id(&record, "signals-every-process");
    assert_eq!(
        everyone["error"]["type"], "ProcessLookupError",
        "{everyone}"
    );
    let escaped = by_id(&record, "escapes-its-session-signals-every-process");
    assert_eq!(escaped["category"], "crashed", "{escaped}");
    assert_eq!(
        by_id(&record, "still-standing")["stdout"]["text"],
        "still standing\n"
    );
}

/// Without a PID namespace a snippet can kill its worker. The rest of the document runs
/// ahead of the worker (a left thread moved it to a new process), so verdicts the worker had
/// not passed on die with it: they must be run again, and only the killer charged. Several
/// runs, because the loss depended on timing.
#[test]
fn a_snippet_that_kills_its_worker_is_the_only_one_charged() {
    for _ in 0..5 {
        let command = command_in(
            &root(),
            &["check", "--config", "fixtures/sandbox/worker.yaml"],
        );
        let record = json_record(command, 1);
        let table: Vec<String> = record["snippets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {} {}",
                    s["id"].as_str().unwrap(),
                    s["category"].as_str().unwrap(),
                    s["stdout"]["text"].as_str().unwrap_or("")
                )
                .trim_end()
                .to_string()
            })
            .collect();
        assert_eq!(
            table,
            [
                "leaves-non-daemon-thread-running passed",
                "one passed one",
                "two passed two",
                "three passed three",
                "kills-worker crashed",
                "four passed four",
                "five passed five",
            ]
        );
        let killer = by_id(&record, "kills-worker");
        assert_eq!(killer["error"]["type"], "Lost");
        assert!(
            killer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("killed by signal 9"),
            "{killer}"
        );
    }
}

/// The worker's start-up variables (its libpython, glibc's huge-page tunable, CPython's
/// settings) are gone before a snippet runs, and CPython's arenas are advised for huge
/// pages wherever the kernel has them.
#[test]
fn the_worker_leaves_no_start_up_variable_and_puts_arenas_in_huge_pages() {
    let record = json_record(
        command_in(
            &root(),
            &["check", "--config", "fixtures/sandbox/worker-memory.yaml"],
        ),
        0,
    );
    let printed = |id: &str| by_id(&record, id)["stdout"]["text"].clone();
    assert_eq!(printed("start-up-variables"), "[]\n");
    let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled");
    match thp {
        Ok(setting) if !setting.contains("[never]") => {
            assert_eq!(printed("arena-flags"), "True\n")
        }
        // No huge pages to ask for: the arenas are plain memory, and still work.
        _ => assert_eq!(by_id(&record, "arena-flags")["status"], "passed"),
    }
}

/// Every worker holds a cgroup of its own where cgroups can be written; a run removes them
/// all, also that of a worker a snippet killed and those of the workers it ends itself.
#[test]
fn a_run_leaves_no_cgroup_behind() {
    let mut command = command_in(
        &root(),
        &[
            "check",
            "--config",
            "fixtures/sandbox/worker.yaml",
            "--no-cache",
            "--format",
            "json",
        ],
    );
    let run = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the snipcheck binary runs");
    let prefix = format!("snipcheck-{}-", run.id());
    let output = run.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // Root can write the v1 pids hierarchy where there is one (this project's machines).
    if std::fs::metadata("/sys/fs/cgroup/pids/cgroup.procs").is_ok()
        && unsafe { libc::geteuid() } == 0
    {
        let capped = &record["sandbox"]["process_limit"];
        assert!(capped.is_number(), "{}", record["sandbox"]);
    }
    let left: Vec<String> = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"]
        .iter()
        .filter_map(|root| std::fs::read_dir(root).ok())
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
