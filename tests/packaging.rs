//! The Python package, the pre-commit hook and the GitHub Action, installed and run the way
//! their users do: the wheel built once with maturin (scripts/build-wheel), installed with pip
//! into fresh venvs, driven by the real pre-commit, the action's steps run from action.yml.
//!
//! Ignored: building the wheel takes minutes (.ci/run runs these). The tools come pinned from
//! the package registry through .ci/install-python-tools, run on first use.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_yaml::{Mapping, Value};

use crate::support::{root, stderr, stdout};

/// The Pythons the wheel is installed into: every version the package supports. Each must be
/// under pyenv.
const PYTHONS: &[&str] = &["3.9", "3.10", "3.11", "3.12", "3.13"];

/// The folder holding maturin, pre-commit and check-jsonschema, installed once per run.
fn tools() -> &'static Path {
    static TOOLS: OnceLock<PathBuf> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let mut install = Command::new("bash");
        install.arg(root().join(".ci/install-python-tools"));
        succeed(&mut install);
        root().join("target/python-tools/bin")
    })
}

/// The distributable wheel, built once per run.
///
/// Profile `wheel-test` (Cargo.toml): dev's optimisation without debug information; a release
/// build of the same binaries takes several times longer on two cores, and the test is about
/// packaging, not speed.
fn wheel() -> &'static Path {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL.get_or_init(|| {
        let out = root().join("target/packaging/wheels");
        let _ = fs::remove_dir_all(&out);
        let mut build = Command::new("bash");
        build
            .arg(root().join("scripts/build-wheel"))
            .arg(&out)
            .args(["--profile", "wheel-test"])
            .env("PYTHON", tools().join("python"));
        let output = succeed(&mut build);
        let path = PathBuf::from(stdout(&output).trim());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Runs under every CPython: no Python or ABI in the tag, only the platform.
        let version = env!("CARGO_PKG_VERSION");
        assert!(
            name.starts_with(&format!("snipcheck-{version}-py3-none-manylinux_"))
                && name.ends_with("_x86_64.whl"),
            "unexpected wheel name {name}"
        );
        path
    })
}

/// The names of the root package's `[[bin]]` targets: the wheel must ship every one.
fn binaries() -> Vec<String> {
    let output = succeed(
        Command::new(env!("CARGO"))
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .current_dir(root()),
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "snipcheck")
        .expect("the snipcheck package");
    package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// `$(pyenv root)/versions/VERSION.*/bin/python`, the newest patch release installed.
fn pyenv_python(version: &str) -> PathBuf {
    // PYENV_ROOT when set, as pyenv itself reads it; else pyenv's default.
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("PYENV_ROOT or HOME is set"))
                .join(".pyenv")
        });
    let versions = pyenv_root.join("versions");
    let prefix = format!("{version}.");
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(&versions)
        .unwrap_or_else(|err| panic!("{}: {err}", versions.display()))
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_string_lossy().into_owned();
            let patch = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((patch, versions.join(&name).join("bin/python")))
        })
        .collect();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("no Python {version} under {}", versions.display()))
        .1
}

/// Runs `command`, failing the test with its output unless it exits 0.
fn succeed(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} exited with {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    output
}

/// PATH without the Rust toolchain: what is installed must not need it.
fn path_without_rust(first: &Path) -> String {
    let rest = std::env::var("PATH").unwrap_or_default();
    let kept = rest
        .split(':')
        .filter(|dir| !dir.contains(".cargo") && !dir.contains("rustup"));
    std::iter::once(first.to_string_lossy().into_owned())
        .chain(kept.map(str::to_owned))
        .collect::<Vec<_>>()
        .join(":")
}

