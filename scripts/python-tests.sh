#!/usr/bin/env bash
# python-tests.sh — the Python package (python/): builds its wheel (libswiftaio.so, Swift runtime linked
# statically), installs it into a virtual environment outside the clone and runs its pytest suite.
#
# The environment (numpy, pytest, torch, DeepSpeed 0.19.8, ninja: about 3 GB) is made once and reused by
# later runs on the same machine: $SWIFT_AIO_PYENV, default ~/.cache/swift-aio/pyenv. Without network
# access to PyPI the torch and DeepSpeed tests show as skipped, with their reason.
#
# usage: scripts/python-tests.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
env=${SWIFT_AIO_PYENV:-$HOME/.cache/swift-aio/pyenv}
if [[ ! -x $env/bin/pytest ]]; then
  python3 -m venv "$env"
  "$env/bin/pip" install -q --upgrade pip wheel setuptools
  "$env/bin/pip" install -q numpy pytest
fi
if ! "$env/bin/python" -c "import torch, deepspeed" 2>/dev/null; then
  "$env/bin/pip" install -q torch deepspeed==0.19.8 ninja \
    || echo "python-tests: torch and DeepSpeed could not be installed; their tests will be skipped"
fi
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
"$env/bin/pip" wheel -q --no-deps -w "$dist" ./python
"$env/bin/pip" install -q --force-reinstall --no-deps "$dist"/swift_aio-*.whl
# From the repository's root, so that python/swift_aio (the sources, without the library) is not on sys.path.
PATH=$env/bin:$PATH "$env/bin/pytest" -q -p no:cacheprovider python/tests "$@"
