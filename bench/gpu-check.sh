#!/usr/bin/env bash
# GPU check (issue 16): adapter, kernel correctness vs cpu, SimCLR step throughput on webgpu vs
# tfjs-wasm (2 threads), as JSON. Needs only the repository with its node_modules installed
# (pnpm install) and, on a GPU machine, the driver's Vulkan ICD (NVIDIA: libvulkan1 and the
# driver's nvidia_icd.json). See bench/gpu-check.mjs for the flags.
#   bash bench/gpu-check.sh --out gpu-check.json            # the check (< 10 min on a GPU)
#   bash bench/gpu-check.sh --dry-run --swiftshader         # on a machine without a GPU
set -euo pipefail
cd "$(dirname "$0")/.."
# The check imports the built packages; build them once if they are missing (tsc only).
for pkg in contract core backends models; do
  if [ ! -f "packages/$pkg/dist/index.js" ]; then
    pnpm --filter "@ebmjs/$pkg" build >&2
  fi
done
exec node bench/gpu-check.mjs "$@"