/// A copy of fixtures/package/ in `dir`, with the example under "Reading settings" broken
/// (`json.loadz`, line 20) when `broken`.
fn write_fixture(dir: &Path, broken: bool) {
    fs::create_dir_all(dir).unwrap();
    let fixture = root().join("fixtures/package");
    fs::copy(fixture.join("snipcheck.yaml"), dir.join("snipcheck.yaml")).unwrap();
    let guide = fs::read_to_string(fixture.join("guide.md")).unwrap();
    let guide = if broken {
        guide.replace("json.loads(", "json.loadz(")
    } else {
        guide
    };
    fs::write(dir.join("guide.md"), guide).unwrap();
}

#[test]
#[ignore = "builds the wheel (minutes); run by .ci/run"]
fn wheel_runs_in_fresh_venvs() {
    let wheel = wheel();
    for version in PYTHONS {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        succeed(
            Command::new(pyenv_python(version))
                .args(["-m", "venv"])
                .arg(&venv),
        );
        let bin = venv.join("bin");
        // From the file alone: no index, so nothing can be built or fetched.
        succeed(
            Command::new(bin.join("python"))
                .args(["-m", "pip", "install", "--no-index", "--quiet"])
                .arg("--disable-pip-version-check")
                .arg(wheel)
                .env("PATH", path_without_rust(&bin)),
        );
        for binary in binaries() {
            let path = bin.join(&binary);
            let mode = fs::metadata(&path)
                .unwrap_or_else(|err| panic!("{binary} is not installed: {err}"))
                .permissions()
                .mode();
            assert!(mode & 0o111 != 0, "{binary} is not executable");
        }
        let run = |program: &str, args: &[&str], dir: &Path| {
            Command::new(bin.join(program))
                .args(args)
                .current_dir(dir)
                .env("PATH", path_without_rust(&bin))
                .env_remove("VIRTUAL_ENV")
                .env("SNIPCHECK_CACHE_DIR", tmp.path().join("cache"))
                .env("SNIPCHECK_NO_CACHE", "1")
                .output()
                .unwrap()
        };

        let out = run("snipcheck", &["--version"], tmp.path());
        assert_eq!(
            stdout(&out),
            format!("snipcheck {}\n", env!("CARGO_PKG_VERSION")),
            "Python {version}: {}",
            stderr(&out)
        );
        let out = run("python", &["-m", "snipcheck", "--help"], tmp.path());
        assert!(
            out.status.success() && stdout(&out).contains("Usage: snipcheck <COMMAND>"),
            "Python {version}: {}{}",
            stdout(&out),
            stderr(&out)
        );

        let work = tmp.path().join("work");
        write_fixture(&work, true);
        // The venv's own Python runs the examples: the installed snipcheck finds the venv
        // around it, with no --python-env.
        let out = run("snipcheck", &["check", "--format", "json"], &work);
        assert_eq!(
            out.status.code(),
            Some(1),
            "Python {version}: {}",
            stderr(&out)
        );
        let record = crate::support::record(&out);
        let python = &record["python"];
        let reported = python["version"].as_str().unwrap_or_default();
        assert!(
            reported.starts_with(&format!("{version}.")),
            "Python {version}: the examples ran under {python}"
        );
        assert_eq!(
            Path::new(python["prefix"].as_str().unwrap_or_default()),
            venv.canonicalize().unwrap(),
            "Python {version}: the examples ran in another environment"
        );
        let verdicts: Vec<(&str, &str)> = record["snippets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["id"].as_str().unwrap(), s["category"].as_str().unwrap()))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("small-guide", "passed"),
                ("reading-settings", "missing-name"),
                ("optional-extras", "skipped"),
            ],
            "Python {version}"
        );
        // `python -m snipcheck` passes the exit code through.
        let out = run("python", &["-m", "snipcheck", "check", "-q"], &work);
        assert_eq!(
            out.status.code(),
            Some(1),
            "Python {version}: {}",
            stderr(&out)
        );
        assert!(stdout(&out).contains("--> guide.md:20 reading-settings"));

        // Syntax and standard-library names of later versions: this venv's verdicts.
        let versions = tmp.path().join("versions");
        fs::create_dir_all(&versions).unwrap();
        for file in ["README.md", "snipcheck.yaml"] {
            fs::copy(
                root().join("fixtures/versions").join(file),
                versions.join(file),
            )
            .unwrap();
        }
        let out = run("snipcheck", &["check", "--format", "json"], &versions);
        let record = crate::support::record(&out);
        let (major, minor) = version.split_once('.').unwrap();
        let failures = crate::support::assert_version_verdicts(
            &record,
            (major.parse().unwrap(), minor.parse().unwrap()),
        );
        assert_eq!(
            out.status.code(),
            Some(i32::from(failures > 0)),
            "Python {version}"
        );
    }
}

