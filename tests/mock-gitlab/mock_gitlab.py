#!/usr/bin/env python3
"""A mock GitLab (REST API v4) for stackhook's tests.

One file, Python 3 standard library only.  Tests start it on loopback, point
`stackhook report` / `doctor` / `hooks sync` at it, then ask it what it
received (`GET /_mock/requests`) and what it holds (`GET /_mock/state`).

It behaves like GitLab where stackhook depends on it -- authentication, the
commit-status state machine, quick actions in notes, deployments creating
their environment, pagination headers, token self-rotation, project hooks --
and it can be told to misbehave (queued 409/429/5xx answers, delays, dropped
or reset connections, oversized bodies) through the control API under
/_mock/.  README.md next to this file documents the interface.

Behaviour is cited from /work/shared/reference/gitlab-facts.md ("facts §N")
and, where the facts are silent, from the GitLab source (gitlabhq/gitlabhq,
file named in the comment).  Where the mock simplifies, the comment says so.

Usage:
  mock_gitlab.py --port N [--bind 127.0.0.1] [--prefix /gitlab]
                 [--record FILE] [--tls-cert C --tls-key K]
                 [--token TOKEN ...] [--seed FILE] [--max-body BYTES] [--quiet]
Prints "ready <port>" on stdout once listening; exits 0 on SIGTERM/SIGINT.
"""

import argparse
import datetime
import email.parser
import email.policy
import hashlib
import http.server
import json
import math
import re
import secrets
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_TOKEN = "glpat-test-token"
DEFAULT_MAX_BODY = 2 * 1024 * 1024  # bigger request bodies get 413
DRAIN_LIMIT = 64 * 1024 * 1024  # oversized bodies up to this are read and dropped
REQUEST_LOG_LIMIT = 20000  # oldest recorded requests are dropped beyond this
RECORD_TEXT_LIMIT = 64 * 1024  # unparsed bodies are kept up to this in records
IDLE_TIMEOUT = 60  # seconds a keep-alive connection may stay idle

# Access levels (doc/api/members.md).
GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 20, 30, 40, 50

# facts §3.3: the states the statuses API accepts.
STATUS_STATES = ("pending", "running", "success", "failed", "canceled", "skipped")
FINAL_STATES = ("success", "failed", "canceled", "skipped")

# facts §3.6: the statuses the deployments API accepts.
DEPLOYMENT_STATUSES = ("running", "success", "failed", "canceled")

NOTE_MAX_CHARS = 1_000_000  # facts §3.4
FIELD_MAX_CHARS = 255  # facts §3.3: ref, target_url, description

# Headers and query parameters whose values never reach a record or log.
SECRET_HEADERS = {"private-token", "authorization", "job-token", "x-gitlab-token",
                  "cookie", "proxy-authorization"}
SECRET_PARAMS = {"private_token", "access_token", "job_token"}
REDACTED = "[REDACTED]"

# Quick actions GitLab runs from a merge request note (subset of
# doc/user/project/quick_actions.md; enough to catch unescaped "/" lines).
MR_QUICK_ACTIONS = (
    "approve", "unapprove", "assign", "unassign", "assign_reviewer", "reviewer",
    "request_review", "unassign_reviewer", "remove_reviewer", "award", "react",
    "close", "reopen", "merge", "label", "labels", "unlabel", "remove_label",
    "relabel", "milestone", "remove_milestone", "title", "draft", "wip", "ready",
    "done", "todo", "subscribe", "unsubscribe", "lock", "unlock", "estimate",
    "estimate_time", "remove_estimate", "remove_time_estimate", "spend",
    "spend_time", "remove_time_spent", "target_branch", "rebase",
    "copy_metadata", "submit_review", "squash", "add_contact", "remove_contact",
)

# Port of lib/gitlab/quick_actions/extractor.rb `commands_regex`: commands are
# lines starting with "/<name>", except inside ``` blocks, inline-code runs,
# one-tag HTML blocks and >>> quotes.  Ruby's /m is Python's DOTALL; Ruby's ^ $
# always work per line (Python MULTILINE).  The second <html> group of the
# Ruby source is renamed <quote> (Python forbids duplicate group names).  The
# <inline_code> branch (^.*`\n*.+?\n*`$, DOTALL) is left out of the regex --
# backtracking it is quadratic on a 1 MB note -- and computed exactly by
# extract_quick_actions() instead.
_QA_NAMES = "|".join(re.escape(n) for n in sorted(MR_QUICK_ACTIONS, key=len, reverse=True))
QUICK_ACTION_RE = re.compile(r"""
      (?P<code> ^``` .+? \n```$ )
    | (?P<html> ^<[^>]+?>\n .+? \n</[^>]+?>$ )
    | (?P<quote> ^>>> .+? \n>>>$ )
    | (?: ^/(?P<cmd>%s) (?: [ ] (?P<arg>[^\n]*) )? (?: \s*\n | $ ) )
""" % _QA_NAMES, re.M | re.S | re.I | re.X)

# Gitlab::Regex.environment_name_regex and its message (app/models/environment.rb).
ENV_NAME_RE = re.compile(r"\A[a-zA-Z0-9_/${}. -]+\Z")
ENV_NAME_MESSAGE = ("can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', "
                    "and spaces, but it cannot start or end with '/'")

HOOK_EVENT_FLAGS = (
    "push_events", "tag_push_events", "merge_requests_events", "repository_update_events",
    "issues_events", "confidential_issues_events", "note_events", "confidential_note_events",
    "pipeline_events", "wiki_page_events", "deployment_events", "feature_flag_events",
    "job_events", "releases_events", "milestone_events", "emoji_events",
    "resource_access_token_events", "resource_deploy_token_events", "vulnerability_events",
)


# ---------------------------------------------------------------- helpers ----

