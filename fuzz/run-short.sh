#!/usr/bin/env bash
# A short fuzz run of every target, for CI: installs cargo-fuzz if missing, builds the targets
# (on the stable toolchain via RUSTC_BOOTSTRAP=1), then runs each for FUZZ_SECONDS (default 20)
# from the committed seeds. Exits non-zero on the first crash, leak, timeout or failed assertion;
# the reproducer is left in fuzz/artifacts/<target>/.
#
#   fuzz/run-short.sh                 # all targets, 20 s each
#   FUZZ_SECONDS=300 fuzz/run-short.sh ocpp_frame
#
# The committed corpus is read-only input here: what libFuzzer finds goes to a scratch
# directory, so a run never changes the working tree.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-20}"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

# Build every requested target first, so a build failure is told apart from a crash. A failed
# build is tried once more after showing the free disk: the linker dies with "Bus error" when
# the disk fills, and a transient failure should not read as a fuzzing result.
build_all() {
    local target
    for target in "${targets[@]}"; do
        cargo fuzz build "$target" || return 1
    done
}
if ! build_all; then
    df -h . >&2
    echo "fuzz build failed; trying once more" >&2
    build_all || { echo "!!! fuzz build failed twice (see above)" >&2; exit 1; }
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for target in "${targets[@]}"; do
    extra=()
    # A request head may be up to 16 KiB: let inputs grow past the limit to reach the 431 path.
    if [ "$target" = ws_upgrade ]; then extra+=(-max_len=20000); fi
    mkdir -p "$scratch/$target"
    # Committed seeds, when the target has them (a new target may not yet: start empty).
    seeds=()
    if [ -d "corpus/$target" ]; then seeds+=("corpus/$target"); fi
    log="$scratch/$target.log"
    echo "=== fuzz $target for ${seconds}s"
    start=$SECONDS
    if cargo fuzz run "$target" "$scratch/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${extra[@]}" >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
        echo "=== $target: no crash ($((SECONDS - start))s)"
    else
        status=$?
        tail -n 80 "$log" >&2
        echo "!!! $target failed (exit $status); reproducer in fuzz/artifacts/$target/" >&2
        exit "$status"
    fi
done