#[test]
#[ignore = "builds the wheel (minutes); run by .ci/run"]
fn pre_commit_hook_fails_a_broken_example_then_passes() {
    let wheel = wheel();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home"))
            .env("SNIPCHECK_CACHE_DIR", tmp.path().join("cache"))
            .env_remove("VIRTUAL_ENV")
            .output()
            .unwrap()
    };
    for args in [
        &["init", "-q"][..],
        &["config", "user.email", "docs@example.com"],
        &["config", "user.name", "Docs"],
        &["config", "commit.gpgsign", "false"],
    ] {
        assert!(git(args).status.success());
    }

    // The hook exactly as this repository publishes it, installed from the wheel (as a remote
    // `repo:` would be from source: that needs Rust and a release build).
    let manifest: Vec<Mapping> =
        serde_yaml::from_str(&fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap())
            .unwrap();
    let mut hook = manifest
        .into_iter()
        .find(|hook| hook.get("id") == Some(&Value::from("snipcheck")))
        .expect("a hook with id snipcheck");
    hook.insert(
        "additional_dependencies".into(),
        Value::Sequence(vec![wheel.to_string_lossy().into_owned().into()]),
    );
    let mut local = Mapping::new();
    local.insert("repo".into(), "local".into());
    local.insert("hooks".into(), Value::Sequence(vec![Value::Mapping(hook)]));
    let mut config = Mapping::new();
    config.insert("repos".into(), Value::Sequence(vec![Value::Mapping(local)]));
    fs::write(
        repo.join(".pre-commit-config.yaml"),
        serde_yaml::to_string(&config).unwrap(),
    )
    .unwrap();
    succeed(
        Command::new(tools().join("pre-commit"))
            .arg("install")
            .current_dir(&repo),
    );

    // The README's pre-commit config is one pre-commit accepts.
    let snippets: Vec<Value> = readme_yaml()
        .into_iter()
        .filter(|block| block.get("repos").is_some())
        .collect();
    assert!(!snippets.is_empty(), "no pre-commit config in README.md");
    for snippet in snippets {
        let path = tmp.path().join("readme-pre-commit-config.yaml");
        fs::write(&path, serde_yaml::to_string(&snippet).unwrap()).unwrap();
        succeed(
            Command::new(tools().join("pre-commit"))
                .arg("validate-config")
                .arg(&path),
        );
    }

    write_fixture(&repo, true);
    // A module with a failing docstring example: not a document, so not checked.
    fs::write(
        repo.join("tool.py"),
        "def one():\n    \"\"\"\n    >>> one()\n    2\n    \"\"\"\n    return 1\n",
    )
    .unwrap();
    assert!(git(&["add", "."]).status.success());
    let out = git(&["commit", "-q", "-m", "Add the guide"]);
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !out.status.success(),
        "the broken example was committed:\n{log}"
    );
    assert!(log.contains("--> guide.md:20 reading-settings"), "{log}");
    assert!(log.contains("missing-name"), "{log}");
    assert!(!log.contains("tool.py"), "{log}");

    write_fixture(&repo, false);
    assert!(git(&["add", "guide.md"]).status.success());
    let out = git(&["commit", "-q", "-m", "Add the guide"]);
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "the fixed guide was refused:\n{log}");
    assert!(log.contains("snipcheck") && log.contains("Passed"), "{log}");
}

