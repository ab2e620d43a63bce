#!/usr/bin/env bash
# Re-runs the independent python-diameter check (README.md here) from scratch and fails if its
# output differs from the committed dumps that tests/vectors.rs compares our codec with: the
# committed files must be what python-diameter really says about our current encodings.
# Needs python3 with venv and PyPI; CI runs it (.ci/run), locally: bash this-file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${UNICHARGE_PYD_VENV:-${TMPDIR:-/tmp}/unicharge-python-diameter}"
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    if command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    else
      echo "python3 -m venv failed: install python3 with venv support" >&2
      exit 1
    fi
  fi
fi
"$venv/bin/pip" install -q python-diameter==0.9.0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Inputs only: our encodings and dictionary; the script writes its outputs next to itself.
cp "$here"/python_diameter_check.py "$here"/our-dictionary.tsv "$work"/
for f in "$here"/*.hex; do
  case "$(basename "$f")" in py_*) ;; *) cp "$f" "$work"/ ;; esac
done
(cd "$work" && "$venv/bin/python" python_diameter_check.py >/dev/null)
status=0
for f in "$work"/*.python-dump "$work"/py_*.hex "$work"/python-dictionary.tsv; do
  name="$(basename "$f")"
  if ! cmp -s "$f" "$here/$name"; then
    echo "python-diameter now says something else about $name:" >&2
    diff "$here/$name" "$f" >&2 || true
    status=1
  fi
done
count="$(ls "$work"/*.python-dump | wc -l)"
[ "$status" = 0 ] && echo "python-diameter 0.9.0 agrees with the committed dumps ($count messages, py_*.hex, dictionary)"
exit "$status"
