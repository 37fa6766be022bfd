//! The worker process (`snipcheck-worker __worker`): cuts itself off the network, starts CPython
//! once, imports the warm-up modules, then runs jobs in forked children (see `supervise`).

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::BufRead;
use std::os::fd::FromRawFd;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use pyo3::prelude::*;
use pyo3::types::PyModule;
use snipcheck_record::PythonInfo;

use crate::huge_pages;
use crate::interpreter;
use crate::pid_namespace::NamespaceMaker;
use crate::process::send;
use crate::protocol::{Request, WorkerArguments, WorkerMessage, LIBPYTHON_VARIABLE};
use crate::sandbox::{self, Folders, SandboxOptions};
use crate::supervise::{self, JobContext};
use crate::venv::PythonEnv;

/// The worker binary's whole program: serves the pool that started it, returning the exit
/// code. Refuses to run when no libpython was loaded for it.
pub fn serve_from_command_line() -> i32 {
    let libpython = std::env::var_os(LIBPYTHON_VARIABLE);
    // Preloaded for this process only: the snippets' subprocesses must not inherit it.
    // SAFETY: no other thread exists yet.
    std::env::remove_var("LD_PRELOAD");
    std::env::remove_var(LIBPYTHON_VARIABLE);
    huge_pages::forget_malloc_tunables();
    if !interpreter::libpython_loaded() {
        eprintln!(
            "snipcheck-worker: no libpython is loaded ({}); it is started by snipcheck, which \
             preloads the environment's libpython",
            libpython.map_or("none was named".into(), |path| format!(
                "{} was named",
                Path::new(&path).display()
            ))
        );
        return 2;
    }
    match WorkerArguments::parse(std::env::args_os().skip(1)) {
        Some(Ok(args)) => main(&args.env_root, &args.warmup, args.sandbox.as_deref()),
        Some(Err(message)) => {
            // Said on the protocol channel: the main process reports it as it is.
            let _ = send(&mut std::io::stdout(), &WorkerMessage::Fatal { message });
            2
        }
        None => {
            eprintln!("snipcheck-worker: runs snippets for snipcheck; it is not a command");
            2
        }
    }
}

/// Serves as a worker; returns the process exit code.
fn main(env_root: &Path, warmup: &[String], sandbox_json: Option<&str>) -> i32 {
    // Our stdout is the protocol channel. Keep it on a private descriptor and point
    // descriptor 1 at stderr, so nothing Python prints can corrupt the protocol.
    // SAFETY: descriptor juggling before any other thread exists.
    let protocol_fd = unsafe {
        let fd = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
        libc::dup2(2, 1);
        fd
    };
    if protocol_fd < 0 {
        eprintln!("snipcheck worker: cannot duplicate stdout");
        return 1;
    }
    // SAFETY: `protocol_fd` was just created and is owned here.
    let mut protocol = unsafe { File::from_raw_fd(protocol_fd) };
    let result = sandbox_json
        .map(serde_json::from_str::<SandboxOptions>)
        .transpose()
        .context("unreadable sandbox options")
        .and_then(|options| {
            serve(
                env_root,
                warmup,
                &options.unwrap_or_default(),
                &mut protocol,
            )
        });
    match result {
        Ok(()) => 0,
        Err(err) => {
            let _ = send(
                &mut protocol,
                &WorkerMessage::Fatal {
                    message: format!("{err:#}"),
                },
            );
            1
        }
    }
}

