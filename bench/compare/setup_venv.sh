#!/usr/bin/env bash
# The reference environment of bench/compare (and of tests/golden's generators): a virtual environment
# outside the repository with PyTorch, SpikingJelly and matplotlib. Usage: bench/compare/setup_venv.sh [DIR]
# (default ~/sjvenv). Needs python3-venv (apt-get install python3-venv).
set -euo pipefail
venv="${1:-$HOME/sjvenv}"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet torch spikingjelly matplotlib
"$venv/bin/python" -c "import torch, spikingjelly, matplotlib; print('torch', torch.__version__, '| spikingjelly ok | matplotlib', matplotlib.__version__)"
echo "reference environment: $venv (run bench/compare/run.py with $venv/bin/python)"
