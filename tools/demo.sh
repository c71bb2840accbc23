#!/usr/bin/env bash
# The README's main job: synthetic IRSTD data -> train a light SeRankDet on CPU -> test.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "The demo needs the model and training configs, which are not in this build yet." >&2
exit 2
