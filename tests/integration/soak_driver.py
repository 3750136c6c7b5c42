#!/usr/bin/env python3
"""The soak's load: webhook deliveries and admin API calls through nginx,
a bounded number at once, each worker on its own keep-alive connection.

    soak_driver.py PHASE --base URL --secret S --admin-key K --fixtures DIR
                   --results FILE [--from I --to J] [--concurrency C]

PHASE
  unique   deliveries I..J-1, each with an Idempotency-Key of its own: by
           I % 25, 0-1 a merge request opened on commit b<I> (one run),
           2 a branch deletion (ignored), else a push of commit a<I> (two
           runs); after every tenth, one admin API read
  extra    for the accepted pushes in FILE: every 25th one's tracked run
           moved to preparing (a second update of its status), and
           --dups of them delivered again (duplicate), then --refused
           deliveries that must be refused (bad token 401, broken JSON
           400, unknown integration 404)

Each request is appended to FILE as one JSON line: index, kind, key, the
status expected and received, and for accepted deliveries the runs.
Prints one summary line; exits 1 when an answer was not the one expected.
"""
import argparse
import http.client
import json
import os
import queue
import sys
import threading
import urllib.parse


def load(path):
    with open(path) as fh:
        return json.load(fh)


class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = u.hostname, u.port or 80, u.path.rstrip("/")
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, body bytes); status 0 when no answer came."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, self.prefix + path, body=body, headers=headers or {})
            except (ConnectionError, http.client.HTTPException, OSError):
                # Nothing was sent on a connection the server had closed
                # (keep-alive limit): once more on a new one.
                self.conn.close()
                self.conn = None
                if attempt == 0:
                    continue
                return 0, b""
            try:
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.conn.close()
                    self.conn = None
                return resp.status, data
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                self.conn.close()
                self.conn = None
                return 0, str(e).encode()
        return 0, b""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=("unique", "extra"))
    ap.add_argument("--base", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--admin-key", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--from", dest="start", type=int, default=0)
    ap.add_argument("--to", dest="end", type=int, default=0)
    ap.add_argument("--dups", type=int, default=0)
    ap.add_argument("--refused", type=int, default=0)
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()

    push = load(os.path.join(a.fixtures, "push.json"))
    mr = load(os.path.join(a.fixtures, "merge_request_open.json"))
    delete = load(os.path.join(a.fixtures, "push_branch_delete.json"))
    admin = {"Authorization": "Bearer " + a.admin_key}

    def hook_headers(event, key, token=a.secret):
        return {"Content-Type": "application/json", "X-Gitlab-Event": event,
                "X-Gitlab-Token": token, "Idempotency-Key": key}

    def push_body(i):
        d = json.loads(json.dumps(push))
        sha = "a%039x" % i
        d["after"] = d["checkout_sha"] = sha
        d["commits"][0]["id"] = sha
        return json.dumps(d).encode()

    def mr_body(i):
        d = json.loads(json.dumps(mr))
        d["object_attributes"]["last_commit"]["id"] = "b%039x" % i
        d["object_attributes"]["iid"] = i + 1
        return json.dumps(d).encode()

    reads = ["/api/v1/whoami", "/api/v1/runs?stack=soak-a&limit=5", "/api/v1/integrations",
             "/healthz", "/api/v1/stacks/soak-a", "/metrics", "/api/v1/deliveries?integration=gitlab&limit=5"]

    jobs = queue.Queue()
    if a.phase == "unique":
        for i in range(a.start, a.end):
            m = i % 25
            if m in (0, 1):
                jobs.put(("mr", i, "soak-%d" % i, 202, "POST", "/webhooks/gitlab/gitlab",
                          mr_body(i), hook_headers("Merge Request Hook", "soak-%d" % i)))
            elif m == 2:
                jobs.put(("ignored", i, "soak-%d" % i, 200, "POST", "/webhooks/gitlab/gitlab",
                          json.dumps(delete).encode(), hook_headers("Push Hook", "soak-%d" % i)))
            else:
                jobs.put(("push", i, "soak-%d" % i, 202, "POST", "/webhooks/gitlab/gitlab",
                          push_body(i), hook_headers("Push Hook", "soak-%d" % i)))
            if i % 10 == 9:
                path = reads[(i // 10) % len(reads)]
                jobs.put(("admin", i, None, 200, "GET", path, None, admin))
    else:
        pushes = []
        with open(a.results) as fh:
            for line in fh:
                r = json.loads(line)
                if r["kind"] == "push" and r["got"] == 202:
                    pushes.append(r)
        pushes.sort(key=lambda r: r["index"])
        for n, r in enumerate(pushes):
            if n % 25 == 0:
                run = [x["id"] for x in r["runs"] if x["stack"] == "soak-a"][0]
                jobs.put(("transition", r["index"], run, 200, "POST",
                          "/api/v1/runs/%s/transitions" % run, b'{"state":"preparing"}',
                          dict(admin, **{"Content-Type": "application/json"})))
        step = max(1, len(pushes) // max(1, a.dups))
        for r in pushes[::step][:a.dups]:
            i = r["index"]
            jobs.put(("duplicate", i, r["key"], 200, "POST", "/webhooks/gitlab/gitlab",
                      push_body(i), hook_headers("Push Hook", r["key"])))
        for n in range(a.refused):
            i = 10**7 + n
            key = "soak-refused-%d" % n
            if n % 3 == 0:
                jobs.put(("refused", i, key, 401, "POST", "/webhooks/gitlab/gitlab", push_body(i),
                          hook_headers("Push Hook", key, token=a.secret[:-1] + ("x" if a.secret[-1] != "x" else "y"))))
            elif n % 3 == 1:
                jobs.put(("refused", i, key, 400, "POST", "/webhooks/gitlab/gitlab",
                          push_body(i)[:100], hook_headers("Push Hook", key)))
            else:
                jobs.put(("refused", i, key, 404, "POST", "/webhooks/gitlab/no-such-integration",
                          push_body(i), hook_headers("Push Hook", key)))

    lock = threading.Lock()
    out = open(a.results, "a")
    counts = {}
    unexpected = []

    def worker():
        c = Client(a.base)
        while True:
            try:
                kind, i, key, want, method, path, body, headers = jobs.get_nowait()
            except queue.Empty:
                return
            status, data = c.request(method, path, body, headers)
            rec = {"index": i, "kind": kind, "key": key, "want": want, "got": status}
            ok = status == want
            if ok and kind in ("push", "mr"):
                try:
                    d = json.loads(data)
                    rec["runs"] = [{"id": r["id"], "stack": r["stack"], "created": r["created"]}
                                   for r in d["runs"]]
                    ok = d.get("status") == "accepted" and all(r["created"] for r in d["runs"])
                except (ValueError, KeyError):
                    ok = False
            elif ok and kind in ("ignored", "duplicate"):
                try:
                    ok = json.loads(data).get("status") == kind
                except ValueError:
                    ok = False
            with lock:
                counts[kind] = counts.get(kind, 0) + 1
                if not ok:
                    unexpected.append((kind, i, status, data[:200]))
                out.write(json.dumps(rec) + "\n")

    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()
    print("%s: %s; %d unexpected" % (a.phase, ", ".join("%s %d" % kv for kv in sorted(counts.items())),
                                     len(unexpected)))
    for u in unexpected[:10]:
        print("unexpected: %s %d -> %s %r" % u)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