def iso_now():
    """Current time as GitLab prints it: 2024-01-31T15:10:44.988Z."""
    return (datetime.datetime.now(datetime.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def parse_date(value):
    """YYYY-MM-DD -> date, or None when it is not one."""
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


class ApiError(Exception):
    """An answer other than success; raised anywhere in a handler."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found(what=None):
    """not_found!(what) in lib/api/helpers.rb: {"message": "404 <what> Not Found"}."""
    return ApiError(404, {"message": "404 %s Not Found" % what if what else "404 Not Found"})


def record_not_found():
    """ActiveRecord::RecordNotFound as rescued by lib/api/api.rb."""
    return ApiError(404, {"message": "404 Not found"})


def forbidden(reason=None):
    return ApiError(403, {"message": "403 Forbidden" + (" - %s" % reason if reason else "")})


def param_error(message):
    """Grape's parameter validation errors use "error", not "message"."""
    return ApiError(400, {"error": message})


def validation_error(errors, status=400):
    """render_validation_error!: {"message": {"field": ["msg", ...]}}."""
    return ApiError(status, {"message": errors})


def bad_request(reason=None):
    """bad_request!(reason) in lib/api/helpers.rb."""
    return ApiError(400, {"message": "400 Bad request" + (" - %s" % reason if reason else "")})


def ruby_hash_inspect(errors):
    """{:note=>["can't be blank"]}: how "Note #{note.errors.messages}" reads."""
    parts = []
    for key, msgs in errors.items():
        parts.append(":%s=>[%s]" % (key, ", ".join(json.dumps(m) for m in msgs)))
    return "{" + ", ".join(parts) + "}"


NOT_GIVEN = object()


def p_given(params, name, required):
    """params[name], or NOT_GIVEN when it is absent or null, which Grape
    treats alike (a 400 "is missing" when the parameter is required)."""
    if name not in params or params[name] is None:
        if required:
            raise param_error("%s is missing" % name)
        return NOT_GIVEN
    return params[name]


def p_str(params, name, required=False):
    """A String parameter the Grape way: numbers and booleans are coerced,
    objects and arrays are "invalid", missing is None (or "missing")."""
    value = p_given(params, name, required)
    if value is NOT_GIVEN:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise param_error("%s is invalid" % name)
    return value


TRUE_WORDS = {"1", "true", "t", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "off"}


def p_bool(params, name, required=False, default=None):
    """A Boolean parameter (Grape/dry-types Params::Bool spellings)."""
    value = p_given(params, name, required)
    if value is NOT_GIVEN:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
    raise param_error("%s is invalid" % name)


def p_int(params, name, default=None):
    if name not in params or params[name] in (None, ""):
        return default
    value = params[name]
    if isinstance(value, bool):
        raise param_error("%s is invalid" % name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise param_error("%s is invalid" % name)


def p_choice(params, name, choices, default=None, required=False):
    value = p_str(params, name, required=required)
    if value is None:
        return default
    if value not in choices:
        raise param_error("%s does not have a valid value" % name)
    return value


def form_params(text):
    """Form-encoded pairs (a query or an urlencoded body) the Grape way:
    "key[]" collects an array, a plain key keeps its last value."""
    params = {}
    for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
        if key.endswith("[]"):
            params.setdefault(key[:-2], []).append(value)
        else:
            params[key] = value
    return params


def url_errors(value):
    """AddressableUrlValidator (http/https only) as used by GenericCommitStatus
    target_url (app/models/generic_commit_status.rb) and hook URLs."""
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        return ["is blocked: URI is invalid"]
    if parts.scheme.lower() not in ("http", "https"):
        return ["is blocked: Only allowed schemes are http, https"]
    if not parts.hostname:
        return ["is blocked: URI is invalid"]
    return []


def env_slug(name):
    """Gitlab::Slug::Environment#generate (lib/gitlab/slug/environment.rb)."""
    slug = re.sub(r"[^a-z0-9]", "-", name.lower())
    if not slug[:1].isalpha():
        slug = "env-" + slug
    slug = re.sub(r"-+", "-", slug)
    if len(slug) > 24 or slug != name:
        digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
        b36 = ""
        while digest:
            digest, rem = divmod(digest, 36)
            b36 = "0123456789abcdefghijklmnopqrstuvwxyz"[rem] + b36
        slug = slug[:17]
        if not slug.endswith("-"):
            slug += "-"
        slug += b36[-6:]
    else:
        slug = slug.rstrip("-")
    return slug


def env_tier(name):
    """Environment#guess_tier (app/models/environment.rb), approximately."""
    rules = (("development", r"(dev|review|trunk)"),
             ("testing", r"(test|tst|int|ac(ce|)pt|qa|qc|control|quality)"),
             ("staging", r"(st(a|)g|mod(e|)l|pre|demo|non)"),
             ("production", r"(pr(o|)d|live)"))
    for tier, pattern in rules:
        if re.search(pattern, name, re.I):
            return tier
    return "other"


def extract_quick_actions(body):
    """Gitlab::QuickActions::Extractor#extract_commands: returns the note text
    without command lines (CRs removed, right-stripped) and the commands as
    (name, argument) pairs.

    The regex alternatives are tried at each position in the Ruby order code,
    inline_code, html, quote, command.  inline_code, ^.*`\n*.+?\n*`$ with
    DOTALL, matches at a line start p exactly when a backtick at or after p
    lies at least two characters before R, the last backtick that ends a line;
    the match then runs to R.  (Greedy .* takes the last such backtick q, and
    the only line-ending backtick at or after q+2 is R.)"""
    text = body.replace("\r", "")
    last_end = -1  # R
    for match in re.finditer(r"`(?=\n|\Z)", text):
        last_end = match.start()
    last_open = text.rfind("`", 0, last_end - 1) if last_end >= 2 else -1  # last q <= R-2
    out, commands, pos = [], [], 0
    while pos <= len(text):
        match = QUICK_ACTION_RE.search(text, pos)
        if pos == 0 or text[pos - 1] == "\n":
            line_start = pos
        else:
            newline = text.find("\n", pos)
            line_start = newline + 1 if newline != -1 else len(text) + 1
        if last_open >= 0 and line_start <= last_open and (
                match is None or line_start < match.start()
                or (line_start == match.start() and not match.group("code"))):
            out.append(text[pos:last_end + 1])
            pos = last_end + 1
            continue
        if match is None:
            out.append(text[pos:])
            break
        out.append(text[pos:match.start()])
        if match.group("cmd"):
            commands.append((match.group("cmd").lower(), (match.group("arg") or "").strip()))
        else:
            out.append(match.group(0))
        pos = match.end()
    return "".join(out).rstrip(" \t\n\v\f\r\0"), commands


def redact_query(query):
    """Query string with secret parameters' values replaced."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return [(k, REDACTED if k in SECRET_PARAMS else v) for k, v in pairs]


# ------------------------------------------------------------------ state ----

class Mock:
    """Everything the mock knows, behind one lock, plus the API handlers."""

    def __init__(self, tokens, seed=None, prefix="", record_file=None, quiet=False):
        self.lock = threading.RLock()
        self.initial_tokens = list(tokens) or [DEFAULT_TOKEN]
        self.seed = seed
        self.prefix = prefix
        self.record_file = record_file
        self.quiet = quiet
        self.record_lock = threading.Lock()
        self.reset()

    # -- setup ---------------------------------------------------------------

    def reset(self):
        with self.lock:
            self.counters = {}
            self.users = {}
            self.tokens = {}  # token string -> record
            self.projects = {}  # id -> project
            self.namespaces = {}  # full path -> namespace
            self.pipelines = []
            self.statuses = []
            # Indexes, so that a bench of 10,000 statuses measures the
            # reporter and not the mock's list scans.
            self.pipelines_by_sha = {}  # (project id, sha) -> [pipeline], oldest first
            self.statuses_by_pipeline = {}  # pipeline id -> [status]
            self.notes = []
            self.deployments = []
            self.environments = []
            self.hooks = []
            self.hook_events = []
            self.quick_actions = []  # executed quick actions, for tests
            self.resends = []  # resend calls, for tests
            self.resend_times = {}
            self.faults = []
            self.requests = []
            self.request_seq = 0
            self.requests_dropped = 0
            self.settings = {
                "version": "18.10.0",
                "revision": "mock",
                "resend_rate_limit": 5,  # per minute, per project and user (facts §3.8)
                "deliver_resends": False,  # POST the stored payload on resend
            }
            self.upsert_user({"id": 1, "username": "stackhook-bot", "name": "Stackhook Bot"})
            for value in self.initial_tokens:
                self.upsert_token({"token": value})
            if self.seed:
                self.apply_seed(self.seed)

    def next_id(self, kind):
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def apply_seed(self, doc):
        """A seed document: {"settings", "users", "tokens", "projects"}."""
        if not isinstance(doc, dict):
            raise param_error("seed must be a JSON object")
        with self.lock:
            self.update_settings(doc.get("settings") or {})
            for user in doc.get("users") or []:
                self.upsert_user(user)
            for token in doc.get("tokens") or []:
                self.upsert_token(token)
            for project in doc.get("projects") or []:
                self.upsert_project(project)

    def update_settings(self, values):
        if not isinstance(values, dict):
            raise param_error("settings must be an object")
        for key, value in values.items():
            if key not in self.settings:
                raise param_error("unknown setting %r" % key)
            self.settings[key] = value

    def upsert_user(self, spec):
        if not isinstance(spec, dict):
            raise param_error("a user must be an object")
        uid = spec.get("id")
        if uid is None:
            uid = max(self.users, default=0) + 1
        if not isinstance(uid, int):
            raise param_error("user id must be an integer")
        user = self.users.setdefault(uid, {"id": uid, "username": "user%d" % uid,
                                           "name": "User %d" % uid, "bot": False,
                                           "state": "active", "created_at": iso_now()})
        for key in ("username", "name", "bot", "state"):
            if key in spec:
                user[key] = spec[key]
        return user

    def upsert_token(self, spec):
        """Add a token, or change an existing one (matched by its value)."""
        if not isinstance(spec, dict) or not isinstance(spec.get("token"), str) or not spec["token"]:
            raise param_error("a token needs a non-empty \"token\" string")
        token = self.tokens.get(spec["token"])
        if token is None:
            token = {
                "id": self.next_id("token"), "token": spec["token"], "name": "stackhook",
                "description": None, "user_id": 1, "scopes": ["api"], "revoked": False,
                "created_at": iso_now(), "last_used_at": None,
                "expires_at": (utc_today() + datetime.timedelta(days=365)).isoformat(),
                "rotated_from": None, "rotated_to": None,
            }
            self.tokens[spec["token"]] = token
        for key in ("name", "description", "user_id", "scopes", "revoked", "expires_at"):
            if key in spec:
                token[key] = spec[key]
        if token["expires_at"] is not None and parse_date(token["expires_at"]) is None:
            raise param_error("expires_at must be YYYY-MM-DD or null")
        if token["user_id"] not in self.users:
            self.upsert_user({"id": token["user_id"]})
        return token

    def namespace_for(self, full_path):
        """Group namespaces are made up from project paths (kind "group")."""
        ns = self.namespaces.get(full_path.lower())
        if ns is None:
            parent = full_path.rsplit("/", 1)[0] if "/" in full_path else None
            parent_ns = self.namespace_for(parent) if parent else None
            path = full_path.rsplit("/", 1)[-1]
            ns = {"id": self.next_id("namespace"), "name": path, "path": path, "kind": "group",
                  "full_path": full_path, "parent_id": parent_ns["id"] if parent_ns else None}
            self.namespaces[full_path.lower()] = ns
        return ns

    def upsert_project(self, spec):
        """Add or change a project.  Keys: id, path_with_namespace (required for
        a new project), default_branch, visibility, branches, tags,
        protected_branches, members ({user_id: level} or [{user_id,
        access_level}]; absent = every user is Maintainer), commits (shas or
        {sha, branches, tags, message}; none = any 40-hex sha exists),
        merge_requests, former_paths (answered with a 301, facts §3.2)."""
        if not isinstance(spec, dict):
            raise param_error("a project must be an object")
        pid = spec.get("id")
        project = self.projects.get(pid) if pid is not None else None
        if project is None:
            path = spec.get("path_with_namespace")
            if not isinstance(path, str) or "/" not in path or path.startswith("/") or path.endswith("/"):
                raise param_error("path_with_namespace must look like group/project")
            if pid is None:
                pid = max(self.projects, default=0) + 1
            if not isinstance(pid, int) or pid <= 0:
                raise param_error("project id must be a positive integer")
            project = {
                "id": pid, "path_with_namespace": path, "default_branch": "main",
                "visibility": "private", "description": None, "branches": [], "tags": [],
                "protected_branches": [], "members": None, "commits": {},
                "merge_requests": {}, "former_paths": [], "created_at": iso_now(),
            }
            self.projects[pid] = project
        if "path_with_namespace" in spec:
            project["path_with_namespace"] = spec["path_with_namespace"]
        for key in ("default_branch", "visibility", "description"):
            if key in spec:
                project[key] = spec[key]
        for key in ("branches", "tags", "protected_branches", "former_paths"):
            if key in spec:
                if not isinstance(spec[key], list) or not all(isinstance(v, str) for v in spec[key]):
                    raise param_error("%s must be a list of strings" % key)
                project[key] = list(dict.fromkeys(spec[key]))
        if "members" in spec:
            project["members"] = None
            members = spec["members"]
            if isinstance(members, dict):
                members = [{"user_id": int(k), "access_level": v} for k, v in members.items()]
            if members is not None:
                project["members"] = {}
                for member in members:
                    self.set_member(project, member)
        for commit in spec.get("commits") or []:
            self.upsert_commit(project, commit)
        for mr in spec.get("merge_requests") or []:
            self.upsert_mr(project, mr)
        self.namespace_for(project["path_with_namespace"].rsplit("/", 1)[0])
        return project

    def set_member(self, project, spec):
        try:
            uid, level = int(spec["user_id"]), spec.get("access_level")
        except (KeyError, TypeError, ValueError):
            raise param_error("a member needs user_id and access_level")
        if project["members"] is None:
            project["members"] = {}
        if not level:
            project["members"].pop(uid, None)
            return
        if not isinstance(level, int):
            raise param_error("access_level must be an integer")
        if uid not in self.users:
            self.upsert_user({"id": uid})
        project["members"][uid] = level

    def upsert_commit(self, project, spec):
        if isinstance(spec, str):
            spec = {"sha": spec}
        sha = spec.get("sha") if isinstance(spec, dict) else None
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-fA-F]{40}", sha):
            raise param_error("a commit needs a 40-hex sha")
        sha = sha.lower()
        commit = project["commits"].setdefault(sha, {
            "sha": sha, "branches": [], "tags": [], "message": "Commit %s" % sha[:8],
            "parent_ids": [], "created_at": iso_now()})
        for key in ("branches", "tags", "parent_ids"):
            if key in spec:
                commit[key] = list(spec[key])
        if "message" in spec:
            commit["message"] = spec["message"]
        return commit

    def upsert_mr(self, project, spec):
        if not isinstance(spec, dict) or not isinstance(spec.get("iid"), int):
            raise param_error("a merge request needs an integer iid")
        mr = project["merge_requests"].get(spec["iid"])
        if mr is None:
            mr = {"id": self.next_id("merge_request") + 1000, "iid": spec["iid"],
                  "project_id": project["id"], "title": "Merge request !%d" % spec["iid"],
                  "description": "", "state": "opened", "source_branch": "feature",
                  "target_branch": project["default_branch"], "sha": None, "commits": [],
                  "merge_commit_sha": None, "author_id": 1, "draft": False,
                  "approved_by": [], "created_at": iso_now(), "updated_at": iso_now(),
                  "merged_at": None, "closed_at": None}
            project["merge_requests"][spec["iid"]] = mr
        for key in ("title", "description", "state", "source_branch", "target_branch", "sha",
                    "merge_commit_sha", "author_id", "draft"):
            if key in spec:
                mr[key] = spec[key]
        if mr["state"] not in ("opened", "closed", "merged", "locked"):
            raise param_error("state must be opened, closed, merged or locked")
        if "commits" in spec:
            mr["commits"] = [c.lower() for c in spec["commits"]]
        if mr["sha"]:
            mr["sha"] = mr["sha"].lower()
            if mr["sha"] not in mr["commits"]:
                mr["commits"].append(mr["sha"])
            # With an explicit commit list, the MR's head is a commit too.
            if project["commits"] and mr["sha"] not in project["commits"]:
                self.upsert_commit(project, {"sha": mr["sha"], "branches": [mr["source_branch"]]})
        mr["updated_at"] = iso_now()
        return mr

    # -- lookups -------------------------------------------------------------

    def base_url(self, ctx):
        return "%s://%s%s" % (ctx.scheme, ctx.host, self.prefix)

    def branch_names(self, project):
        names = list(project["branches"])
        names.append(project["default_branch"])
        names.extend(project["protected_branches"])
        for commit in project["commits"].values():
            names.extend(commit["branches"])
        for mr in project["merge_requests"].values():
            names.extend((mr["source_branch"], mr["target_branch"]))
        return list(dict.fromkeys(n for n in names if n))

    def tag_names(self, project):
        names = list(project["tags"])
        for commit in project["commits"].values():
            names.extend(commit["tags"])
        return list(dict.fromkeys(names))

    def find_commit(self, project, ref):
        """project.commit(ref): a sha, or a branch/tag name.  Without configured
        commits any 40-hex sha exists.  Returns the sha or None."""
        if not ref:
            return None
        if re.fullmatch(r"[0-9a-fA-F]{40}", ref):
            sha = ref.lower()
            if not project["commits"] or sha in project["commits"]:
                return sha
            return None
        if ref in self.branch_names(project) or ref in self.tag_names(project):
            for commit in project["commits"].values():
                if ref in commit["branches"] or ref in commit["tags"]:
                    return commit["sha"]
            # A ref with no configured commit: a stable made-up head.
            return hashlib.sha1(("%d:%s" % (project["id"], ref)).encode()).hexdigest()
        return None

    def branches_containing(self, project, sha):
        commit = project["commits"].get(sha)
        if commit is not None:
            return list(commit["branches"])
        return [project["default_branch"]] if not project["commits"] else []

    def access_level(self, project, user_id):
        if project["members"] is None:
            return MAINTAINER if user_id in self.users else 0
        return project["members"].get(user_id, 0)

    def find_project(self, ctx, ident, min_level):
        """find_project! (lib/api/helpers.rb): numeric id or full path
        (case-insensitive); not visible -> 404, too low a role -> 403."""
        project = None
        if re.fullmatch(r"\d+", ident):
            project = self.projects.get(int(ident))
        else:
            for candidate in self.projects.values():
                if candidate["path_with_namespace"].lower() == ident.lower():
                    project = candidate
                    break
            else:
                for candidate in self.projects.values():
                    if ident.lower() in (p.lower() for p in candidate["former_paths"]):
                        self.redirect_moved(ctx, ident, candidate)
        if project is None:
            raise not_found("Project")
        level = self.access_level(project, ctx.user["id"])
        if level == 0 and project["visibility"] == "private":
            raise not_found("Project")
        if level < min_level:
            raise forbidden()
        return project

    def redirect_moved(self, ctx, ident, project):
        """facts §3.2: a renamed/moved project's old path gets a 301 whose
        Location names the project by id (doc/api/rest/_index.md Redirects;
        Grape's redirect(permanent: true) body)."""
        raw = ctx.raw_path
        marker = "/projects/"
        at = raw.find(marker)
        rest = raw[at + len(marker):]
        rest = rest.split("/", 1)[1] if "/" in rest else ""
        location = "%s/api/v4/projects/%d%s" % (self.base_url(ctx), project["id"],
                                                "/" + rest if rest else "")
        if ctx.query:
            location += "?" + ctx.query
        raise ApiError(301, "This resource has been moved permanently to %s" % location,
                       {"Location": location})

    def find_mr(self, project, iid):
        if not re.fullmatch(r"\d+", iid or ""):
            raise param_error("merge_request_iid is invalid")
        mr = project["merge_requests"].get(int(iid))
        if mr is None:
            raise not_found("MergeRequest")
        return mr

    # -- entities ------------------------------------------------------------

    def user_basic(self, ctx, uid):
        user = self.users.get(uid) or {"id": uid, "username": "ghost", "name": "Ghost User",
                                        "state": "active"}
        return {"id": user["id"], "username": user["username"], "name": user["name"],
                "state": user.get("state", "active"), "locked": False, "avatar_url": None,
                "web_url": "%s/%s" % (self.base_url(ctx), user["username"])}

    def project_json(self, ctx, project):
        path = project["path_with_namespace"]
        ns = self.namespace_for(path.rsplit("/", 1)[0])
        base = self.base_url(ctx)
        level = self.access_level(project, ctx.user["id"]) if ctx.user else 0
        name = path.rsplit("/", 1)[-1]
        return {
            "id": project["id"], "description": project["description"], "name": name,
            "name_with_namespace": " / ".join(path.split("/")), "path": name,
            "path_with_namespace": path, "created_at": project["created_at"],
            "default_branch": project["default_branch"], "tag_list": [], "topics": [],
            "ssh_url_to_repo": "git@%s:%s.git" % (ctx.host.split(":")[0], path),
            "http_url_to_repo": "%s/%s.git" % (base, path), "web_url": "%s/%s" % (base, path),
            "readme_url": None, "avatar_url": None, "forks_count": 0, "star_count": 0,
            "last_activity_at": project["created_at"], "visibility": project["visibility"],
            "archived": False, "empty_repo": False,
            "namespace": dict(ns, avatar_url=None, web_url="%s/groups/%s" % (base, ns["full_path"])),
            "permissions": {
                "project_access": {"access_level": level, "notification_level": 3} if level else None,
                "group_access": None,
            },
        }

    def status_json(self, ctx, status):
        return {k: status[k] for k in (
            "id", "sha", "ref", "status", "name", "target_url", "description", "created_at",
            "started_at", "finished_at", "allow_failure", "coverage", "pipeline_id")} | {
            "author": self.user_basic(ctx, status["user_id"])}

    def note_json(self, ctx, note):
        return {
            "id": note["id"], "type": None, "body": note["body"], "attachment": None,
            "author": self.user_basic(ctx, note["author_id"]), "created_at": note["created_at"],
            "updated_at": note["updated_at"], "system": note["system"],
            "noteable_id": note["noteable_id"], "noteable_type": "MergeRequest",
            "project_id": note["project_id"], "resolvable": False, "confidential": note["internal"],
            "internal": note["internal"], "imported": False, "imported_from": "none",
            "noteable_iid": note["noteable_iid"], "commands_changes": {},
        }

    def mr_json(self, ctx, project, mr):
        base = self.base_url(ctx)
        return {
            "id": mr["id"], "iid": mr["iid"], "project_id": project["id"], "title": mr["title"],
            "description": mr["description"], "state": mr["state"], "created_at": mr["created_at"],
            "updated_at": mr["updated_at"], "merged_at": mr["merged_at"],
            "closed_at": mr["closed_at"], "target_branch": mr["target_branch"],
            "source_branch": mr["source_branch"], "source_project_id": project["id"],
            "target_project_id": project["id"], "author": self.user_basic(ctx, mr["author_id"]),
            "draft": mr["draft"], "work_in_progress": mr["draft"], "sha": mr["sha"],
            "merge_commit_sha": mr["merge_commit_sha"], "squash_commit_sha": None,
            "labels": [], "user_notes_count": sum(
                1 for n in self.notes if n["project_id"] == project["id"]
                and n["noteable_iid"] == mr["iid"] and not n["system"]),
            "references": {"short": "!%d" % mr["iid"],
                           "full": "%s!%d" % (project["path_with_namespace"], mr["iid"])},
            "web_url": "%s/%s/-/merge_requests/%d" % (base, project["path_with_namespace"], mr["iid"]),
        }

    def environment_json(self, env):
        return {k: env[k] for k in ("id", "name", "slug", "description", "external_url",
                                    "created_at", "updated_at", "tier", "state", "auto_stop_at")}

    def deployment_json(self, ctx, dep):
        env = next(e for e in self.environments if e["id"] == dep["environment_id"])
        return {
            "id": dep["id"], "iid": dep["iid"], "ref": dep["ref"], "sha": dep["sha"],
            "tag": dep["tag"], "status": dep["status"], "created_at": dep["created_at"],
            "updated_at": dep["updated_at"], "finished_at": dep["finished_at"],
            "user": self.user_basic(ctx, dep["user_id"]), "deployable": None,
            "environment": {k: env[k] for k in ("id", "name", "slug", "external_url",
                                                "created_at", "updated_at")},
        }

    def hook_json(self, hook):
        data = {k: hook[k] for k in (
            "id", "url", "name", "description", "project_id", "created_at", "alert_status",
            "disabled_until", "push_events_branch_filter", "branch_filter_strategy",
            "enable_ssl_verification", "custom_webhook_template") + HOOK_EVENT_FLAGS}
        data["url_variables"] = []
        data["custom_headers"] = [{"key": k} for k in hook["custom_headers"]]
        return data  # never the token (facts §3.7)

    def token_json(self, token):
        return {
            "id": token["id"], "name": token["name"], "revoked": token["revoked"],
            "created_at": token["created_at"], "description": token["description"],
            "scopes": token["scopes"], "user_id": token["user_id"],
            "last_used_at": token["last_used_at"], "active": self.token_active(token),
            "expires_at": token["expires_at"], "last_used_ips": [],
        }

    def token_active(self, token):
        return not token["revoked"] and not self.token_expired(token)

    @staticmethod
    def token_expired(token):
        expires = parse_date(token["expires_at"]) if token["expires_at"] else None
        return expires is not None and expires <= utc_today()

    # -- authentication ------------------------------------------------------

    def authenticate(self, ctx, scope):
        """lib/api/api_guard.rb + facts §3.1.  PRIVATE-TOKEN (header, or the
        private_token parameter) wins over Authorization: Bearer.
        scope: "write" needs api; "read" needs api or read_api; "any" (the
        token self-information endpoints) takes every scope."""
        value = ctx.auth_value
        if value is None:
            raise ApiError(401, {"message": "401 Unauthorized"})
        token = self.tokens.get(value)
        if token is None:
            raise ApiError(401, {"message": "401 Unauthorized"})
        if token["revoked"]:
            raise oauth_error("Token was revoked. You have to re-authorize from the user.")
        if self.token_expired(token):
            raise oauth_error("Token is expired. You can either do re-authorization or token refresh.")
        allowed = {"write": ["api"], "read": ["api", "read_api"], "rotate": ["api", "self_rotate"],
                   "any": None}[scope]
        if allowed is not None and not set(allowed) & set(token["scopes"]):
            raise ApiError(403, {
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by "
                                     "the access token.",
                "scope": " ".join(allowed)})
        token["last_used_at"] = iso_now()
        ctx.token = token
        ctx.user = self.users.get(token["user_id"]) or self.upsert_user({"id": token["user_id"]})


def oauth_error(description):
    """Rack::OAuth2 Bearer::Unauthorized(:invalid_token, ...) as api_guard.rb
    answers revoked and expired tokens."""
    return ApiError(401, {"error": "invalid_token", "error_description": description}, {
        "WWW-Authenticate": 'Bearer realm="", error="invalid_token", error_description="%s"'
                            % description})


class Ctx:
    """One API request as the handlers see it."""

    def __init__(self, method, raw_path, query, headers, params, scheme, host):
        self.method = method
        self.raw_path = raw_path
        self.query = query
        self.headers = headers
        self.params = params
        self.scheme = scheme
        self.host = host
        self.token = None
        self.user = None
        self.auth_value, self.auth_scheme = self.find_credentials()

    def find_credentials(self):
        """(token, how it came) -- PRIVATE-TOKEN first, as find_personal_access_token."""
        query = dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))
        if query.get("private_token"):
            return query["private_token"], "private_token-param"
        value = self.headers.get("PRIVATE-TOKEN")
        if value:
            return value.strip(), "private-token"
        auth = self.headers.get("Authorization") or ""
        if auth[:7].lower() == "bearer " and auth[7:].strip():
            return auth[7:].strip(), "bearer"
        if query.get("access_token"):
            return query["access_token"], "access_token-param"
        return None, None


class Page:
    """Offset pagination (facts §3.2): page, per_page (default 20, max 100),
    X-Page/X-Per-Page/X-Next-Page/X-Prev-Page/X-Total/X-Total-Pages and Link
    (lib/gitlab/pagination/offset_header_builder.rb)."""

    @staticmethod
    def apply(ctx, items, max_per_page=100, strict_per_page=False):
        page = p_int(ctx.params, "page", 1)
        per_page = p_int(ctx.params, "per_page", 20)
        if strict_per_page and not 1 <= per_page <= max_per_page:
            raise param_error("per_page does not have a valid value")
        per_page = min(max(per_page, 1), max_per_page)
        page = max(page, 1)
        total = len(items)
        pages = max(1, math.ceil(total / per_page))
        chunk = items[(page - 1) * per_page: page * per_page]

        def url(number):
            pairs = [(k, v) for k, v in redact_query(ctx.query) if k not in ("page", "per_page")]
            pairs += [("page", str(number)), ("per_page", str(per_page))]
            return "%s://%s%s?%s" % (ctx.scheme, ctx.host, ctx.raw_path, urllib.parse.urlencode(pairs))

        links = []
        if page > 1:
            links.append('<%s>; rel="prev"' % url(page - 1))
        if page < pages:
            links.append('<%s>; rel="next"' % url(page + 1))
        links.append('<%s>; rel="first"' % url(1))
        links.append('<%s>; rel="last"' % url(pages))
        headers = {
            "X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(total),
            "X-Total-Pages": str(pages), "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "", "Link": ", ".join(links),
        }
        return chunk, headers


# ------------------------------------------------------------ API routes ----

class Api:
    """The /api/v4 routes.  Each handler takes (ctx, *path args) and returns
    (status, body[, headers]); errors are raised as ApiError."""

    def __init__(self, mock):
        self.m = mock
        self.routes = [
            ("GET", "user", self.get_user, "read"),
            ("GET", "version", self.get_version, "read"),
            ("GET", "metadata", self.get_version, "read"),
            ("GET", "personal_access_tokens/self", self.get_token_self, "any"),
            ("DELETE", "personal_access_tokens/self", self.revoke_token_self, "any"),
            ("POST", "personal_access_tokens/self/rotate", self.rotate_token_self, "rotate"),
            ("GET", "namespaces/:id", self.get_namespace, "read"),
            ("GET", "projects/:id", self.get_project, "read"),
            ("GET", "projects/:id/members/all", self.list_members, "read"),
            ("GET", "projects/:id/members/all/:user_id", self.get_member, "read"),
            ("GET", "projects/:id/members/:user_id", self.get_direct_member, "read"),
            ("GET", "projects/:id/repository/commits/:sha", self.get_commit, "read"),
            ("POST", "projects/:id/statuses/:sha", self.post_status, "write"),
            ("GET", "projects/:id/repository/commits/:sha/statuses", self.list_statuses, "read"),
            ("GET", "projects/:id/repository/commits/:sha/merge_requests", self.commit_mrs, "read"),
            ("GET", "projects/:id/merge_requests", self.list_mrs, "read"),
            ("GET", "projects/:id/merge_requests/:iid", self.get_mr, "read"),
            ("GET", "projects/:id/merge_requests/:iid/notes", self.list_notes, "read"),
            ("POST", "projects/:id/merge_requests/:iid/notes", self.create_note, "write"),
            ("GET", "projects/:id/merge_requests/:iid/notes/:note_id", self.get_note, "read"),
            ("PUT", "projects/:id/merge_requests/:iid/notes/:note_id", self.update_note, "write"),
            ("DELETE", "projects/:id/merge_requests/:iid/notes/:note_id", self.delete_note, "write"),
            ("GET", "projects/:id/environments", self.list_environments, "read"),
            ("POST", "projects/:id/environments", self.create_environment, "write"),
            ("GET", "projects/:id/environments/:env_id", self.get_environment, "read"),
            ("GET", "projects/:id/deployments", self.list_deployments, "read"),
            ("POST", "projects/:id/deployments", self.create_deployment, "write"),
            ("GET", "projects/:id/deployments/:dep_id", self.get_deployment, "read"),
            ("PUT", "projects/:id/deployments/:dep_id", self.update_deployment, "write"),
            ("GET", "projects/:id/hooks", self.list_hooks, "read"),
            ("POST", "projects/:id/hooks", self.create_hook, "write"),
            ("GET", "projects/:id/hooks/:hook_id", self.get_hook, "read"),
            ("PUT", "projects/:id/hooks/:hook_id", self.update_hook, "write"),
            ("DELETE", "projects/:id/hooks/:hook_id", self.delete_hook, "write"),
            ("GET", "projects/:id/hooks/:hook_id/events", self.list_hook_events, "read"),
            ("POST", "projects/:id/hooks/:hook_id/events/:event_id/resend", self.resend_hook_event,
             "write"),
        ]
        self.compiled = [(method, pattern.split("/"), fn, scope)
                         for method, pattern, fn, scope in self.routes]

    def dispatch(self, ctx, segments):
        """Route on raw segments, each percent-decoded on its own: an encoded
        project path (group%2Fproject) is one segment, a raw "/" makes more
        segments and so no route -- GitLab's 404 (facts §3.2)."""
        method = "GET" if ctx.method == "HEAD" else ctx.method
        path_matched = False
        for route_method, pattern, fn, scope in self.compiled:
            if len(pattern) != len(segments):
                continue
            args = []
            for want, got in zip(pattern, segments):
                if want.startswith(":"):
                    if got == "":
                        break
                    args.append(got)
                elif want != got:
                    break
            else:
                path_matched = True
                if route_method != method:
                    continue
                # Grape runs `before { authenticate! }` first, then parameter
                # validation, then the endpoint (which finds the project).
                with self.m.lock:
                    self.m.authenticate(ctx, scope)
                    if fn != self.resend_hook_event:
                        return fn(ctx, *args)
                return fn(ctx, *args)  # resend locks for itself around delivery
        if path_matched:
            raise ApiError(405, {"error": "405 Not Allowed"})
        raise ApiError(404, {"error": "404 Not Found"})

    # -- users, tokens, metadata ----------------------------------------------

    def get_user(self, ctx):
        user = self.m.user_basic(ctx, ctx.user["id"])
        user.update({"bot": bool(ctx.user.get("bot")), "created_at": ctx.user["created_at"],
                     "is_admin": False, "two_factor_enabled": False})
        return 200, user

    def get_version(self, ctx):
        return 200, {"version": self.m.settings["version"], "revision": self.m.settings["revision"],
                     "kas": {"enabled": False}, "enterprise": False}

    def get_token_self(self, ctx):
        return 200, self.m.token_json(ctx.token)

    def revoke_token_self(self, ctx):
        ctx.token["revoked"] = True
        return 204, None

    def rotate_token_self(self, ctx):
        """POST /personal_access_tokens/self/rotate (facts §3.7;
        lib/api/personal_access_tokens/self_rotation.rb): 200 with the new
        token, the old one revoked, expiry from expires_at or one week."""
        old = ctx.token
        expires = p_str(ctx.params, "expires_at")
        if expires is not None and parse_date(expires) is None:
            raise param_error("expires_at is invalid")
        if expires is None:
            expires = (utc_today() + datetime.timedelta(days=7)).isoformat()
        elif parse_date(expires) <= utc_today():
            raise bad_request("Expiration date must be in the future")
        value = "glpat-" + secrets.token_urlsafe(15)[:20]
        new = self.m.upsert_token({"token": value, "name": old["name"],
                                   "description": old["description"], "user_id": old["user_id"],
                                   "scopes": list(old["scopes"]), "expires_at": expires})
        new["rotated_from"] = old["id"]
        old["revoked"] = True
        old["rotated_to"] = new["id"]
        return 200, dict(self.m.token_json(new), token=value)

    def get_namespace(self, ctx, ident):
        for ns in self.m.namespaces.values():
            if str(ns["id"]) == ident or ns["full_path"].lower() == ident.lower():
                base = self.m.base_url(ctx)
                return 200, dict(ns, avatar_url=None, web_url="%s/groups/%s" % (base, ns["full_path"]))
        raise not_found("Namespace")

    # -- projects and members -------------------------------------------------

    def get_project(self, ctx, pid):
        project = self.m.find_project(ctx, pid, 0)
        return 200, self.m.project_json(ctx, project)

    def member_json(self, ctx, uid, level):
        return dict(self.m.user_basic(ctx, uid), access_level=level, created_at=iso_now(),
                    expires_at=None, membership_state="active")

    def list_members(self, ctx, pid):
        project = self.m.find_project(ctx, pid, 0)
        if project["members"] is None:
            members = [(uid, MAINTAINER) for uid in sorted(self.m.users)]
        else:
            members = sorted(project["members"].items())
        chunk, headers = Page.apply(ctx, [self.member_json(ctx, u, lvl) for u, lvl in members])
        return 200, chunk, headers

    def get_member(self, ctx, pid, uid):
        """GET /projects/:id/members/all/:user_id -- members.find_by! -> 404."""
        project = self.m.find_project(ctx, pid, 0)
        if not re.fullmatch(r"\d+", uid):
            raise param_error("user_id is invalid")
        level = self.m.access_level(project, int(uid))
        if not level:
            raise record_not_found()
        return 200, self.member_json(ctx, int(uid), level)

    get_direct_member = get_member  # the mock has no inherited memberships

    def get_commit(self, ctx, pid, sha):
        project = self.m.find_project(ctx, pid, REPORTER)
        found = self.m.find_commit(project, sha)
        if found is None:
            raise not_found("Commit")
        commit = project["commits"].get(found) or {"sha": found, "message": "Commit",
                                                   "parent_ids": [], "created_at": iso_now()}
        return 200, {"id": found, "short_id": found[:8], "title": commit["message"].split("\n")[0],
                     "message": commit["message"], "parent_ids": commit["parent_ids"],
                     "created_at": commit["created_at"], "author_name": "Mock Author",
                     "web_url": "%s/%s/-/commit/%s" % (self.m.base_url(ctx),
                                                       project["path_with_namespace"], found)}

    # -- commit statuses (facts §3.3) -------------------------------------------

    def post_status(self, ctx, pid, sha):
        """POST /projects/:id/statuses/:sha, following
        app/services/ci/create_commit_status_service.rb."""
        params = ctx.params
        state = p_str(params, "state")
        if state is None:
            raise param_error("state is missing")  # Grape `requires :state`
        if state not in STATUS_STATES:
            raise param_error("state does not have a valid value")
        ref_param = p_str(params, "ref")
        name = p_str(params, "name") or p_str(params, "context") or "default"
        target_url = p_str(params, "target_url")
        description = p_str(params, "description")
        coverage = params.get("coverage")
        if coverage is not None:
            try:
                coverage = float(coverage)
            except (TypeError, ValueError):
                raise param_error("coverage is invalid")
        pipeline_id = p_int(params, "pipeline_id")

        project = self.m.find_project(ctx, pid, DEVELOPER)  # authorize! :create_commit_status
        commit_sha = sha.lower() if re.fullmatch(r"[0-9a-fA-F]{40}", sha) else None
        if commit_sha is None or self.m.find_commit(project, commit_sha) is None:
            raise not_found("Commit")

        pipelines = [p for p in reversed(self.m.pipelines_by_sha.get((project["id"], commit_sha), []))
                     if (ref_param is None or p["ref"] == ref_param)
                     and (pipeline_id is None or p["id"] == pipeline_id)]
        if pipeline_id is not None and not pipelines:
            raise not_found("Pipeline for pipeline_id, sha and ref")
        ref = ref_param or (pipelines[0]["ref"] if pipelines else None)
        if not ref:
            branches = self.m.branches_containing(project, commit_sha)
            ref = branches[0] if branches else None
        if not ref:
            raise not_found("References for commit")

        # Ability :update_pipeline -- a Developer cannot on a protected ref.
        if ref in project["protected_branches"] and \
                self.m.access_level(project, ctx.user["id"]) < MAINTAINER:
            raise forbidden()

        errors = {}
        if target_url is not None:
            problems = url_errors(target_url)
            if len(target_url) > FIELD_MAX_CHARS:
                problems.append("is too long (maximum is 255 characters)")
            if problems:
                errors["target_url"] = problems
        if description is not None and len(description) > FIELD_MAX_CHARS:
            errors["description"] = ["is too long (maximum is 255 characters)"]
        if len(ref) > FIELD_MAX_CHARS:
            errors["ref"] = ["is too long (maximum is 255 characters)"]
        if errors:
            raise validation_error(errors)

        pipeline = pipelines[0] if pipelines else None
        if pipeline is None:
            pipeline = {"id": self.m.next_id("pipeline"), "project_id": project["id"],
                        "sha": commit_sha, "ref": ref, "source": "external",
                        "created_at": iso_now()}
            pipeline["iid"] = pipeline["id"]
            self.m.pipelines.append(pipeline)
            self.m.pipelines_by_sha.setdefault((project["id"], commit_sha), []).append(pipeline)

        # A pending/running job with this name and ref, by this user, is
        # updated; otherwise a new job is made (external_commit_status_scope).
        siblings = self.m.statuses_by_pipeline.setdefault(pipeline["id"], [])
        job = next((s for s in siblings
                    if s["name"] == name
                    and s["ref"] == ref and s["user_id"] == ctx.user["id"]
                    and s["status"] in ("pending", "running")), None)
        fresh = job is None
        if fresh:
            job = {"id": None, "sha": commit_sha, "ref": ref, "status": "created", "name": name,
                   "target_url": None, "description": None, "coverage": None,
                   "allow_failure": False, "created_at": iso_now(), "started_at": None,
                   "finished_at": None, "pipeline_id": pipeline["id"], "project_id": project["id"],
                   "user_id": ctx.user["id"], "stage": "external", "retried": False}
        updated = dict(job)
        for key, value in (("target_url", target_url), ("description", description),
                           ("coverage", coverage)):
            if key in params:
                updated[key] = value
        apply_status_transition(updated, state)  # raises the 400 on a repeated state
        if fresh:
            updated["id"] = self.m.next_id("job")
            # update_older_statuses_retried!: older jobs of this name are retried.
            for other in siblings:
                if other["name"] == name:
                    other["retried"] = True
            self.m.statuses.append(updated)
            siblings.append(updated)
        else:
            job.update(updated)
            updated = job
        return 201, self.m.status_json(ctx, updated)

    def list_statuses(self, ctx, pid, sha):
        """GET /projects/:id/repository/commits/:sha/statuses
        (lib/api/commit_statuses.rb): latest per name unless all=true."""
        show_all = p_bool(ctx.params, "all", default=False)
        order_by = p_choice(ctx.params, "order_by", ("id", "pipeline_id"), "id")
        sort = p_choice(ctx.params, "sort", ("asc", "desc"), "asc")
        project = self.m.find_project(ctx, pid, REPORTER)
        found = self.m.find_commit(project, sha)
        if found is None:
            raise not_found("Commit")
        items = [s for s in self.m.statuses if s["project_id"] == project["id"] and s["sha"] == found]
        if not show_all:
            items = [s for s in items if not s["retried"]]
        for key in ("ref", "name", "stage"):
            value = p_str(ctx.params, key)
            if value:
                items = [s for s in items if s[key] == value]
        if p_int(ctx.params, "pipeline_id") is not None:
            items = [s for s in items if s["pipeline_id"] == p_int(ctx.params, "pipeline_id")]
        items.sort(key=lambda s: (s[order_by], s["id"]), reverse=(sort == "desc"))
        chunk, headers = Page.apply(ctx, [self.m.status_json(ctx, s) for s in items])
        return 200, chunk, headers

    # -- merge requests and notes (facts §3.4) ---------------------------------

    def commit_mrs(self, ctx, pid, sha):
        """GET /projects/:id/repository/commits/:sha/merge_requests."""
        state = p_choice(ctx.params, "state", ("opened", "closed", "merged", "locked", "all"))
        project = self.m.find_project(ctx, pid, REPORTER)
        found = self.m.find_commit(project, sha)
        if found is None:
            raise not_found("Commit")
        mrs = [mr for mr in project["merge_requests"].values()
               if found in mr["commits"] or mr["merge_commit_sha"] == found]
        if state and state != "all":
            mrs = [mr for mr in mrs if mr["state"] == state]
        mrs.sort(key=lambda mr: mr["id"], reverse=True)
        chunk, headers = Page.apply(ctx, [self.m.mr_json(ctx, project, mr) for mr in mrs])
        return 200, chunk, headers

    def list_mrs(self, ctx, pid):
        state = p_choice(ctx.params, "state", ("opened", "closed", "merged", "locked", "all"))
        project = self.m.find_project(ctx, pid, REPORTER)
        mrs = list(project["merge_requests"].values())
        if state and state != "all":
            mrs = [mr for mr in mrs if mr["state"] == state]
        for key in ("source_branch", "target_branch"):
            value = p_str(ctx.params, key)
            if value:
                mrs = [mr for mr in mrs if mr[key] == value]
        mrs.sort(key=lambda mr: mr["id"], reverse=True)
        chunk, headers = Page.apply(ctx, [self.m.mr_json(ctx, project, mr) for mr in mrs])
        return 200, chunk, headers

    def get_mr(self, ctx, pid, iid):
        project = self.m.find_project(ctx, pid, REPORTER)
        return 200, self.m.mr_json(ctx, project, self.m.find_mr(project, iid))

    def notes_of(self, project, mr):
        return [n for n in self.m.notes
                if n["project_id"] == project["id"] and n["noteable_iid"] == mr["iid"]]

    def find_note(self, project, mr, note_id):
        if not re.fullmatch(r"\d+", note_id):
            raise param_error("note_id is invalid")
        for note in self.notes_of(project, mr):
            if note["id"] == int(note_id):
                return note
        raise record_not_found()  # noteable.notes.find(note_id)

    def list_notes(self, ctx, pid, iid):
        """GET …/notes: sort (default desc) by created_at or updated_at."""
        sort = p_choice(ctx.params, "sort", ("asc", "desc"), "desc")
        order_by = p_choice(ctx.params, "order_by", ("created_at", "updated_at"), "created_at")
        project = self.m.find_project(ctx, pid, REPORTER)
        mr = self.m.find_mr(project, iid)
        notes = sorted(self.notes_of(project, mr), key=lambda n: (n[order_by], n["id"]),
                       reverse=(sort == "desc"))
        chunk, headers = Page.apply(ctx, [self.m.note_json(ctx, n) for n in notes])
        return 200, chunk, headers

    def get_note(self, ctx, pid, iid, note_id):
        project = self.m.find_project(ctx, pid, REPORTER)
        mr = self.m.find_mr(project, iid)
        return 200, self.m.note_json(ctx, self.find_note(project, mr, note_id))

    def run_quick_actions(self, ctx, project, mr, commands):
        """Apply the commands' effects the tests can see; returns
        (commands_changes, summary).  Effects beyond the MR state are only
        logged in state["quick_actions"]."""
        changes, summary = {}, []
        for cmd, arg in commands:
            self.m.quick_actions.append({"project_id": project["id"], "merge_request_iid": mr["iid"],
                                         "command": cmd, "argument": arg, "user_id": ctx.user["id"],
                                         "time": iso_now()})
            if cmd == "close" and mr["state"] == "opened":
                mr.update(state="closed", closed_at=iso_now())
                changes["state_event"] = "close"
                summary.append("Closed this merge request.")
            elif cmd == "reopen" and mr["state"] == "closed":
                mr.update(state="opened", closed_at=None)
                changes["state_event"] = "reopen"
                summary.append("Reopened this merge request.")
            elif cmd == "merge" and mr["state"] == "opened":
                mr.update(state="merged", merged_at=iso_now())
                changes["merge"] = mr["sha"]
                summary.append("Merged this merge request.")
            elif cmd == "approve":
                if ctx.user["id"] not in mr["approved_by"]:
                    mr["approved_by"].append(ctx.user["id"])
                changes["approve"] = True
                summary.append("Approved the current merge request.")
            elif cmd == "unapprove":
                if ctx.user["id"] in mr["approved_by"]:
                    mr["approved_by"].remove(ctx.user["id"])
                changes["unapprove"] = True
                summary.append("Unapproved the current merge request.")
            else:
                changes[cmd] = arg or True
                summary.append("Ran /%s." % cmd)
            mr["updated_at"] = iso_now()
        return changes, summary

    def process_note_body(self, ctx, project, mr, body, what):
        """Notes::CreateService / UpdateService: quick actions are run and
        removed; the rest is validated (Note: presence, ≤ 1,000,000 chars).
        Returns (content, commands) or raises the 400."""
        content, commands = extract_quick_actions(body)
        if not content and commands:
            return content, commands
        errors = {}
        if not content.strip():
            errors["note"] = ["can't be blank"]
        elif len(content) > NOTE_MAX_CHARS:
            errors["note"] = ["is too long (maximum is %d characters)" % NOTE_MAX_CHARS]
        if errors:
            raise bad_request("%s %s" % (what, ruby_hash_inspect(errors)))
        return content, commands

    def create_note(self, ctx, pid, iid):
        """POST …/merge_requests/:iid/notes: 201 note; commands only -> 202
        {commands_changes, summary}, nothing stored (facts §3.4;
        lib/api/helpers/notes_helpers.rb process_note_creation_result)."""
        body = p_str(ctx.params, "body", required=True)
        internal = p_bool(ctx.params, "internal", default=False)
        project = self.m.find_project(ctx, pid, REPORTER)
        mr = self.m.find_mr(project, iid)
        content, commands = self.process_note_body(ctx, project, mr, body, "Note")
        changes, summary = self.run_quick_actions(ctx, project, mr, commands)
        if not content:
            return 202, {"commands_changes": changes, "summary": summary}
        now = iso_now()
        note = {"id": self.m.next_id("note"), "project_id": project["id"], "noteable_iid": mr["iid"],
                "noteable_id": mr["id"], "body": content, "author_id": ctx.user["id"],
                "system": False, "internal": internal, "created_at": now, "updated_at": now}
        self.m.notes.append(note)
        data = self.m.note_json(ctx, note)
        data["commands_changes"] = changes
        return 201, data

    def update_note(self, ctx, pid, iid, note_id):
        """PUT …/notes/:note_id: only the author (authorize! :admin_note)."""
        body = p_str(ctx.params, "body", required=True)
        project = self.m.find_project(ctx, pid, REPORTER)
        mr = self.m.find_mr(project, iid)
        note = self.find_note(project, mr, note_id)
        if note["author_id"] != ctx.user["id"] or note["system"]:
            raise forbidden()
        content, commands = self.process_note_body(ctx, project, mr, body, "Note")
        changes, summary = self.run_quick_actions(ctx, project, mr, commands)
        if not content:
            # Notes::UpdateService deletes a note edited down to commands only.
            self.m.notes.remove(note)
            return 202, {"commands_changes": changes, "summary": summary}
        note["body"] = content
        note["updated_at"] = iso_now()
        return 200, self.m.note_json(ctx, note)

    def delete_note(self, ctx, pid, iid, note_id):
        project = self.m.find_project(ctx, pid, REPORTER)
        mr = self.m.find_mr(project, iid)
        note = self.find_note(project, mr, note_id)
        if note["author_id"] != ctx.user["id"] and \
                self.m.access_level(project, ctx.user["id"]) < MAINTAINER:
            raise forbidden()
        self.m.notes.remove(note)
        return 204, None

    # -- environments and deployments (facts §3.5, §3.6) ------------------------

    def env_errors(self, name):
        errors = []
        if not ENV_NAME_RE.match(name) or name.startswith("/") or name.endswith("/"):
            errors.append(ENV_NAME_MESSAGE)
        if len(name) > 255:
            errors.append("is too long (maximum is 255 characters)")
        return errors

    def new_environment(self, project, name, external_url=None, tier=None, description=None):
        now = iso_now()
        env = {"id": self.m.next_id("environment"), "project_id": project["id"], "name": name,
               "slug": env_slug(name), "description": description, "external_url": external_url,
               "created_at": now, "updated_at": now, "tier": tier or env_tier(name),
               "state": "available", "auto_stop_at": None}
        self.m.environments.append(env)
        return env

    def environments_of(self, project):
        return [e for e in self.m.environments if e["project_id"] == project["id"]]

    def list_environments(self, ctx, pid):
        name = p_str(ctx.params, "name")
        search = p_str(ctx.params, "search")
        states = p_choice(ctx.params, "states", ("available", "stopping", "stopped"))
        if name and search:
            raise param_error("name, search are mutually exclusive")
        project = self.m.find_project(ctx, pid, REPORTER)
        envs = self.environments_of(project)
        if name:
            envs = [e for e in envs if e["name"] == name]
        if search:
            envs = [e for e in envs if search.lower() in e["name"].lower()]
        if states:
            envs = [e for e in envs if e["state"] == states]
        chunk, headers = Page.apply(ctx, [self.m.environment_json(e) for e in envs])
        return 200, chunk, headers

    def get_environment(self, ctx, pid, env_id):
        project = self.m.find_project(ctx, pid, REPORTER)
        for env in self.environments_of(project):
            if str(env["id"]) == env_id:
                data = self.m.environment_json(env)
                deps = [d for d in self.m.deployments
                        if d["environment_id"] == env["id"] and d["status"] == "success"]
                data["last_deployment"] = self.m.deployment_json(ctx, deps[-1]) if deps else None
                return 200, data
        raise record_not_found()

    def create_environment(self, ctx, pid):
        """POST /projects/:id/environments (facts §3.5)."""
        name = p_str(ctx.params, "name", required=True)
        external_url = p_str(ctx.params, "external_url")
        tier = p_choice(ctx.params, "tier", ("production", "staging", "testing", "development", "other"))
        description = p_str(ctx.params, "description")
        project = self.m.find_project(ctx, pid, DEVELOPER)
        errors = {}
        if self.env_errors(name):
            errors["name"] = self.env_errors(name)
        elif any(e["name"] == name for e in self.environments_of(project)):
            errors["name"] = ["has already been taken"]
        if external_url and url_errors(external_url):
            errors["external_url"] = url_errors(external_url)
        if errors:
            raise validation_error(errors)
        env = self.new_environment(project, name, external_url, tier, description)
        return 201, self.m.environment_json(env)

    def list_deployments(self, ctx, pid):
        order_by = p_choice(ctx.params, "order_by",
                            ("id", "iid", "created_at", "updated_at", "finished_at", "ref"), "id")
        sort = p_choice(ctx.params, "sort", ("asc", "desc"), "asc")
        env_name = p_str(ctx.params, "environment")
        status = p_choice(ctx.params, "status",
                          ("created", "running", "success", "failed", "canceled", "skipped", "blocked"))
        project = self.m.find_project(ctx, pid, REPORTER)
        deps = [d for d in self.m.deployments if d["project_id"] == project["id"]]
        if env_name:
            env_ids = {e["id"] for e in self.environments_of(project) if e["name"] == env_name}
            deps = [d for d in deps if d["environment_id"] in env_ids]
        if status:
            deps = [d for d in deps if d["status"] == status]
        deps.sort(key=lambda d: (d[order_by] or "", d["id"]), reverse=(sort == "desc"))
        chunk, headers = Page.apply(ctx, [self.m.deployment_json(ctx, d) for d in deps])
        return 200, chunk, headers

    def find_deployment(self, project, dep_id):
        if not re.fullmatch(r"\d+", dep_id):
            raise param_error("deployment_id is invalid")
        for dep in self.m.deployments:
            if dep["project_id"] == project["id"] and dep["id"] == int(dep_id):
                return dep
        raise record_not_found()  # user_project.deployments.find

    def get_deployment(self, ctx, pid, dep_id):
        project = self.m.find_project(ctx, pid, REPORTER)
        return 200, self.m.deployment_json(ctx, self.find_deployment(project, dep_id))

    def create_deployment(self, ctx, pid):
        """POST /projects/:id/deployments (lib/api/deployments.rb,
        app/services/deployments/create_service.rb)."""
        missing = [k for k in ("environment", "sha", "ref", "tag", "status")
                   if ctx.params.get(k) is None]
        if missing:
            raise param_error(", ".join("%s is missing" % k for k in missing))
        env_name = p_str(ctx.params, "environment")
        sha = p_str(ctx.params, "sha")
        ref = p_str(ctx.params, "ref")
        tag = p_bool(ctx.params, "tag")
        status = p_choice(ctx.params, "status", DEPLOYMENT_STATUSES)
        project = self.m.find_project(ctx, pid, DEVELOPER)
        if self.m.find_commit(project, ref) is None:  # user_project.commit(ref)
            raise validation_error({"ref": ["The branch or tag does not exist"]})
        env = next((e for e in self.environments_of(project) if e["name"] == env_name), None)
        if env is None:  # find_or_create_by_name (facts §3.6)
            errors = self.env_errors(env_name)
            if errors:
                raise validation_error({"name": errors})
            env = self.new_environment(project, env_name)
        if self.m.find_commit(project, sha) is None:  # Deployment#valid_sha
            raise validation_error({"sha": ["The commit does not exist"]})
        sha_value = sha.lower() if re.fullmatch(r"[0-9a-fA-F]{40}", sha) else sha
        # CreateService: the same deployment as the environment's last
        # successful one is answered with that one, not created again.
        last = [d for d in self.m.deployments
                if d["environment_id"] == env["id"] and d["status"] == "success"]
        if last and (last[-1]["ref"], last[-1]["tag"], last[-1]["sha"], last[-1]["status"]) == \
                (ref, tag, sha_value, status):
            return 201, self.m.deployment_json(ctx, last[-1])
        now = iso_now()
        dep = {"id": self.m.next_id("deployment"), "project_id": project["id"],
               "environment_id": env["id"], "ref": ref, "tag": tag, "sha": sha_value,
               "status": "created", "user_id": ctx.user["id"], "created_at": now,
               "updated_at": now, "finished_at": None}
        apply_deployment_transition(dep, status)
        dep["iid"] = sum(1 for d in self.m.deployments if d["project_id"] == project["id"]) + 1
        self.m.deployments.append(dep)
        return 201, self.m.deployment_json(ctx, dep)

    def update_deployment(self, ctx, pid, dep_id):
        """PUT /projects/:id/deployments/:id: a transition the state machine
        refuses is a validation error (facts §3.6; app/models/deployment.rb)."""
        status = p_choice(ctx.params, "status", DEPLOYMENT_STATUSES, required=True)
        project = self.m.find_project(ctx, pid, DEVELOPER)
        dep = self.find_deployment(project, dep_id)
        updated = dict(dep)
        apply_deployment_transition(updated, status)
        dep.update(updated)
        return 200, self.m.deployment_json(ctx, dep)

    # -- project hooks (facts §3.7) ------------------------------------------

    def hooks_of(self, project):
        return [h for h in self.m.hooks if h["project_id"] == project["id"]]

    def find_hook(self, project, hook_id):
        for hook in self.hooks_of(project):
            if str(hook["id"]) == hook_id:
                return hook
        raise record_not_found()

    def hook_fields(self, params, hook):
        """Apply hook parameters to the hook dict (create and update)."""
        for key in ("url", "name", "description", "token", "signing_token",
                    "push_events_branch_filter", "custom_webhook_template"):
            value = p_str(params, key)
            if value is not None:
                hook[key] = value
        strategy = p_choice(params, "branch_filter_strategy", ("wildcard", "regex", "all_branches"))
        if strategy:
            hook["branch_filter_strategy"] = strategy
        for key in HOOK_EVENT_FLAGS + ("enable_ssl_verification",):
            value = p_bool(params, key)
            if value is not None:
                hook[key] = value
        if isinstance(params.get("custom_headers"), list):
            hook["custom_headers"] = {h.get("key"): h.get("value")
                                      for h in params["custom_headers"] if isinstance(h, dict)}
        if hook.get("url") is not None and url_errors(hook["url"]):
            # WebHooks::CreateService answers an invalid URL with 422.
            raise validation_error({"url": url_errors(hook["url"])}, 422)

    def create_hook(self, ctx, pid):
        p_str(ctx.params, "url", required=True)
        project = self.m.find_project(ctx, pid, MAINTAINER)
        hook = self.m_new_hook(project)
        self.hook_fields(ctx.params, hook)
        self.m.hooks.append(hook)
        return 201, self.m.hook_json(hook)

    def m_new_hook(self, project):
        # Database defaults (db/structure.sql web_hooks): push_events true,
        # enable_ssl_verification true, other events false -- unverified,
        # facts §3.7 says to set every flag explicitly.
        hook = {"id": self.m.next_id("hook"), "project_id": project["id"], "url": None,
                "name": None, "description": None, "token": None, "signing_token": None,
                "created_at": iso_now(), "alert_status": "executable", "disabled_until": None,
                "push_events_branch_filter": None, "branch_filter_strategy": "wildcard",
                "enable_ssl_verification": True, "custom_webhook_template": None,
                "custom_headers": {}}
        for flag in HOOK_EVENT_FLAGS:
            hook[flag] = flag == "push_events"
        return hook

    def list_hooks(self, ctx, pid):
        project = self.m.find_project(ctx, pid, MAINTAINER)
        chunk, headers = Page.apply(ctx, [self.m.hook_json(h) for h in self.hooks_of(project)])
        return 200, chunk, headers

    def get_hook(self, ctx, pid, hook_id):
        project = self.m.find_project(ctx, pid, MAINTAINER)
        return 200, self.m.hook_json(self.find_hook(project, hook_id))

    def update_hook(self, ctx, pid, hook_id):
        """PUT: partial; a new URL without a token clears the secret token."""
        project = self.m.find_project(ctx, pid, MAINTAINER)
        hook = self.find_hook(project, hook_id)
        updated = dict(hook)
        self.hook_fields(ctx.params, updated)
        if updated["url"] != hook["url"] and p_str(ctx.params, "token") is None:
            updated["token"] = None
        hook.update(updated)
        return 200, self.m.hook_json(hook)

    def delete_hook(self, ctx, pid, hook_id):
        project = self.m.find_project(ctx, pid, MAINTAINER)
        hook = self.find_hook(project, hook_id)
        self.m.hooks.remove(hook)
        self.m.hook_events[:] = [e for e in self.m.hook_events if e["hook_id"] != hook["id"]]
        return 204, None

    def list_hook_events(self, ctx, pid, hook_id):
        """GET …/hooks/:hook_id/events (lib/api/hooks/events.rb): last 7 days,
        newest first, status = codes or successful/client_failure/
        server_failure, per_page 1..20."""
        wanted = p_str(ctx.params, "status")
        project = self.m.find_project(ctx, pid, MAINTAINER)
        hook = self.find_hook(project, hook_id)
        since = time.time() - 7 * 86400
        events = [e for e in self.m.hook_events if e["hook_id"] == hook["id"] and e["t"] >= since]
        if wanted:
            filters = [w.strip() for w in wanted.split(",") if w.strip()]
            for item in filters:
                if not (re.fullmatch(r"[1-5]\d\d", item) or
                        item in ("successful", "client_failure", "server_failure")):
                    raise param_error("status does not have a valid value")
            events = [e for e in events if any(event_matches(e, f) for f in filters)]
        events.sort(key=lambda e: e["id"], reverse=True)
        chunk, headers = Page.apply(ctx, [event_json(e) for e in events], max_per_page=20,
                                    strict_per_page=True)
        return 200, chunk, headers

    def resend_hook_event(self, ctx, pid, hook_id, event_id):
        """POST …/events/:id/resend (lib/api/hooks/resend_hook.rb): rate
        limited per project and user (5/min, facts §3.8), 201
        {"response_status": N}; a new event is logged.  With the setting
        deliver_resends the stored payload really is POSTed to the hook URL."""
        with self.m.lock:
            project = self.m.find_project(ctx, pid, MAINTAINER)
            hook = self.find_hook(project, hook_id)
            key = (project["id"], ctx.user["id"])
            now = time.time()
            recent = [t for t in self.m.resend_times.get(key, []) if t > now - 60]
            if len(recent) >= int(self.m.settings["resend_rate_limit"]):
                raise ApiError(429, {"message": {
                    "error": "This endpoint has been requested too many times. Try again later."}})
            recent.append(now)
            self.m.resend_times[key] = recent
            event = next((e for e in self.m.hook_events
                          if e["hook_id"] == hook["id"] and str(e["id"]) == event_id), None)
            if event is None:
                raise record_not_found()
            deliver = bool(self.m.settings["deliver_resends"])
            target = dict(hook)
            original = dict(event)
        if deliver:
            status, resp_headers, resp_body, duration = deliver_hook(target, original)
        else:
            status, resp_headers, resp_body, duration = original["response_status"], {}, "", 0.01
        with self.m.lock:
            copy = dict(original, id=self.m.next_id("hook_event"), t=time.time(),
                        created_at=iso_now(), response_status=str(status),
                        response_headers=resp_headers, response_body=resp_body,
                        execution_duration=duration)
            self.m.hook_events.append(copy)
            self.m.resends.append({"project_id": project["id"], "hook_id": hook["id"],
                                   "event_id": original["id"], "new_event_id": copy["id"],
                                   "delivered": deliver, "response_status": str(status),
                                   "time": iso_now()})
        code = int(status) if str(status).isdigit() else status
        return 201, {"response_status": code}


def apply_status_transition(job, state):
    """Ci::CreateCommitStatusService#apply_job_state! on CommitStatus's state
    machine (app/models/commit_status.rb).  A refused event raises GitLab's
    400, e.g. "Cannot transition status via :run from :running (Reason(s):
    Status cannot transition via "run")" (facts §3.3)."""
    transitions = {
        "enqueue": ({"created", "skipped"}, "pending"),
        "run": ({"pending"}, "running"),
        "success": ({"created", "pending", "running"}, "success"),
        "drop": ({"created", "pending", "running"}, "failed"),
        "cancel": ({"created", "pending", "running"}, "canceled"),
        "skip": ({"created", "pending"}, "skipped"),
    }

    def fire(event, bang=True):
        sources, target = transitions[event]
        if job["status"] not in sources:
            if not bang:
                return
            raise ApiError(400, {"message": (
                'Cannot transition status via :%s from :%s (Reason(s): Status cannot '
                'transition via "%s")' % (event, job["status"], event))})
        now = iso_now()
        if target == "running" and not job["started_at"]:
            job["started_at"] = now
        if target in ("success", "failed", "canceled"):
            job["finished_at"] = now
        job["status"] = target

    if state == "pending":
        fire("enqueue")
    elif state == "running":
        fire("enqueue", bang=False)  # job.enqueue (no bang) then job.run!
        fire("run")
    else:
        fire({"success": "success", "failed": "drop", "canceled": "cancel",
              "skipped": "skip"}[state])


def apply_deployment_transition(dep, status):
    """Deployment#update_status (app/models/deployment.rb): run only from
    created/blocked; succeed/drop/cancel from anything but themselves.  A
    refused event is a validation error on :status."""
    event = {"running": "run", "success": "succeed", "failed": "drop", "canceled": "cancel"}[status]
    allowed = dep["status"] in ("created", "blocked") if event == "run" else dep["status"] != status
    if not allowed:
        raise validation_error({"status": ['cannot transition via "%s"' % event]})
    dep["status"] = status
    dep["updated_at"] = iso_now()
    if status in ("success", "failed", "canceled"):
        dep["finished_at"] = dep["updated_at"]


def event_matches(event, wanted):
    status = str(event["response_status"])
    if wanted == "successful":
        return status.startswith("2")
    if wanted == "client_failure":
        return status.startswith("4")
    if wanted == "server_failure":  # includes "internal error" (no HTTP answer)
        return status.startswith("5") or not status.isdigit()
    return status == wanted


def event_json(event):
    return {k: event[k] for k in ("id", "url", "trigger", "request_headers", "request_data",
                                  "response_headers", "response_body", "execution_duration",
                                  "response_status", "created_at")}


def deliver_hook(hook, event):
    """POST an event's stored payload to the hook URL, as a resend does."""
    headers = {k: v for k, v in (event.get("request_headers") or {}).items()
               if k.lower() not in ("x-gitlab-token", "content-length", "host")}
    headers.setdefault("Content-Type", "application/json")
    headers.setdefault("User-Agent", "GitLab/mock")
    if hook.get("token"):
        headers["X-Gitlab-Token"] = hook["token"]
    data = event.get("request_data")
    payload = data.encode() if isinstance(data, str) else json.dumps(data).encode()
    context = None
    if hook["url"].lower().startswith("https") and not hook.get("enable_ssl_verification", True):
        context = ssl._create_unverified_context()
    start = time.time()
    try:
        request = urllib.request.Request(hook["url"], data=payload, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10, context=context) as resp:
            return resp.status, dict(resp.headers), resp.read(65536).decode("utf-8", "replace"), \
                round(time.time() - start, 3)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read(65536).decode("utf-8", "replace"), \
            round(time.time() - start, 3)
    except Exception as err:  # noqa: BLE001 -- any delivery failure is "internal error"
        return "internal error", {}, str(err), round(time.time() - start, 3)


# ----------------------------------------------------------- control API ----

class Control:
    """/_mock/... -- how tests configure the mock and read what it saw."""

    def __init__(self, mock, api):
        self.m = mock
        self.api = api

    def dispatch(self, method, segments, params, query):
        """segments: path after /_mock/, decoded.  Returns (status, body)."""
        m = self.m
        route = "/".join(segments)
        with m.lock:
            if route == "health" and method == "GET":
                return 200, {"ok": True}
            if route == "state" and method == "GET":
                return 200, self.state()
            if route == "reset" and method == "POST":
                m.reset()
                return 200, {"ok": True}
            if route == "seed" and method == "POST":
                m.apply_seed(params)
                return 200, {"ok": True}
            if route == "settings":
                if method == "POST":
                    m.update_settings(params)
                return 200, dict(m.settings)
            if route == "requests":
                if method == "DELETE":
                    m.requests.clear()
                    return 200, {"ok": True}
                if method == "GET":
                    return 200, self.requests(query)
            if route == "faults":
                if method == "GET":
                    return 200, [fault_json(f) for f in m.faults]
                if method == "DELETE":
                    m.faults.clear()
                    return 200, {"ok": True}
                if method == "POST":
                    specs = params if isinstance(params, list) else [params]
                    added = [self.add_fault(spec) for spec in specs]
                    return 201, added if isinstance(params, list) else added[0]
            if route == "users" and method == "POST":
                return 201, m.upsert_user(params)
            if route == "tokens":
                if method == "GET":
                    return 200, list(m.tokens.values())
                if method == "POST":
                    return 201, m.upsert_token(params)
            if route == "tokens/revoke" and method == "POST":
                token = m.tokens.get(params.get("token")) if isinstance(params, dict) else None
                if token is None:
                    return 404, {"error": "no such token"}
                token["revoked"] = True
                return 200, token
            if route == "projects":
                if method == "GET":
                    return 200, [self.project_state(p) for p in m.projects.values()]
                if method == "POST":
                    return 201, self.project_state(m.upsert_project(params))
            if len(segments) >= 3 and segments[0] == "projects" and method in ("POST", "PATCH"):
                return self.project_child(method, segments[1], segments[2:], params)
        return 404, {"error": "unknown control endpoint %s /_mock/%s" % (method, route)}

    def project_child(self, method, ident, rest, params):
        m = self.m
        project = None
        for candidate in m.projects.values():
            if str(candidate["id"]) == ident or candidate["path_with_namespace"] == ident:
                project = candidate
        if project is None:
            return 404, {"error": "no such project %s" % ident}
        if not isinstance(params, dict):
            raise param_error("body must be a JSON object")
        what = rest[0]
        if rest == ["commits"]:
            return 201, m.upsert_commit(project, params)
        if rest in (["branches"], ["tags"], ["protected_branches"]):
            name = params.get("name")
            if not isinstance(name, str) or not name:
                raise param_error("name is required")
            if name not in project[what]:
                project[what].append(name)
            return 201, {what: project[what]}
        if rest == ["members"]:
            m.set_member(project, params)
            return 201, {"members": project["members"]}
        if rest == ["merge_requests"]:
            return 201, m.upsert_mr(project, params)
        if len(rest) == 3 and rest[0] == "merge_requests" and rest[2] == "notes":
            mr = m.find_mr(project, rest[1])
            now = iso_now()
            note = {"id": m.next_id("note"), "project_id": project["id"], "noteable_iid": mr["iid"],
                    "noteable_id": mr["id"], "body": str(params.get("body", "")),
                    "author_id": int(params.get("author_id", 1)),
                    "system": bool(params.get("system", False)),
                    "internal": bool(params.get("internal", False)),
                    "created_at": params.get("created_at", now), "updated_at": now}
            if note["author_id"] not in m.users:
                m.upsert_user({"id": note["author_id"]})
            m.notes.append(note)
            return 201, note
        if rest == ["hooks"] and method == "POST":
            hook = self.api.m_new_hook(project)
            hook.update({k: v for k, v in params.items() if k in hook and k != "id"})
            m.hooks.append(hook)
            return 201, hook
        if len(rest) == 2 and rest[0] == "hooks" and method == "PATCH":
            hook = self.api.find_hook(project, rest[1])
            hook.update({k: v for k, v in params.items() if k in hook and k not in ("id", "project_id")})
            return 200, hook
        if len(rest) == 3 and rest[0] == "hooks" and rest[2] == "events" and method == "POST":
            hook = self.api.find_hook(project, rest[1])
            age = float(params.get("age_seconds", 0))
            event = {"id": m.next_id("hook_event"), "hook_id": hook["id"],
                     "url": params.get("url", hook["url"]),
                     "trigger": params.get("trigger", "push_hooks"),
                     "request_headers": params.get("request_headers", {
                         "Content-Type": "application/json", "X-Gitlab-Event": "Push Hook",
                         "X-Gitlab-Token": "[REDACTED]"}),
                     "request_data": params.get("request_data", {"object_kind": "push"}),
                     "response_headers": params.get("response_headers", {}),
                     "response_body": params.get("response_body", ""),
                     "execution_duration": params.get("execution_duration", 0.1),
                     "response_status": str(params.get("response_status", 200)),
                     "t": time.time() - age,
                     "created_at": (datetime.datetime.now(datetime.timezone.utc)
                                    - datetime.timedelta(seconds=age))
                     .isoformat(timespec="milliseconds").replace("+00:00", "Z")}
            m.hook_events.append(event)
            return 201, event_json(event)
        return 404, {"error": "unknown control endpoint %s /_mock/projects/%s/%s"
                              % (method, ident, "/".join(rest))}

    def add_fault(self, spec):
        """{"match": REGEX on "METHOD /raw/path", "count": N (-1 = always),
        "status", "body" (string or JSON), "headers", "content_type",
        "delay" (seconds), "body_bytes" (N filler bytes),
        "action": respond | pass | close | reset | truncate | drop_response}."""
        if not isinstance(spec, dict):
            raise param_error("a fault must be an object")
        try:
            regex = re.compile(spec.get("match", "."))
        except re.error as err:
            raise param_error("bad match regex: %s" % err)
        status = spec.get("status")
        action = spec.get("action", "respond" if status is not None else "pass")
        if action not in ("respond", "pass", "close", "reset", "truncate", "drop_response"):
            raise param_error("unknown action %r" % action)
        if action in ("respond", "truncate") and not isinstance(status, int):
            raise param_error("action %s needs an integer status" % action)
        count = spec.get("count", 1)
        if not isinstance(count, int) or count == 0:
            raise param_error("count must be a non-zero integer (-1 = forever)")
        headers = spec.get("headers") or {}
        if not isinstance(headers, dict):
            raise param_error("headers must be an object")
        fault = {"id": self.m.next_id("fault"), "match": regex, "count": count, "status": status,
                 "body": spec.get("body"), "headers": {str(k): str(v) for k, v in headers.items()},
                 "content_type": spec.get("content_type"), "delay": float(spec.get("delay", 0)),
                 "body_bytes": spec.get("body_bytes"), "action": action, "used": 0}
        self.m.faults.append(fault)
        return fault_json(fault)

    def requests(self, query):
        """Recorded requests, oldest first; filters method=, path= (regex),
        since= (seq)."""
        q = dict(urllib.parse.parse_qsl(query))
        items = self.m.requests
        if q.get("since"):
            items = [r for r in items if r["seq"] > int(q["since"])]
        if q.get("method"):
            items = [r for r in items if r["method"] == q["method"].upper()]
        if q.get("path"):
            try:
                regex = re.compile(q["path"])
            except re.error as err:
                raise param_error("bad path regex: %s" % err)
            items = [r for r in items if regex.search(r["path"])]
        return list(items)

    def project_state(self, project):
        data = dict(project)
        data["members"] = None if project["members"] is None else \
            {str(k): v for k, v in project["members"].items()}
        data["commits"] = list(project["commits"].values())
        data["merge_requests"] = list(project["merge_requests"].values())
        data["all_branches"] = self.m.branch_names(project)
        return data

    def state(self):
        m = self.m
        return {
            "settings": m.settings,
            "users": list(m.users.values()),
            "tokens": [{k: v for k, v in t.items() if k != "token"} for t in m.tokens.values()],
            "projects": [self.project_state(p) for p in m.projects.values()],
            "pipelines": m.pipelines,
            "statuses": m.statuses,
            "notes": m.notes,
            "quick_actions": m.quick_actions,
            "environments": m.environments,
            "deployments": m.deployments,
            "hooks": m.hooks,  # includes the secret token, for the tests
            "hook_events": [dict(event_json(e), hook_id=e["hook_id"]) for e in m.hook_events],
            "resends": m.resends,
            "faults": [fault_json(f) for f in m.faults],
            "requests_recorded": len(m.requests),
            "requests_dropped": m.requests_dropped,
        }


def fault_json(fault):
    return dict(fault, match=fault["match"].pattern)


# ------------------------------------------------------------ HTTP layer ----

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive threads must not delay exit
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, mock, control, api, tls_context, max_body):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.mock = mock
        self.control = control
        self.api = api
        self.tls_context = tls_context
        self.max_body = max_body
        self.conn_counter = 0
        self.conn_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls_context is not None:
            # The handshake happens in the handler thread (setup), so a
            # silent client cannot stall the accept loop.
            sock = self.tls_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            log("connection from %s:%s ended: %s" % (client_address[0], client_address[1], exc))
        else:
            log("error serving %s:%s:\n%s" % (client_address[0], client_address[1],
                                               traceback.format_exc()))


def log(message):
    sys.stderr.write("mock-gitlab: %s\n" % message)
    sys.stderr.flush()


class BodyTooLarge(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer has Content-Length
    # Headers and body go out as two writes; with Nagle on, the second
    # waits for the client's delayed ACK (40 ms) on a keep-alive connection.
    disable_nagle_algorithm = True
    server_version = "nginx"
    timeout = IDLE_TIMEOUT

    # -- connection ------------------------------------------------------------

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()
        with self.server.conn_lock:
            self.server.conn_counter += 1
            self.conn_id = self.server.conn_counter
        self.conn_requests = 0

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        log("%s %s" % (self.address_string(), fmt % args))

    def log_request(self, code="-", size="-"):
        pass  # one line per request is written by handle_any

    def handle_expect_100(self):
        """Refuse an oversized body before the client sends it."""
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.server.max_body:
            self.conn_requests += 1
            raw_path = self.path.partition("?")[0]
            if raw_path != "/_mock" and not raw_path.startswith("/_mock/"):
                started = time.time()
                record = self.new_record(started, raw_path, self.path.partition("?")[2])
                self.finish_record(record, 413, started, note="refused before the body (Expect)")
            self.close_connection = True
            self.send_json(413, {"message": "413 Request Entity Too Large"}, close=True)
            return False
        return super().handle_expect_100()

    # -- request ---------------------------------------------------------------

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def read_body(self):
        """The request body, at most max_body bytes (else BodyTooLarge after
        draining what can be drained, so the connection stays usable)."""
        limit = self.server.max_body
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            too_large = False
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("client closed mid-body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunk = self.rfile.read(size)
                self.rfile.readline(1024)
                if len(data) + len(chunk) > limit:
                    too_large = True
                    if len(data) > DRAIN_LIMIT:
                        self.close_connection = True
                        break
                else:
                    data += chunk
            if too_large:
                raise BodyTooLarge()
            return bytes(data)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise ValueError("bad Content-Length")
        length = int(length)
        if length > limit:
            if length <= DRAIN_LIMIT:
                remaining = length
                while remaining > 0:
                    got = self.rfile.read(min(remaining, 65536))
                    if not got:
                        break
                    remaining -= len(got)
            else:
                self.close_connection = True
            raise BodyTooLarge()
        data = self.rfile.read(length)
        if len(data) != length:
            raise ConnectionError("client closed mid-body")
        return data

    def parse_params(self, body, query):
        """Grape merges query and body parameters (JSON, form or multipart);
        "key[]" collects arrays.  Returns (params, parsed body for records)."""
        params = form_params(query)
        if not body:
            return params, None
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "json" in ctype:
            try:
                parsed = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as err:
                raise param_error("The request body is not valid JSON: %s" % err)
            if isinstance(parsed, dict):
                params.update(parsed)
            return params, parsed
        if ctype.startswith("multipart/form-data"):
            form = {}
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name:
                    form[name] = part.get_content() if part.get_content_maintype() == "text" \
                        else part.get_payload(decode=True).decode("utf-8", "replace")
            params.update(form)
            return params, form
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise param_error("The request body is not valid UTF-8")
        form = form_params(text)
        params.update(form)
        return params, form

    def handle_any(self):
        started = time.time()
        self.conn_requests += 1
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form target
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        raw_path, _, query = target.partition("?")
        server = self.server
        is_control = raw_path == "/_mock" or raw_path.startswith("/_mock/")
        record = None if is_control else self.new_record(started, raw_path, query)

        try:
            body = self.read_body()
        except BodyTooLarge:
            self.finish_record(record, 413, started, note="body over %d bytes" % server.max_body)
            self.send_json(413, {"message": "413 Request Entity Too Large"})
            return
        except (ValueError, ConnectionError) as err:
            self.close_connection = True
            self.finish_record(record, 400, started, note=str(err))
            self.send_json(400, {"message": "400 Bad request"}, close=True)
            return
        if record is not None:
            self.describe_body(record, body)

        if is_control:
            self.handle_control(raw_path, query, body)
            return

        fault = self.take_fault(raw_path)
        if fault is not None:
            record["fault"] = {"id": fault["id"], "action": fault["action"]}
            if fault["delay"] > 0:
                time.sleep(fault["delay"])
            if fault["action"] in ("close", "reset"):
                self.finish_record(record, None, started)
                self.drop_connection(reset=fault["action"] == "reset")
                return
            if fault["action"] in ("respond", "truncate"):
                self.finish_record(record, fault["status"], started)
                self.send_fault(fault)
                return
        status, payload, headers = self.run_api(raw_path, query, body, record)
        if fault is not None and fault["action"] == "drop_response":
            # Processed (state changed), but the answer never arrives.
            self.finish_record(record, None, started, note="answer %d dropped" % status)
            self.drop_connection(reset=False)
            return
        self.finish_record(record, status, started)
        if isinstance(payload, str):
            self.send_bytes(status, payload.encode(), "text/plain; charset=utf-8", headers)
        else:
            self.send_json(status, payload, headers=headers)

    def run_api(self, raw_path, query, body, record):
        """Route an API request; returns (status, body, headers)."""
        mock, api = self.server.mock, self.server.api
        prefix = mock.prefix + "/api/v4/"
        try:
            if not raw_path.startswith(prefix):
                raise ApiError(404, {"error": "404 Not Found"})
            segments = [urllib.parse.unquote(s, errors="replace")
                        for s in raw_path[len(prefix):].split("/")]
            params, _ = self.parse_params(body, query)
            scheme = "https" if self.server.tls_context is not None else "http"
            host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
            ctx = Ctx(self.command, raw_path, query, self.headers, params, scheme, host)
            if record is not None:
                record["auth"] = {"scheme": ctx.auth_scheme}
            try:
                result = api.dispatch(ctx, segments)
            finally:
                if record is not None and ctx.token is not None:
                    record["auth"].update(token_id=ctx.token["id"], user_id=ctx.user["id"])
            status, payload = result[0], result[1]
            headers = result[2] if len(result) > 2 else {}
        except ApiError as err:
            status, payload, headers = err.status, err.body, err.headers
        except Exception:  # noqa: BLE001 -- a mock bug must not kill the server
            log("internal error on %s %s:\n%s" % (self.command, raw_path, traceback.format_exc()))
            status, payload, headers = 500, {"message": "500 Internal Server Error"}, {}
        return status, payload, headers

    def handle_control(self, raw_path, query, body):
        segments = [urllib.parse.unquote(s) for s in raw_path[len("/_mock/"):].split("/") if s]
        try:
            params = json.loads(body.decode("utf-8")) if body.strip() else {}
            status, payload = self.server.control.dispatch(self.command, segments, params, query)
        except ApiError as err:
            status, payload = err.status, err.body
        except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as err:
            # Wrongly typed control input is the test's mistake: say so.
            status, payload = 400, {"error": "bad control request: %s: %s"
                                    % (type(err).__name__, err)}
        except Exception:  # noqa: BLE001
            log("control error:\n%s" % traceback.format_exc())
            status, payload = 500, {"error": "internal error"}
        self.send_json(status, payload)

    # -- faults ----------------------------------------------------------------

    def take_fault(self, raw_path):
        """The first queued fault matching "METHOD /raw/path", used up."""
        mock = self.server.mock
        subject = "%s %s" % (self.command, raw_path)
        with mock.lock:
            for fault in mock.faults:
                if fault["match"].search(subject):
                    fault["used"] += 1
                    if fault["count"] > 0:
                        fault["count"] -= 1
                        if fault["count"] == 0:
                            mock.faults.remove(fault)
                    return dict(fault)
        return None

    def send_fault(self, fault):
        status, body = fault["status"], fault["body"]
        ctype = fault["content_type"]
        if fault["body_bytes"]:
            payload = None
            length = int(fault["body_bytes"])
            ctype = ctype or "application/json"
        elif body is None:
            if status == 429:  # facts §3.8: plain text "Retry later"
                payload, ctype = b"Retry later\n", ctype or "text/plain"
            else:
                payload = json.dumps({"message": "%d %s" % (status, self.responses.get(
                    status, ("Error",))[0])}).encode()
                ctype = ctype or "application/json"
        elif isinstance(body, str):
            payload, ctype = body.encode(), ctype or "text/plain; charset=utf-8"
        else:
            payload, ctype = json.dumps(body).encode(), ctype or "application/json"
        if payload is not None:
            length = len(payload)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        for key, value in fault["headers"].items():
            self.send_header(key, value)
        if fault["action"] == "truncate":
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault["action"] == "truncate":
            self.wfile.write((payload or b"x" * length)[:max(1, length // 2)])
            self.wfile.flush()
            self.drop_connection(reset=False)
            return
        if payload is not None:
            self.wfile.write(payload)
        else:
            block = b"x" * 65536
            remaining = length
            while remaining > 0:
                self.wfile.write(block[:min(remaining, len(block))])
                remaining -= len(block)

    def drop_connection(self, reset):
        """Close without an answer: FIN, or RST with reset."""
        self.close_connection = True
        try:
            if reset:
                # Linger 0 + close = RST.  Close now: socketserver would
                # shutdown(SHUT_WR) first (a FIN), and the fd stays open
                # while rfile (a makefile() object) exists.  wfile is a
                # plain _SocketWriter and must stay open for the caller's flush.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.rfile.close()
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- answers ---------------------------------------------------------------

    def send_json(self, status, payload, headers=None, close=False):
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_bytes(status, body, "application/json", headers, close)

    def send_bytes(self, status, body, ctype, headers=None, close=False):
        self.send_response(status)
        if status not in (204, 304):
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close or self.close_connection:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    # -- records ---------------------------------------------------------------

    def new_record(self, started, raw_path, query):
        headers = {}
        for key, value in self.headers.items():
            headers[key] = REDACTED if key.lower() in SECRET_HEADERS else value
        return {
            "seq": None, "time": started,
            "time_iso": datetime.datetime.fromtimestamp(started, datetime.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.command, "path": raw_path, "query_string": urllib.parse.urlencode(
                redact_query(query)), "query": dict(redact_query(query)), "headers": headers,
            "http_version": self.request_version, "tls": self.server.tls_context is not None,
            "connection": self.conn_id, "connection_request": self.conn_requests,
            "client": "%s:%s" % self.client_address[:2], "auth": {"scheme": None},
            "body": None, "body_bytes": 0, "fault": None, "status": None,
        }

    def describe_body(self, record, body):
        record["body_bytes"] = len(body)
        if not body:
            return
        try:
            _, parsed = self.parse_params(body, "")
            record["body"] = parsed
        except ApiError:
            record["body_text"] = body[:RECORD_TEXT_LIMIT].decode("utf-8", "replace")

    def finish_record(self, record, status, started, note=None):
        mock = self.server.mock
        if record is None:
            if not mock.quiet:
                log('%s "%s %s" %s' % (self.address_string(), self.command,
                                        self.path.split("?")[0], status))
            return
        record["status"] = status
        record["duration_ms"] = round((time.time() - started) * 1000, 1)
        if note:
            record["note"] = note
        with mock.lock:
            mock.request_seq += 1
            record["seq"] = mock.request_seq
            mock.requests.append(record)
            if len(mock.requests) > REQUEST_LOG_LIMIT:
                del mock.requests[0]
                mock.requests_dropped += 1
        if mock.record_file:
            line = json.dumps(record) + "\n"
            with mock.record_lock:
                with open(mock.record_file, "a", encoding="utf-8") as out:
                    out.write(line)
        if not mock.quiet:
            log('%s "%s %s" %s%s' % (self.address_string(), self.command, record["path"],
                                      status if status is not None else "no answer",
                                      " (fault %d)" % record["fault"]["id"] if record["fault"] else ""))


# ------------------------------------------------------------------- main ----

def main(argv=None):
    parser = argparse.ArgumentParser(description="Mock GitLab REST API for stackhook's tests.")
    parser.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--prefix", default="", help="serve under a sub-path, e.g. /gitlab")
    parser.add_argument("--record", metavar="FILE", help="append each request as a JSON line")
    parser.add_argument("--tls-cert", metavar="C", help="PEM certificate (enables HTTPS)")
    parser.add_argument("--tls-key", metavar="K", help="PEM private key")
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN",
                        help="accepted token (repeatable); default %s" % DEFAULT_TOKEN)
    parser.add_argument("--seed", metavar="FILE", help="JSON seed: users, tokens, projects, settings")
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY,
                        help="request body cap in bytes (413 beyond)")
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    args = parser.parse_args(argv)

    prefix = args.prefix.rstrip("/")
    if prefix and not prefix.startswith("/"):
        parser.error("--prefix must start with /")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    try:
        seed = None
        if args.seed:
            with open(args.seed, encoding="utf-8") as fh:
                seed = json.load(fh)
        tls_context = None
        if args.tls_cert:
            tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls_context.load_cert_chain(args.tls_cert, args.tls_key)
        mock = Mock(args.token, seed=seed, prefix=prefix, record_file=args.record, quiet=args.quiet)
    except (OSError, ValueError, ssl.SSLError, ApiError) as err:
        detail = err.body if isinstance(err, ApiError) else err
        log("cannot start: %s" % detail)
        return 1
    api = Api(mock)
    control = Control(mock, api)
    try:
        server = Server((args.bind, args.port), Handler, mock, control, api, tls_context,
                        args.max_body)
    except OSError as err:
        log("cannot listen on %s:%d: %s" % (args.bind, args.port, err.strerror or err))
        return 1

    def stop(signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    log("listening on %s:%d%s%s" % (args.bind, port, prefix, " (TLS)" if tls_context else ""))
    sys.stdout.write("ready %d\n" % port)
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
        log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
