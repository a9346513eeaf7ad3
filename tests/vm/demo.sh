#!/bin/bash
# Run one program (.wasm or .kwo) in kwo.ko inside a throwaway QEMU VM and
# show its output: the kernel half of scripts/demo. Never touches the host
# kernel. usage: tests/vm/demo.sh APP.wasm|APP.kwo [ARGS...]
exec "$(dirname "$0")/run.sh" exec "$@"
