# Puts the Node that hack/setup.sh installed first on PATH, when the system
# Node is older than podtrace needs (>= 22.22). For your own shell:
#   source hack/env.sh
# Only PATH changes: the hack/ settings are read in a child shell.
PATH=$(bash -c 'source "$1/lib/common.sh" && use_node && printf %s "$PATH"' env.sh \
  "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)") && export PATH
