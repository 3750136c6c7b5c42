#!/usr/bin/env python3
"""What the tests' mock GitLab saw, for the integration tests' mq helper
(lib-gitlab.sh): prints the Python expression EXPR evaluated over

  R     the requests the mock recorded, oldest first: --requests FILE (a JSON
        list, GET /_mock/requests) or --record FILE (JSON lines, the mock's
        --record file);
  S     its state (--state FILE, GET /_mock/state);
  K     its tokens, with their values (--tokens FILE, GET /_mock/tokens);
  WURL  the integration's webhook URL (--webhook-url URL);

and the helpers below.  Strings are printed bare, the rest as JSON; an
expression that raises prints <Error: message> and exits 1.

usage: mq.py (--requests FILE | --record FILE) [--state FILE]
             [--tokens FILE] [--webhook-url URL] EXPR
"""
import argparse
import json
import re
import sys

_p = argparse.ArgumentParser(usage=__doc__.rsplit("usage: ", 1)[1])
_src = _p.add_mutually_exclusive_group(required=True)
_src.add_argument("--requests")
_src.add_argument("--record")
_p.add_argument("--state")
_p.add_argument("--tokens")
_p.add_argument("--webhook-url", default="")
_p.add_argument("expr")
_a = _p.parse_args()

if _a.record is not None:
    R = []
    for line in open(_a.record):
        if line.strip():
            R.append(json.loads(line))
else:
    R = json.load(open(_a.requests))
S = json.load(open(_a.state)) if _a.state else {}
K = json.load(open(_a.tokens)) if _a.tokens else []
WURL = _a.webhook_url


# -- any request
def api(r):
    """r's path after /api/v4."""
    return r["path"].split("/api/v4", 1)[1] if "/api/v4" in r["path"] else r["path"]


def body(r):
    return r.get("body") or {}


def writes():
    """(method, path) of every POST, PUT and DELETE in R."""
    return [(r["method"], r["path"]) for r in R if r["method"] in ("POST", "PUT", "DELETE")]


# -- commit statuses
def statuses(name=None):
    """The status POSTs in R (of the job NAME)."""
    return [r for r in R if r["method"] == "POST" and "/statuses/" in r["path"]
            and (name is None or body(r).get("name") == name)]


def st(r):
    """A status POST's state."""
    return body(r).get("state")


def latest(sha, name):
    """The state of GitLab's newest job NAME on SHA that was not retried."""
    xs = [s for s in S["statuses"] if s["sha"] == sha and s["name"] == name and not s.get("retried")]
    return xs[-1]["status"] if xs else None


def squeeze(xs):
    """xs with repeats in a row collapsed."""
    out = []
    for x in xs:
        if not out or out[-1] != x:
            out.append(x)
    return out


# -- project hooks
def hooks(pid):
    """The hooks of project pid."""
    return [h for h in S["hooks"] if h["project_id"] == pid]


def ours(pid):
    """Those of them pointing at the integration's webhook URL."""
    return [h for h in hooks(pid) if h["url"] == WURL]


def resent():
    """The event ids stackhook asked GitLab to resend."""
    return [int(re.search(r"/events/(\d+)/resend$", r["path"]).group(1))
            for r in R if r["method"] == "POST" and r["path"].endswith("/resend")]


def events():
    """The GET …/events (a hook's delivery log)."""
    return [r for r in R if r["method"] == "GET" and r["path"].endswith("/events")]


try:
    v = eval(_a.expr)
except Exception as e:
    print("<%s: %s>" % (type(e).__name__, e))
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
