#!/usr/bin/env bash
# Endless or binary files given where a small text file is expected stop at once:
#   1. `--config /dev/zero` exits 78 (configuration) naming the file;
#   2. a config file over 1 MiB (endless text, through a FIFO) exits 78 and says the limit;
#   3. `refresh /dev/zero` exits 65 naming the file and the NUL byte, and writes nothing;
#   4. `refresh` of an endless text stream (a FIFO fed by `yes`) exits 65 at its limit.
source "$(dirname "$0")/common.inc"

expect_exit 78 timeout 60 "$ASSETGEN" --config /dev/zero seed --rows 1
assert_contains err.txt '/dev/zero: not a text file (a NUL byte at byte 1)'

mkfifo cfg.fifo
yes '# a comment line that goes on and on' >cfg.fifo 2>/dev/null &
writer=$!
cleanup_pids+=("$writer")
expect_exit 78 timeout 60 "$ASSETGEN" --config cfg.fifo seed --rows 1
assert_contains err.txt 'cfg.fifo: more than 1 MiB; a config file is a few lines of options'
kill "$writer" 2>/dev/null || true

expect_exit 65 timeout 60 "$ASSETGEN" refresh /dev/zero
assert_contains err.txt '/dev/zero: not a text file (a NUL byte at byte 1)'

mkfifo doc.fifo
yes 'https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256' >doc.fifo 2>/dev/null &
writer=$!
cleanup_pids+=("$writer")
expect_exit 65 timeout 120 "$ASSETGEN" refresh doc.fifo
assert_contains err.txt 'doc.fifo: more than 268435456 bytes, the limit for this file; nothing was changed'
echo "ok: --config /dev/zero exits 78, refresh /dev/zero exits 65, endless pipes stop at their limits"
