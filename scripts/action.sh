#!/usr/bin/env bash
# The steps of the GitHub Action (action.yml), runnable anywhere that provides what the runner
# does: GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY (files the runner reads
# after each step), RUNNER_TEMP, and the action's inputs as INPUT_* variables.
#
#   action.sh install   install snipcheck into a venv of its own; outputs version and cache-key
#   action.sh check     run the check with annotations and reports; outputs exit-code, html,
#                       junit; the summary gets the Markdown report. Never fails itself: the
#                       action's last step turns exit-code into the job's result.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
venv="${RUNNER_TEMP:?RUNNER_TEMP is not set}/snipcheck-venv"
reports="$RUNNER_TEMP/snipcheck-reports"

output() { echo "$1=$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"; }

install() {
    local python=${INPUT_PYTHON:-python3} requirement=${INPUT_VERSION:-}
    case "$requirement" in
    "")  # this action's own version, from the Cargo.toml beside it
        requirement="snipcheck==$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)" ;;
    [0-9]*) requirement="snipcheck==$requirement" ;;
    esac
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement"
    local version python_version
    version=$("$venv/bin/snipcheck" --version | awk '{print $NF}')
    python_version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    echo "snipcheck $version (Python $python_version) in $venv"
    output version "$version"
    # Environments are built for one Python and verdicts are kept per snipcheck version.
    output cache-key "snipcheck-${RUNNER_OS:-Linux}-$version-py$python_version"
    # Later steps, the job's own included, run this snipcheck with the same cache.
    echo "$venv/bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
    echo "SNIPCHECK_CACHE_DIR=$(realpath -m "${INPUT_CACHE_DIR:-.snipcheck}")" >>"${GITHUB_ENV:?GITHUB_ENV is not set}"
}

check() {
    mkdir -p "$reports"
    local md="$reports/snipcheck.md" html="$reports/snipcheck.html" junit="$reports/snipcheck.xml"
    rm -f "$md" "$html" "$junit"
    local args=() paths=() status=0
    # Inputs are lists separated by spaces, as a workflow author writes them on one line.
    read -r -a args <<<"${INPUT_ARGS:-}"
    read -r -a paths <<<"${INPUT_PATHS:-}"
    "$venv/bin/snipcheck" check --format github \
        --output-format "markdown=$md,html=$html,junit=$junit" \
        "${args[@]}" "${paths[@]}" || status=$?
    if [ -f "$md" ]; then
        cat "$md" >>"${GITHUB_STEP_SUMMARY:?GITHUB_STEP_SUMMARY is not set}"
    else
        # A usage or configuration error writes no report; its message is in the log.
        printf '## snipcheck\n\nThe check stopped with exit code %s before writing a report; the step'"'"'s log says why.\n' \
            "$status" >>"${GITHUB_STEP_SUMMARY:?GITHUB_STEP_SUMMARY is not set}"
    fi
    output exit-code "$status"
    output html "$html"
    output junit "$junit"
}

case "${1:-}" in
install) install ;;
check) check ;;
*)
    echo "usage: $0 install|check" >&2
    exit 2
    ;;
esac