/// check-jsonschema with one of SchemaStore's schemas it ships.
fn schema_check(schema: &str, files: &[PathBuf]) -> Output {
    Command::new(tools().join("check-jsonschema"))
        .args(["--builtin-schema", schema])
        .args(files)
        .output()
        .unwrap()
}

/// The README's YAML blocks, parsed.
fn readme_yaml() -> Vec<Value> {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() == "```yaml" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push(
                serde_yaml::from_str(&block.join("\n"))
                    .unwrap_or_else(|err| panic!("README's YAML block {block:?}: {err}")),
            );
        }
    }
    blocks
}

fn action() -> Value {
    serde_yaml::from_str(&fs::read_to_string(root().join("action.yml")).unwrap()).unwrap()
}

#[test]
#[ignore = "installs check-jsonschema; run by .ci/run"]
fn action_and_readme_workflows_match_schemastore() {
    let tmp = tempfile::tempdir().unwrap();
    let out = schema_check("vendor.github-actions", &[root().join("action.yml")]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // The schema does reject a broken action: one whose steps lack `shell`.
    let mut broken = action();
    for step in broken["runs"]["steps"].as_sequence_mut().unwrap() {
        step.as_mapping_mut().unwrap().remove("shell");
    }
    let broken_path = tmp.path().join("action.yml");
    fs::write(&broken_path, serde_yaml::to_string(&broken).unwrap()).unwrap();
    assert!(!schema_check("vendor.github-actions", &[broken_path])
        .status
        .success());

    // A workflow has jobs by name (the config's `jobs` is a number).
    let workflows: Vec<Value> = readme_yaml()
        .into_iter()
        .filter(|block| block["jobs"].is_mapping())
        .collect();
    assert!(workflows.len() >= 2, "README's workflows: {workflows:?}");
    let files: Vec<PathBuf> = workflows
        .iter()
        .enumerate()
        .map(|(i, workflow)| {
            let path = tmp.path().join(format!("workflow-{i}.yml"));
            fs::write(&path, serde_yaml::to_string(workflow).unwrap()).unwrap();
            path
        })
        .collect();
    let out = schema_check("vendor.github-workflows", &files);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    // The README's first workflow uses this action, with inputs it has.
    let inputs = action()["inputs"].as_mapping().unwrap().clone();
    let steps = workflows[0]["jobs"]
        .as_mapping()
        .unwrap()
        .values()
        .flat_map(|job| job["steps"].as_sequence().unwrap().clone());
    let uses_action: Vec<Value> = steps
        .filter(|step| {
            step["uses"]
                .as_str()
                .is_some_and(|uses| uses.contains("/snipcheck@"))
        })
        .collect();
    assert_eq!(uses_action.len(), 1, "{uses_action:?}");
    if let Some(with) = uses_action[0].get("with") {
        for key in with.as_mapping().unwrap().keys() {
            assert!(inputs.contains_key(key), "no input {key:?} in action.yml");
        }
    }
}

/// What running the action's steps left: each step's outputs and result, what it printed.
struct ActionRun {
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Steps that ran, by name, with their exit code (`uses:` steps: 0, not run here).
    ran: Vec<(String, i32)>,
    log: String,
    env: BTreeMap<String, String>,
    summary: String,
    /// The `path` of each `uses:` step that would run, expanded.
    paths: BTreeMap<String, String>,
}

/// Runs action.yml's steps as a runner does, in `workspace`: `run:` steps with bash, the
/// inputs' defaults overridden by `inputs`, the runner's files (GITHUB_OUTPUT, GITHUB_ENV,
/// GITHUB_PATH, GITHUB_STEP_SUMMARY) read after each step. `uses:` steps are only evaluated
/// for whether they would run. Expressions: context paths (`inputs.x`,
/// `steps.id.outputs.x`, `steps.id.outcome`), `always()`, `==`, `!=`, `&&`.
fn run_action(workspace: &Path, runner: &Path, inputs: &[(&str, &str)]) -> ActionRun {
    let action = action();
    let mut context: BTreeMap<String, String> = BTreeMap::new();
    for (name, input) in action["inputs"].as_mapping().unwrap() {
        let default = input["default"].as_str().unwrap_or_default();
        context.insert(format!("inputs.{}", name.as_str().unwrap()), default.into());
    }
    for (name, value) in inputs {
        let key = format!("inputs.{name}");
        assert!(context.contains_key(&key), "no input {name} in action.yml");
        context.insert(key, (*value).into());
    }
    fs::create_dir_all(runner.join("temp")).unwrap();
    let files: BTreeMap<&str, PathBuf> = [
        "GITHUB_ENV",
        "GITHUB_PATH",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_OUTPUT",
    ]
    .into_iter()
    .map(|name| (name, runner.join(name)))
    .collect();
    for path in files.values() {
        fs::write(path, "").unwrap();
    }
    let mut run = ActionRun {
        outputs: BTreeMap::new(),
        ran: Vec::new(),
        log: String::new(),
        env: BTreeMap::new(),
        summary: String::new(),
        paths: BTreeMap::new(),
    };
    for step in action["runs"]["steps"].as_sequence().unwrap() {
        let name = step["name"].as_str().unwrap().to_owned();
        if let Some(condition) = step["if"].as_str() {
            if !condition_holds(condition, &context) {
                continue;
            }
        }
        let Some(script) = step["run"].as_str() else {
            if let Some(path) = step["with"]["path"].as_str() {
                run.paths.insert(name.clone(), expand(path, &context));
            }
            run.ran.push((name, 0));
            continue;
        };
        fs::write(&files["GITHUB_OUTPUT"], "").unwrap();
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(expand(script, &context))
            .current_dir(workspace)
            .env("GITHUB_ACTION_PATH", root())
            .env("RUNNER_TEMP", runner.join("temp"))
            .env("RUNNER_OS", "Linux")
            .env_remove("VIRTUAL_ENV")
            .envs(&files)
            .envs(&run.env);
        let added = fs::read_to_string(&files["GITHUB_PATH"]).unwrap();
        let path = added
            .lines()
            .rev()
            .map(str::to_owned)
            .chain([std::env::var("PATH").unwrap()])
            .collect::<Vec<_>>()
            .join(":");
        command.env("PATH", path);
        if let Some(env) = step["env"].as_mapping() {
            for (key, value) in env {
                command.env(
                    key.as_str().unwrap(),
                    expand(value.as_str().unwrap(), &context),
                );
            }
        }
        let out = command.output().unwrap();
        run.log += &format!("== {name}\n{}{}", stdout(&out), stderr(&out));
        let code = out.status.code().unwrap_or(-1);
        let id = step["id"].as_str();
        if let Some(id) = id {
            let outcome = if code == 0 { "success" } else { "failure" };
            context.insert(format!("steps.{id}.outcome"), outcome.into());
            let written = fs::read_to_string(&files["GITHUB_OUTPUT"]).unwrap();
            for line in written.lines() {
                let (key, value) = line.split_once('=').expect("GITHUB_OUTPUT lines are k=v");
                context.insert(format!("steps.{id}.outputs.{key}"), value.into());
                run.outputs
                    .entry(id.into())
                    .or_default()
                    .insert(key.into(), value.into());
            }
        }
        for line in fs::read_to_string(&files["GITHUB_ENV"]).unwrap().lines() {
            let (key, value) = line.split_once('=').expect("GITHUB_ENV lines are k=v");
            run.env.insert(key.into(), value.into());
        }
        run.ran.push((name, code));
        if code != 0 {
            break;
        }
    }
    run.summary = fs::read_to_string(&files["GITHUB_STEP_SUMMARY"]).unwrap();
    run
}

/// The value of a context path, failing on anything this runner does not evaluate.
fn lookup(path: &str, context: &BTreeMap<String, String>) -> String {
    match context.get(path) {
        Some(value) => value.clone(),
        // Not run (or no such output): empty, as on GitHub.
        None if path.starts_with("steps.") => String::new(),
        None => panic!("action.yml uses `{path}`, which this test's runner does not provide"),
    }
}

fn expand(text: &str, context: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let end = rest[start..].find("}}").expect("unterminated ${{") + start;
        out += &rest[..start];
        out += &lookup(rest[start + 3..end].trim(), context);
        rest = &rest[end + 2..];
    }
    out + rest
}