fn serve(
    env_root: &Path,
    warmup: &[String],
    options: &SandboxOptions,
    protocol: &mut File,
) -> Result<()> {
    // Before Python starts: the namespace must hold for every thread and child to come.
    let network = if options.network {
        "on (allowed in the config)".to_string()
    } else {
        match sandbox::isolate_network() {
            Ok(how) => how.to_string(),
            Err(why) => format!("off (socket calls refused; {why})"),
        }
    };
    let landlock = sandbox::probe_landlock();
    // One cgroup for the worker's life, holding each child in turn (a job's children run
    // one at a time) and emptied when each ends: making and removing one per document cost
    // more than the snippets of a small one.
    let mut cap = sandbox::worker_process_cap(options);
    // Before Python starts, while the process is small (see `pid_namespace`).
    let namespaces = if options.pid_namespace {
        NamespaceMaker::start()
    } else {
        Err("disabled in the config".into())
    };
    // The worker moves in itself, after the namespace maker is forked (its namespaces' inits
    // outlive the children), so that each child is born in the cgroup.
    if let Some(cap) = cap.as_mut() {
        cap.hold();
    }
    let pid_namespace = namespaces.as_ref().map(drop).map_err(Clone::clone);

    let env = PythonEnv {
        root: env_root.to_path_buf(),
    };
    huge_pages::install_arena_allocator();
    interpreter::start(&env)?;
    let (runner, warmer, python) = Python::attach(|py| -> Result<_> {
        let modules = PythonModules::load(py)?;
        if !options.network && network.starts_with("off (socket") {
            modules.network.bind(py).call_method0("refuse_network")?;
        }
        modules.warmup.bind(py).call_method1(
            "forget_variables",
            (interpreter::STARTUP_VARIABLES.to_vec(),),
        )?;
        warm_up(py, &modules.warmup, warmup)?;
        let info: String = modules
            .warmup
            .bind(py)
            .call_method0("python_info")?
            .extract()?;
        Ok((
            modules.snippet,
            modules.warmup,
            serde_json::from_str::<PythonInfo>(&info)?,
        ))
    })?;
    let sandbox = sandbox::report(
        options,
        &sandbox::Achieved {
            network: &network,
            landlock: &landlock,
            cgroup: cap.is_some(),
            pid_namespace: &pid_namespace,
        },
    );
    send(protocol, &WorkerMessage::Ready { python, sandbox })?;

    let mut doctest_loaded = false;
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line.context("reading a job")?;
        if line.trim().is_empty() {
            continue;
        }
        let job = match serde_json::from_str(&line).context("unreadable request")? {
            Request::Run(job) => job,
            Request::Resolve(job) => {
                crate::resolve::serve(&job, protocol)?;
                continue;
            }
        };
        // Snippets write files where they stand: give them folders of their own (the main
        // process normally makes them, so that they outlive this worker).
        let own_folders;
        let folders = match &job.folders {
            Some(given) => given,
            None => {
                own_folders =
                    Folders::create().context("cannot create a working folder for the snippets")?;
                &own_folders.1
            }
        };
        if !doctest_loaded && job.needs_doctest() {
            // Loaded here once rather than in each child, and frozen with the rest.
            Python::attach(|py| -> PyResult<()> {
                runner.bind(py).call_method0("doctest_runner")?;
                warmer.bind(py).call_method0("freeze_heap")?;
                Ok(())
            })
            .map_err(|err| anyhow!("cannot load the doctest runner: {err}"))?;
            doctest_loaded = true;
        }
        supervise::run_job(&mut JobContext {
            job: &job,
            runner: &runner,
            folders,
            sandbox: options,
            landlock: options.restrict_writes && landlock.is_ok(),
            cap: cap.as_ref(),
            namespaces: namespaces.as_ref().ok(),
            protocol,
        })?;
    }
    Ok(())
}

/// Imports the warm-up modules so every forked child starts with them loaded, then
/// freezes the heap so children do not copy it when the garbage collector walks it.
fn warm_up(py: Python<'_>, warmer: &Py<PyModule>, warmup: &[String]) -> Result<()> {
    for module in warmup {
        // A broken package must not stop the run: its snippets will say what is wrong.
        if let Err(err) = warmer.bind(py).call_method1("warm_up", (module.as_str(),)) {
            eprintln!("snipcheck: warm-up import of {module} failed: {err}");
        }
    }
    warmer.bind(py).call_method0("freeze_heap")?;
    // Free heap pages given back: a fork copies the page table of every page the worker
    // holds (9.8 MB of anonymous memory before, 9.2 MB after, on the trivial corpus).
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe { libc::malloc_trim(0) };
    Ok(())
}

/// The Python side of a worker, one file per job, loaded in the order they import each
/// other (none imports one loaded after it): how an exception becomes a verdict, executing
/// code, running a snippet; and, imported by none, the network refusal and the warm-up.
/// The doctest runner is loaded only when a job needs it (see [`DOCTEST_RUNNER`]).
const PYTHON_FILES: [(&str, &CStr, &CStr); 5] = [
    (
        include_str!("classify.py"),
        c"<snipcheck classify>",
        c"_snipcheck_classify",
    ),
    (
        include_str!("runner.py"),
        c"<snipcheck runner>",
        c"_snipcheck_runner",
    ),
    (
        include_str!("snippet.py"),
        c"<snipcheck snippet>",
        c"_snipcheck_snippet",
    ),
    (
        include_str!("network.py"),
        c"<snipcheck network>",
        c"_snipcheck_network",
    ),
    (
        include_str!("warmup.py"),
        c"<snipcheck warm-up>",
        c"_snipcheck_warmup",
    ),
];

/// The doctest runner's source, handed to `snippet.py`, which loads it on first use: in the
/// worker before forking a job that needs it, else in a child that finds it needs it.
const DOCTEST_RUNNER: &str = include_str!("doctest_runner.py");

/// The modules the worker and its children call into.
struct PythonModules {
    /// `run_snippet`, `define_fixtures`, `enter_folders`, `restore_stdio`.
    snippet: Py<PyModule>,
    network: Py<PyModule>,
    warmup: Py<PyModule>,
}

impl PythonModules {
    fn load(py: Python<'_>) -> Result<PythonModules> {
        let mut loaded = BTreeMap::new();
        for (source, file, name) in PYTHON_FILES {
            let code = CString::new(source)?;
            let module = PyModule::from_code(py, &code, file, name)
                .map_err(|err| anyhow!("cannot load {}: {err}", file.to_string_lossy()))?;
            loaded.insert(name.to_string_lossy().into_owned(), module.unbind());
        }
        let mut take = |name: &str| {
            loaded
                .remove(name)
                .ok_or_else(|| anyhow!("{name} was not loaded"))
        };
        let snippet = take("_snipcheck_snippet")?;
        snippet.bind(py).setattr("DOCTEST_SOURCE", DOCTEST_RUNNER)?;
        Ok(PythonModules {
            snippet,
            network: take("_snipcheck_network")?,
            warmup: take("_snipcheck_warmup")?,
        })
    }
}
