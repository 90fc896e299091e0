#!/usr/bin/env bash
# Runs one fuzz target for a bounded time from its committed seeds (CI: 60 s each).
# Every crash input is reproduced; CI fails on any whose message does not match a defect
# listed as still open in fuzz/known-open.txt (see fuzz/README.md). A sanitizer report or a
# crash without a panic message (abort, out of memory, an input slower than 300 s) always
# fails.
set -euo pipefail
cd "$(dirname "$0")"
target=$1
seconds=${2:-60}
work=$(mktemp -d)
artifacts=$(mktemp -d)
cp corpus/"$target"/golden-* "$work"/
cargo +nightly fuzz run --dev "$target" "$work" -- \
  -max_total_time="$seconds" -timeout=300 -rss_limit_mb=8192 -fork=1 -ignore_crashes=1 -ignore_ooms=0 \
  -artifact_prefix="$artifacts"/ > "$artifacts/log" 2>&1 || true
if ! grep -qE "INFO: fuzzed for|INFO: exiting" "$artifacts/log"; then
  echo "the fuzzer did not run:"; tail -n 30 "$artifacts/log"; exit 1
fi
grep -E "^#[0-9]+: " "$artifacts/log" | tail -n 1 || true
binary=target/x86_64-unknown-linux-gnu/debug/$target
patterns=$(grep -v '^#' known-open.txt | grep -v '^[[:space:]]*$' || true)
status=0
for crash in "$artifacts"/crash-* "$artifacts"/oom-* "$artifacts"/timeout-*; do
  [ -e "$crash" ] || continue
  message=""
  case $(basename "$crash") in
    timeout-*) ;; # running it again would take as long
    *) message=$("$binary" "$crash" 2>&1 | grep -A1 "panicked at" | tail -n 1 || true) ;;
  esac
  if [ -n "$message" ] && [ -n "$patterns" ] && grep -qE -f <(printf '%s\n' "$patterns") <<<"$message"; then
    echo "known open defect: ${message:0:300}"
  else
    echo "NEW FINDING ($(basename "$crash")): ${message:0:600}"
    echo "the input, base64: $(base64 -w0 "$crash" | head -c 8000)"
    if [ -z "$message" ] && [[ $(basename "$crash") != timeout-* ]]; then
      "$binary" "$crash" 2>&1 | grep -E "ERROR: AddressSanitizer|SUMMARY" | head -n 3 || true
    fi
    status=1
  fi
done
rm -rf "$work" "$artifacts"
exit $status
