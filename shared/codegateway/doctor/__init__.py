"""`cgw doctor`: the troubleshooting guide as one command, run from the client's side.

Probes (`probe_network`, `probe_http`, `claude_state`) measure; checks (`checks_*`) are pure functions
from what was measured to pass / warn / fail and the fix; `run` strings them together.
"""
