#!/usr/bin/env bash
# Installs jupyter_server from PyPI into a venv in the testbed's cache (once; about 25 s) and prints the path
# of its jupyter-server executable. The idle-stop integration test runs a real Jupyter server with it.
set -euo pipefail
VERSION=${DARWIN_JUPYTER_SERVER_VERSION:-2.21.1}
DIR=${DARWIN_CACHE:-$HOME/.cache/darwin-testbed}/jupyter-server-$VERSION
PYTHON=${DARWIN_PYTHON:-python3}
if [[ ! -f $DIR/.complete ]]; then
  rm -rf "$DIR"
  "$PYTHON" -m venv "$DIR" >&2
  "$DIR/bin/pip" install --no-input -q "jupyter_server==$VERSION" >&2
  touch "$DIR/.complete"
fi
echo "$DIR/bin/jupyter-server"
