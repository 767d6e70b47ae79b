#!/usr/bin/env bash
# Install torch 2.13.0 without pulling gigabytes of CUDA libraries onto a machine that has no GPU.
#
#   1. already installed, or a wheel in pip's local find-links: use it (dependencies from the usual indexes);
#   2. PATCHKIT_TORCH_INDEX set: install from that index (e.g. https://download.pytorch.org/whl/cu128);
#   3. an NVIDIA GPU present (nvidia-smi lists one): the default index (CUDA build on Linux);
#   4. otherwise: PyTorch's CPU-only wheel index, https://download.pytorch.org/whl/cpu.
set -euo pipefail
TORCH_SPEC="torch==2.13.0"
CPU_INDEX="https://download.pytorch.org/whl/cpu"
export PIP_ROOT_USER_ACTION=ignore

if [ -n "${PATCHKIT_TORCH_INDEX:-}" ]; then
    echo "installing $TORCH_SPEC from $PATCHKIT_TORCH_INDEX" >&2
    exec python3 -m pip install --quiet "$TORCH_SPEC" --index-url "$PATCHKIT_TORCH_INDEX"
fi
if python3 -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" >/dev/null 2>&1; then
    exit 0  # installed already
fi
if python3 -m pip download --quiet --no-index --no-deps -d "$(mktemp -d)" "$TORCH_SPEC" >/dev/null 2>&1; then
    # a wheel in pip's local find-links: install it (its dependencies come from the configured indexes)
    exec python3 -m pip install --quiet "$TORCH_SPEC"
fi
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; then
    echo "NVIDIA GPU found: installing $TORCH_SPEC from the default index (CUDA build)" >&2
    exec python3 -m pip install --quiet "$TORCH_SPEC"
fi
if [ "$(uname -s)" = "Darwin" ]; then
    exec python3 -m pip install --quiet "$TORCH_SPEC"  # macOS wheels are CPU/MPS builds already
fi
echo "no GPU found: installing the CPU-only $TORCH_SPEC from $CPU_INDEX (set PATCHKIT_TORCH_INDEX to choose)" >&2
exec python3 -m pip install --quiet "$TORCH_SPEC" --index-url "$CPU_INDEX"
