# Shared by bin/demo and bin/test: make sure uv and the locked environment are there.
# `uv` is looked for on the PATH, then where pip and uv's own installer put it; when it is found
# only there, UV_NOT_ON_PATH names the directory so bin/demo can tell the user.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
UV_NOT_ON_PATH=""
if ! command -v uv >/dev/null 2>&1; then
    for dir in "$HOME/.local/bin" "$HOME/.cargo/bin"; do
        if [ -x "$dir/uv" ]; then UV_NOT_ON_PATH="$dir"; break; fi
    done
    if [ -z "$UV_NOT_ON_PATH" ]; then
        echo "Installing uv with pip into ~/.local/bin ..." >&2
        python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
        command -v uv >/dev/null 2>&1 || UV_NOT_ON_PATH="$HOME/.local/bin"
    fi
    if [ -n "$UV_NOT_ON_PATH" ]; then export PATH="$UV_NOT_ON_PATH:$PATH"; fi
fi
uv sync --frozen --quiet
