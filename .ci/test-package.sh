#!/usr/bin/env bash
# Runs the tests of one workspace package from the binaries `cargo test --workspace` built,
# the way `cargo test -p <package>` would run them, without building anything again.
#
#   .ci/test-package.sh unicharge-server [libtest args…]
#
# Why not `cargo test -p unicharge-server`: cargo resolves features for the packages selected,
# and with `-p` a few dependencies deep in the tree (zerocopy, either) get fewer features than in
# the workspace build. Everything above them is then compiled and every test binary linked a
# second time: about 15 GB more on disk, which filled a CI machine's disk (stop 29). Running the
# binaries the workspace build made cannot drift like that, whatever the dependencies do.
#
# Like cargo: each binary runs in the package's folder with CARGO_MANIFEST_DIR set, every binary
# runs even when an earlier one failed (as `--no-fail-fast`), and the exit status is non-zero
# when any failed. The output has cargo's `Running` lines and libtest's own, so the conformance
# reports read it as they read cargo's.
set -euo pipefail
cd "$(dirname "$0")/.."
package=${1:?usage: .ci/test-package.sh <package> [libtest args…]}
shift

# The package's test binaries (unit tests of lib and bins, integration tests), as cargo lists
# them; `--no-run` after a `cargo test --workspace` only reads what is built.
list=$(cargo test --workspace --no-run --message-format=json | python3 -c '
import json, sys
package = sys.argv[1]

def name_of(package_id):
    # path+file:///…/crates/server#unicharge-server@0.1.0, or …/crates/sim#0.1.0 when the folder
    # is named like the package.
    url, _, fragment = package_id.partition("#")
    return fragment.split("@")[0] if "@" in fragment else url.rstrip("/").split("/")[-1]

for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    if m["profile"]["test"] and name_of(m["package_id"]) == package:
        print(m["target"]["src_path"], m["executable"], m["manifest_path"], sep="\t")
' "$package" | sort)
if [ -z "$list" ]; then
  echo "no test binaries of $package: run \`cargo test --workspace\` first, or check the name" >&2
  exit 2
fi

failed=()
while IFS=$'\t' read -r src exe manifest; do
  dir=$(dirname "$manifest")
  printf '     Running %s (%s)\n' "${src#"$dir"/}" "${exe#"$PWD"/}"
  if ! (cd "$dir" && CARGO_MANIFEST_DIR="$dir" "$exe" "$@"); then
    failed+=("${src#"$dir"/}")
  fi
done <<<"$list"

if [ ${#failed[@]} -gt 0 ]; then
  printf 'error: %d test binaries of %s failed:\n' "${#failed[@]}" "$package" >&2
  printf '    %s\n' "${failed[@]}" >&2
  exit 101
fi
