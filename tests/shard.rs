//! A run split into shards and merged back is the unsharded run; a broken set of shards is
//! an error that names what is wrong, never a silent pass.

use crate::support::{command_in, root, snipcheck, stderr};

const CONFIG: &str = "fixtures/formats/snipcheck.yaml";

/// The record with what differs between two runs of the same snippets taken out.
fn comparable(mut record: serde_json::Value) -> serde_json::Value {
    for snippet in record["snippets"].as_array_mut().unwrap() {
        snippet["duration_ms"] = 0.into();
    }
    record
}

fn json_of(args: &[&str], exit_code: i32, path: &std::path::Path) -> serde_json::Value {
    let mut command = command_in(&root(), args);
    command.args(["--format", "json", "-o", path.to_str().unwrap()]);
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(exit_code), "{}", stderr(&output));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn three_shards_merged_give_the_unsharded_record() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let whole = json_of(
        &["check", "--config", CONFIG],
        1,
        &dir.path().join("whole.json"),
    );
    let mut shard_files = Vec::new();
    let mut documents = 0;
    for index in 1..=3 {
        let file = dir.path().join(format!("shard-{index}.json"));
        let shard = format!("{index}/3");
        let record = json_of(&["check", "--config", CONFIG, "--shard", &shard], 1, &file);
        assert_eq!(record["shard"]["index"], index);
        assert_eq!(record["shard"]["total"], 3);
        documents += record["summary"]["documents"].as_u64().unwrap();
        shard_files.push(file);
    }
    // Every document in exactly one shard.
    assert_eq!(documents, whole["summary"]["documents"].as_u64().unwrap());
    // Any order of the shards' records.
    let mut args = vec!["merge", "--config", CONFIG];
    let files: Vec<String> = shard_files
        .iter()
        .rev()
        .map(|f| f.display().to_string())
        .collect();
    args.extend(files.iter().map(String::as_str));
    let merged = json_of(&args, 1, &dir.path().join("merged.json"));
    assert_eq!(comparable(merged), comparable(whole));
}

#[test]
fn a_missing_shard_is_an_error_that_names_it() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut files = Vec::new();
    for index in [1, 3] {
        let file = dir.path().join(format!("shard-{index}.json"));
        let shard = format!("{index}/3");
        json_of(&["check", "--config", CONFIG, "--shard", &shard], 1, &file);
        files.push(file.display().to_string());
    }
    let output = snipcheck(&["merge", "--config", CONFIG, &files[0], &files[1]]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: shard 2 of 3 missing: merge needs the records of every shard\n"
    );
    // A whole run's record is not a shard's.
    let whole = dir.path().join("whole.json");
    json_of(&["check", "--config", CONFIG], 1, &whole);
    let output = snipcheck(&["merge", "--config", CONFIG, whole.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a shard's"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn shards_come_from_bazel_variables_and_refuse_update() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let file = dir.path().join("bazel.json");
    let mut command = command_in(&root(), &["check", "--config", CONFIG]);
    command
        .env("TEST_SHARD_INDEX", "1")
        .env("TEST_TOTAL_SHARDS", "2")
        .args(["--format", "json", "-o", file.to_str().unwrap()]);
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    // Bazel counts from 0; the record from 1.
    assert_eq!(record["shard"]["index"], 2);
    assert_eq!(record["shard"]["total"], 2);

    let output = snipcheck(&["check", "--config", CONFIG, "--shard", "1/2", "--update"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "merge the shards' records with `snipcheck merge`, then run `snipcheck accept`"
        ),
        "{}",
        stderr(&output)
    );
    let output = snipcheck(&["check", "--config", CONFIG, "--shard", "4/3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("shard 4/3 does not exist"),
        "{}",
        stderr(&output)
    );
}

/// The documents (file names) a shard's JSON record holds snippets of.
fn documents_of(record: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = record["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let path = std::path::Path::new(s["path"].as_str().unwrap());
            path.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    names.dedup();
    names
}

#[test]
fn shards_are_balanced_by_the_durations_in_the_committed_record() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    // One document with one snippet, two with five: by snippet counts the first is the
    // lightest; the record will say it is by far the slowest.
    let fence = |n: usize| format!("## Step {n}\n\n```python\nx = {n}\n```\n\n");
    write("a.md", &format!("# A\n\n{}", fence(1)));
    for name in ["b.md", "c.md"] {
        write(
            name,
            &format!("# {name}\n\n{}", (1..=5).map(fence).collect::<String>()),
        );
    }
    write("snipcheck.yaml", "documents: [a.md, b.md, c.md]\n");
    let shard = |index: u32| {
        let file = dir.path().join(format!("shard-{index}.json"));
        let mut command = command_in(dir.path(), &["check", "--shard", &format!("{index}/2")]);
        command.args(["--format", "json", "-o", file.to_str().unwrap()]);
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let record = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        documents_of(&record)
    };
    // No record yet: snippet counts (b, then c, then a onto the lighter shard).
    assert_eq!(
        (shard(1), shard(2)),
        (vec!["a.md".into(), "b.md".into()], vec!["c.md".into()])
    );

    // The record written, then its duration for a.md's snippet made 5 s (as if it trained
    // a model): a.md now fills a shard alone.
    let output = command_in(dir.path(), &["check", "--update"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let record_file = dir.path().join("snipcheck.record.yaml");
    let record = std::fs::read_to_string(&record_file).unwrap();
    let a = record.find("a.md:").unwrap();
    let at = a + record[a..].find("duration_ms: ").unwrap() + "duration_ms: ".len();
    let end = at + record[at..].find('\n').unwrap();
    std::fs::write(
        &record_file,
        format!("{}5000{}", &record[..at], &record[end..]),
    )
    .unwrap();
    assert_eq!(
        (shard(1), shard(2)),
        (vec!["a.md".into()], vec!["b.md".into(), "c.md".into()])
    );
}
