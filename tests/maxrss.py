"""Runs a command and reports its exit status and peak memory, for the hostile-input tests.

Usage: python3 maxrss.py COMMAND [ARGS...]
Prints one line of JSON: {"code": N, "max_rss_kib": N, "stdout": "...", "stderr": "..."}.
The peak is the child's own (RUSAGE_CHILDREN of this process, which has no other children),
so tests running side by side do not blur it.
"""
import json
import resource
import subprocess
import sys

result = subprocess.run(sys.argv[1:], capture_output=True, stdin=subprocess.DEVNULL)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({
    "code": result.returncode,
    "max_rss_kib": peak,
    "stdout": result.stdout.decode("utf-8", "replace"),
    "stderr": result.stderr.decode("utf-8", "replace"),
}))