fn condition_holds(condition: &str, context: &BTreeMap<String, String>) -> bool {
    condition.split("&&").all(|term| {
        let term = term.trim();
        if term == "always()" {
            return true;
        }
        let (left, negate, right) = if let Some((l, r)) = term.split_once("!=") {
            (l, true, r)
        } else if let Some((l, r)) = term.split_once("==") {
            (l, false, r)
        } else {
            panic!("condition `{term}` is not evaluated by this test's runner")
        };
        let literal = right.trim().trim_matches('\'');
        (lookup(left.trim(), context) == literal) != negate
    })
}

#[test]
#[ignore = "builds the wheel (minutes); run by .ci/run"]
fn action_steps_report_and_gate() {
    let wheel = wheel().to_string_lossy().into_owned();
    let tmp = tempfile::tempdir().unwrap();
    let workspace = tmp.path().join("workspace");
    write_fixture(&workspace, true);
    let inputs = [("version", wheel.as_str()), ("paths", "guide.md")];

    let run = run_action(&workspace, &tmp.path().join("runner-1"), &inputs);
    let ran: Vec<&str> = run.ran.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        ran,
        [
            "Install snipcheck",
            "Restore the snipcheck cache",
            "Check the documents",
            "Save the snipcheck cache",
            "Upload the reports",
            "Fail on a failed check",
        ],
        "{}",
        run.log
    );
    // The gate fails the job with snipcheck's exit code; every step before it succeeded.
    assert_eq!(run.ran.last().unwrap().1, 1, "{}", run.log);
    assert!(
        run.ran[..5].iter().all(|(_, code)| *code == 0),
        "{}",
        run.log
    );

    let install = &run.outputs["install"];
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(install["version"], version);
    assert!(
        install["cache-key"].starts_with(&format!("snipcheck-Linux-{version}-py3.")),
        "{install:?}"
    );
    // The cache actions save the folder snipcheck wrote its verdicts to.
    let cache = workspace.join(".snipcheck");
    assert_eq!(
        run.env["SNIPCHECK_CACHE_DIR"],
        cache.to_string_lossy(),
        "{:?}",
        run.env
    );
    assert!(cache.join("results.sqlite").is_file(), "{}", run.log);
    for step in ["Restore the snipcheck cache", "Save the snipcheck cache"] {
        assert_eq!(workspace.join(&run.paths[step]), cache, "{step}");
    }

    let check = &run.outputs["check"];
    assert_eq!(check["exit-code"], "1");
    assert!(
        run.log
            .contains("::error file=guide.md,line=20,title=snipcheck%3A missing-name"),
        "{}",
        run.log
    );
    assert!(run.summary.contains("loadz"), "{}", run.summary);
    let html = fs::read_to_string(&check["html"]).unwrap();
    assert!(html.contains("<html") && html.contains("loadz"));
    let junit = fs::read_to_string(&check["junit"]).unwrap();
    assert!(junit.contains("<failure") && junit.contains("missing-name"));
    let uploaded: Vec<&str> = run.paths["Upload the reports"].lines().collect();
    assert_eq!(uploaded, [&check["html"], &check["junit"]]);

    // Fixed, the check passes and the gate does not run.
    write_fixture(&workspace, false);
    let run = run_action(&workspace, &tmp.path().join("runner-2"), &inputs);
    assert_eq!(run.outputs["check"]["exit-code"], "0", "{}", run.log);
    assert_eq!(run.ran.len(), 5, "{}", run.log);
    assert!(run.ran.iter().all(|(_, code)| *code == 0), "{}", run.log);
}
