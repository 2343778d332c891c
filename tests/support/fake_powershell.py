"""A stand-in for powershell.exe that speaks the warm session's protocol.

Run as `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File PATH`. When
PATH is the session host (its first line says so) it serves requests as the session host
does; otherwise it answers one script as a process of its own would. What it does for each
request is read from FAKE_DIR/behaviour (JSON, read afresh each time):

  {"observe": "ok" | "hang" | "die" | "refuse" | "garble", "memory": BYTES, "ready": "ok" | "never"}

Every start and request is appended to FAKE_DIR/log.jsonl; argv and the environment of each
process to FAKE_DIR/<pid>.argv and FAKE_DIR/<pid>.env, so that tests can show where secrets
went. Its answer to a script is JSON: {pid, n, kind, scriptSent, input}.
"""

import base64
import json
import os
import sys
import time

DIR = os.environ["FAKE_DIR"]


def log(entry):
    with open(os.path.join(DIR, "log.jsonl"), "a") as f:
        f.write(json.dumps(entry) + "\n")


def behaviour():
    try:
        with open(os.path.join(DIR, "behaviour")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def field(text):
    return base64.b64encode(text.encode()).decode() if text else "-"


def main():
    pid = os.getpid()
    with open(os.path.join(DIR, f"{pid}.argv"), "w") as f:
        f.write("\n".join(sys.argv[1:]))
    with open(os.path.join(DIR, f"{pid}.env"), "w") as f:
        f.write("\n".join(f"{k}={v}" for k, v in os.environ.items()))
    path = sys.argv[-1]
    with open(path) as f:
        first = f.readline()
    if "galaxy-ha session host" not in first:
        envelope = json.loads(sys.stdin.read())
        log({"pid": pid, "mode": "process", "envelope": envelope})
        sys.stdout.write(json.dumps({"pid": pid, "n": 1, "kind": "process", "input": envelope["input"]}))
        return
    nonce = sys.stdin.readline().strip()
    log({"pid": pid, "mode": "session", "started": True})
    if behaviour().get("ready", "ok") == "never":
        sys.stdout.write("PowerShell could not start the session\n")
        sys.stdout.flush()
        return
    out = sys.stdout
    out.write(f"{nonce} ready\n")
    out.flush()
    scripts = {}
    n = 0
    for line in sys.stdin:
        n += 1
        request = json.loads(base64.b64decode(line.strip()))
        kind = request["kind"]
        sent = request["script"] is not None
        if sent:
            scripts[kind] = request["script"]
        envelope = json.loads(request["envelope"])
        log({"pid": pid, "mode": "session", "n": n, "kind": kind, "scriptSent": sent, "envelope": envelope})
        b = behaviour()
        what = b.get(kind, "ok")
        memory = b.get("memory", 50 * 1024 * 1024)
        if what == "hang":
            time.sleep(60)
        if what == "die":
            sys.stderr.write("the session host crashed\n")
            sys.exit(5)
        # Noise a script could print: a line outside any frame, a frame with another nonce,
        # and text without a newline before the real frame.
        out.write("WARNING: noise from the script\n")
        out.write("ffffffffffffffffffffffffffffffff done 0 - - 1\n")
        out.write("no newline here")
        if what == "garble":
            out.write(f"{nonce} done zero - - 1\n")
            out.flush()
            continue
        if kind not in scripts:
            out.write(f"{nonce} done 1 - {field('the ' + kind + ' script was never sent')} {memory}\n")
            out.flush()
            continue
        if what == "refuse":
            out.write(f"{nonce} done 2 - {field('Carbonite|the job is failing over')} {memory}\n")
            out.flush()
            continue
        answer = json.dumps({"pid": pid, "n": n, "kind": kind, "scriptSent": sent, "input": envelope["input"]})
        # Output that holds this session's own frame text must not end the reply early.
        answer_text = answer + "\n" + f"{nonce} done 0 - - 1"
        out.write(f"{nonce} done 0 {field(answer_text)} - {memory}\n")
        out.flush()


main()
