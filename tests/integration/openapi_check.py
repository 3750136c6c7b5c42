#!/usr/bin/env python3
"""Checks docs/openapi.yaml, and the responder's answers against it.

Used by tests/integration/openapi.sh; standard library, python3-yaml and
python3-jsonschema only (Debian 12 has no OpenAPI validator package: when one
is importable, `lint` uses it too).

  openapi_check.py lint SPEC ROUTES_C ERR_C
      the document itself: OpenAPI 3.0 structure, every $ref resolves, every
      schema is a valid JSON Schema once converted, path parameters declared,
      each route of fcgi/routes.c documented (and nothing else), the error
      code enum equal to core/err.c's codes.
  openapi_check.py not-allowed SPEC
      one "METHOD PATH ALLOW" line per documented path: a method the path
      does not take (with sample path parameters) and the Allow it must get.
  openapi_check.py exchanges SPEC DIR
      validates every exchange recorded in DIR (see openapi.sh: NNN.meta,
      NNN.head, NNN.body, NNN.req) against the document, then checks that
      every operation was exercised with a success answer.

Output: one line per test point, "PASS <desc>" or "FAIL <desc>", a failure
followed by "# " diagnostic lines.  Exit status 0 (the caller counts).

OpenAPI 3.0 schemas are turned into JSON Schema (draft 4) as follows: $ref
is resolved inline; `nullable: true` adds "null" to `type` (and None to an
`enum`), and is only valid next to `type` (OpenAPI 3.0.3's clarification:
it has no effect elsewhere, e.g. beside a bare allOf); OpenAPI-only keywords
are dropped.  Answers are validated strictly: an object schema that lists
its properties and says nothing of additionalProperties gets
`additionalProperties: false` (after allOf parts that are objects are merged
into one), so an undocumented field in an answer fails.
"""

import copy
import json
import os
import re
import sys
import urllib.parse

import jsonschema
import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OPENAPI_ONLY = ("nullable", "discriminator", "readOnly", "writeOnly", "xml",
                "externalDocs", "example", "deprecated")

# ------------------------------------------------------------------ output


class Report:
    def __init__(self):
        self.failed = 0

    def point(self, ok, desc, diags=()):
        print(("PASS " if ok else "FAIL ") + desc.replace("\n", " "))
        if not ok:
            self.failed += 1
            for d in diags:
                for line in str(d).splitlines() or [""]:
                    print("# " + line)
        sys.stdout.flush()


# ------------------------------------------------------------------ the document


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def resolve_ref(doc, ref):
    if not ref.startswith("#/"):
        raise KeyError("only local references are used: %s" % ref)
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def deref(doc, node):
    """A Parameter/Response/RequestBody object with its $ref followed."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        if node["$ref"] in seen:
            raise KeyError("reference loop at %s" % node["$ref"])
        seen.add(node["$ref"])
        node = resolve_ref(doc, node["$ref"])
    return node


def walk(node, path=()):
    """Yields (path, dict) for every mapping in the document."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, path + (str(k),))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (str(i),))


# ------------------------------------------------------------------ schemas


class Converter:
    """OpenAPI 3.0 Schema Objects to JSON Schema draft 4 (see the module doc)."""

    def __init__(self, doc, strict):
        self.doc = doc
        self.strict = strict
        self.cache = {}
        self.stack = []

    def convert(self, s):
        if not isinstance(s, dict):
            return s
        if "$ref" in s:
            ref = s["$ref"]
            if ref in self.cache:
                return copy.deepcopy(self.cache[ref])
            if ref in self.stack:
                raise ValueError("recursive schema %s is not supported" % ref)
            self.stack.append(ref)
            out = self.convert(resolve_ref(self.doc, ref))
            self.stack.pop()
            self.cache[ref] = out
            return copy.deepcopy(out)
        out = {}
        for k, v in s.items():
            if k in OPENAPI_ONLY:
                continue
            if k == "properties":
                out[k] = {name: self.convert(p) for name, p in v.items()}
            elif k in ("items", "not") or (k == "additionalProperties" and isinstance(v, dict)):
                out[k] = self.convert(v)
            elif k in ("allOf", "anyOf", "oneOf"):
                out[k] = [self.convert(p) for p in v]
            else:
                out[k] = copy.deepcopy(v)
        if self.strict and "allOf" in out:
            out = self.merge_objects(out)
        if self.strict and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        if s.get("nullable") is True and "type" in out:
            t = out["type"]
            out["type"] = (t if isinstance(t, list) else [t]) + ["null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = out["enum"] + [None]
        return out

    @staticmethod
    def merge_objects(s):
        """allOf of object schemas -> one object schema, so that strictness
        (additionalProperties: false) sees every property of every part."""
        parts = s["allOf"]
        if not all(isinstance(p, dict) and (p.get("type") == "object" or "properties" in p)
                   and not set(p) - {"type", "properties", "required", "description",
                                     "additionalProperties", "title"}
                   for p in parts):
            return s
        merged = {k: v for k, v in s.items() if k != "allOf"}
        merged["type"] = "object"
        props, required = {}, []
        for p in parts:
            for name, ps in p.get("properties", {}).items():
                props[name] = {"allOf": [props[name], ps]} if name in props else ps
            for r in p.get("required", []):
                if r not in required:
                    required.append(r)
        for name, ps in merged.get("properties", {}).items():
            props[name] = {"allOf": [props[name], ps]} if name in props else ps
        merged["properties"] = props
        if required or "required" in merged:
            merged["required"] = required + [r for r in merged.get("required", [])
                                             if r not in required]
        return merged


DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
FORMATS = jsonschema.FormatChecker(())


@FORMATS.checks("date-time")
def _is_date_time(value):
    return not isinstance(value, str) or bool(DATE_TIME.match(value))


def validator(schema):
    return jsonschema.Draft4Validator(schema, format_checker=FORMATS)


def errors_of(schema, instance, limit=5):
    errs = sorted(validator(schema).iter_errors(instance), key=lambda e: list(e.path))
    out = []
    for e in errs[:limit]:
        where = "/".join(str(p) for p in e.absolute_path) or "(the whole value)"
        out.append("%s: %s" % (where, shorten(e.message)))
    return out


def shorten(text, n=300):
    text = str(text)
    return text if len(text) <= n else text[:n] + "…"


# ------------------------------------------------------------------ routes.c and err.c


def routes_of(routes_c):
    """(METHOD, pattern) of the route table's RAW and CALL entries, "{}"
    segments as they are.  Its PAGE entries, the web pages (SPEC §4.4), are
    HTML for people, outside this contract."""
    text = open(routes_c, encoding="utf-8").read()
    table = text[text.index("sh_routes[]"):]
    table = table[:table.index("};")]
    table = re.sub(r"/\*.*?\*/", "", table, flags=re.S)
    return sorted(set(re.findall(r'(?:RAW|CALL)\(\s*"([A-Z]+)"\s*,\s*"([^"]+)"', table)))


def error_codes_of(err_c):
    text = open(err_c, encoding="utf-8").read()
    return sorted(set(re.findall(r'\[SH_[A-Z_]+\]\s*=\s*\{\s*"([a-z_]+)"', text)) - {"ok"})


def template_of(path):
    return re.sub(r"\{[^}/]+\}", "{}", path)


# ------------------------------------------------------------------ lint

# The fields each OpenAPI 3.0.3 object may have (besides x- extensions).
FIELDS = {
    "operation": {"tags", "summary", "description", "externalDocs", "operationId",
                  "parameters", "requestBody", "responses", "callbacks", "deprecated",
                  "security", "servers"},
    "parameter": {"name", "in", "description", "required", "deprecated", "allowEmptyValue",
                  "style", "explode", "allowReserved", "schema", "content", "example",
                  "examples"},
    "header": {"description", "required", "deprecated", "allowEmptyValue", "style",
               "explode", "allowReserved", "schema", "content", "example", "examples"},
    "requestBody": {"description", "content", "required"},
    "response": {"description", "headers", "content", "links"},
    "mediaType": {"schema", "example", "examples", "encoding"},
    "schema": {"title", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
               "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems",
               "minItems", "uniqueItems", "maxProperties", "minProperties", "required",
               "enum", "type", "not", "allOf", "oneOf", "anyOf", "items", "properties",
               "additionalProperties", "description", "format", "default", "nullable",
               "discriminator", "readOnly", "writeOnly", "example", "externalDocs",
               "deprecated", "xml"},
    "securityScheme": {"type", "description", "name", "in", "scheme", "bearerFormat",
                       "flows", "openIdConnectUrl"},
}
SCHEMA_TYPES = {"array", "boolean", "integer", "number", "object", "string"}


def object_fields(doc):
    """Problems: fields an OpenAPI 3.0 object does not have, malformed schemas."""
    problems = []

    def fields(kind, node, where):
        if not isinstance(node, dict):
            problems.append("%s: a %s must be a mapping" % (where, kind))
            return False
        if "$ref" in node:
            return False
        extra = sorted(k for k in node if k not in FIELDS[kind] and not str(k).startswith("x-"))
        if extra:
            problems.append("%s: %s is not a field of a %s" % (where, ", ".join(extra), kind))
        return True

    def schema(node, where):
        if not fields("schema", node, where):
            return
        if "type" in node and node["type"] not in SCHEMA_TYPES:
            problems.append("%s: type %r" % (where, node["type"]))
        if "required" in node and (not isinstance(node["required"], list) or not node["required"]):
            problems.append("%s: required must be a non-empty list" % where)
        if "items" in node:
            schema(node["items"], where + "/items")
        if node.get("type") == "array" and "items" not in node:
            problems.append("%s: an array schema needs items" % where)
        for k in ("allOf", "anyOf", "oneOf"):
            for i, sub in enumerate(node.get(k, [])):
                schema(sub, "%s/%s/%d" % (where, k, i))
        if "not" in node:
            schema(node["not"], where + "/not")
        for name, sub in (node.get("properties") or {}).items():
            schema(sub, "%s/properties/%s" % (where, name))
        if isinstance(node.get("additionalProperties"), dict):
            schema(node["additionalProperties"], where + "/additionalProperties")

    def content(node, where):
        for media, mt in (node or {}).items():
            if fields("mediaType", mt, "%s/%s" % (where, media)) and "schema" in mt:
                schema(mt["schema"], "%s/%s/schema" % (where, media))

    def parameter(node, where, kind="parameter"):
        if fields(kind, node, where):
            if "schema" in node:
                schema(node["schema"], where + "/schema")
            content(node.get("content"), where + "/content")

    def response(node, where):
        if fields("response", node, where):
            for name, h in (node.get("headers") or {}).items():
                parameter(h, "%s/headers/%s" % (where, name), "header")
            content(node.get("content"), where + "/content")

    for p, item in doc.get("paths", {}).items():
        for i, x in enumerate(item.get("parameters", [])):
            parameter(x, "%s/parameters/%d" % (p, i))
        for m in HTTP_METHODS:
            op = item.get(m)
            if op is None:
                continue
            where = "%s %s" % (m.upper(), p)
            fields("operation", op, where)
            for i, x in enumerate(op.get("parameters", [])):
                parameter(x, "%s/parameters/%d" % (where, i))
            if "requestBody" in op and fields("requestBody", op["requestBody"], where + "/requestBody"):
                content(op["requestBody"].get("content"), where + "/requestBody/content")
            for code, resp in (op.get("responses") or {}).items():
                response(resp, "%s/responses/%s" % (where, code))
    comp = doc.get("components") or {}
    for name, x in (comp.get("schemas") or {}).items():
        schema(x, "components/schemas/" + name)
    for name, x in (comp.get("parameters") or {}).items():
        parameter(x, "components/parameters/" + name)
    for name, x in (comp.get("headers") or {}).items():
        parameter(x, "components/headers/" + name, "header")
    for name, x in (comp.get("responses") or {}).items():
        response(x, "components/responses/" + name)
    for name, x in (comp.get("requestBodies") or {}).items():
        if fields("requestBody", x, "components/requestBodies/" + name):
            content(x.get("content"), "components/requestBodies/%s/content" % name)
    for name, x in (comp.get("securitySchemes") or {}).items():
        if fields("securityScheme", x, "components/securitySchemes/" + name):
            if x.get("type") not in ("apiKey", "http", "oauth2", "openIdConnect"):
                problems.append("components/securitySchemes/%s: type %r" % (name, x.get("type")))
    for name in comp:
        if name not in ("schemas", "responses", "parameters", "examples", "requestBodies",
                        "headers", "securitySchemes", "links", "callbacks") \
                and not str(name).startswith("x-"):
            problems.append("components/%s is not a kind of component" % name)
    return problems



def lint(spec_path, routes_c, err_c):
    r = Report()
    try:
        doc = load(spec_path)
    except (OSError, yaml.YAMLError) as e:
        r.point(False, "docs/openapi.yaml is YAML", [e])
        return r
    r.point(isinstance(doc, dict), "docs/openapi.yaml is YAML (a mapping)")
    if not isinstance(doc, dict):
        return r

    # An OpenAPI validator, when the system has one (Debian 12 does not).
    try:
        from openapi_spec_validator import validate_spec  # type: ignore
    except ImportError:
        validate_spec = None
    if validate_spec is not None:
        try:
            validate_spec(copy.deepcopy(doc))
            r.point(True, "openapi-spec-validator accepts the document")
        except Exception as e:  # noqa: BLE001 - any refusal is the finding
            r.point(False, "openapi-spec-validator accepts the document", [shorten(e, 2000)])

    problems = []
    if not re.match(r"^3\.0\.\d+$", str(doc.get("openapi", ""))):
        problems.append("openapi must be 3.0.x, is %r" % doc.get("openapi"))
    info = doc.get("info") or {}
    for k in ("title", "version"):
        if not isinstance(info.get(k), str) or not info.get(k):
            problems.append("info.%s must be a non-empty string" % k)
    if not isinstance(doc.get("paths"), dict) or not doc["paths"]:
        problems.append("paths must be a non-empty mapping")
    allowed_top = {"openapi", "info", "servers", "paths", "components", "security",
                   "tags", "externalDocs"}
    for k in doc:
        if k not in allowed_top and not str(k).startswith("x-"):
            problems.append("unknown top-level field %r" % k)
    r.point(not problems, "the document has OpenAPI 3.0's top-level structure", problems)
    if problems:
        return r

    problems = object_fields(doc)
    r.point(not problems, "every OpenAPI object uses only its own fields "
            "(operations, parameters, bodies, responses, headers, schemas)", problems)

    # Every $ref resolves; no sibling keywords beside $ref (3.0 ignores them).
    problems = []
    for path, node in walk(doc):
        if "$ref" in node:
            try:
                resolve_ref(doc, node["$ref"])
            except (KeyError, TypeError) as e:
                problems.append("%s: $ref %s does not resolve (%s)" % ("/".join(path), node["$ref"], e))
            extra = set(node) - {"$ref"}
            if extra:
                problems.append("%s: %s beside $ref would be ignored (wrap it in allOf)"
                                % ("/".join(path), sorted(extra)))
    r.point(not problems, "every $ref resolves and stands alone", problems)

    # Operations: ids, responses, parameters, security, tags.
    problems = []
    op_ids = {}
    tags = {t.get("name") for t in doc.get("tags", []) if isinstance(t, dict)}
    schemes = set((doc.get("components") or {}).get("securitySchemes", {}) or {})
    for req in doc.get("security", []):
        problems += ["global security names unknown scheme %s" % k for k in req if k not in schemes]
    for p, item in doc["paths"].items():
        if not p.startswith("/"):
            problems.append("path %s must start with /" % p)
        names_in_path = re.findall(r"\{([^}/]+)\}", p)
        path_params = [deref(doc, x) for x in item.get("parameters", [])]
        for m in item:
            if m not in HTTP_METHODS and m not in ("parameters", "summary", "description",
                                                   "servers") and not m.startswith("x-"):
                problems.append("%s: unknown field %r in the path item" % (p, m))
        for m in HTTP_METHODS:
            op = item.get(m)
            if op is None:
                continue
            where = "%s %s" % (m.upper(), p)
            oid = op.get("operationId")
            if not oid:
                problems.append("%s has no operationId" % where)
            elif oid in op_ids:
                problems.append("%s: operationId %s is also %s's" % (where, oid, op_ids[oid]))
            else:
                op_ids[oid] = where
            for t in op.get("tags", []):
                if t not in tags:
                    problems.append("%s: tag %s is not declared" % (where, t))
            for req in op.get("security", []):
                problems += ["%s names unknown scheme %s" % (where, k) for k in req if k not in schemes]
            params = {(x.get("in"), x.get("name")): x for x in path_params}
            for x in op.get("parameters", []):
                x = deref(doc, x)
                params[(x.get("in"), x.get("name"))] = x
            for (loc, name), x in params.items():
                if loc not in ("path", "query", "header", "cookie"):
                    problems.append("%s: parameter %s is in %r" % (where, name, loc))
                if "schema" not in x and "content" not in x:
                    problems.append("%s: parameter %s has no schema" % (where, name))
                if loc == "path" and name not in names_in_path:
                    problems.append("%s: path parameter %s is not in the path" % (where, name))
                if loc == "path" and x.get("required") is not True:
                    problems.append("%s: path parameter %s must be required" % (where, name))
            for name in names_in_path:
                if ("path", name) not in params:
                    problems.append("%s: {%s} is not declared as a parameter" % (where, name))
            responses = op.get("responses")
            if not isinstance(responses, dict) or not responses:
                problems.append("%s has no responses" % where)
                continue
            for code, resp in responses.items():
                if not (code == "default" or re.match(r"^[1-5]([0-9]{2}|XX)$", str(code))):
                    problems.append("%s: response key %r is not a status" % (where, code))
                resp = deref(doc, resp)
                if not isinstance(resp.get("description"), str):
                    problems.append("%s %s: a response needs a description" % (where, code))
            if "requestBody" in op and "content" not in deref(doc, op["requestBody"]):
                problems.append("%s: requestBody without content" % where)
    r.point(not problems, "operations: unique operationIds, declared path parameters, "
            "tags and security schemes, described responses (%d operations)" % len(op_ids),
            problems)

    # Every schema is a valid JSON Schema once converted; nullable beside type.
    problems = []
    for path, node in walk(doc):
        if node.get("nullable") is True and "type" not in node and "$ref" not in node:
            problems.append("%s: nullable without type has no effect in OpenAPI 3.0"
                            % "/".join(path))
        if "type" in node and isinstance(node["type"], list):
            problems.append("%s: type must be one name in OpenAPI 3.0 (use nullable)"
                            % "/".join(path))
    schemas = dict((doc.get("components") or {}).get("schemas", {}))
    for strict in (False, True):
        conv = Converter(doc, strict)
        for name in schemas:
            try:
                js = conv.convert({"$ref": "#/components/schemas/" + name})
                jsonschema.Draft4Validator.check_schema(js)
                for _, sub in walk(js):
                    if "pattern" in sub and isinstance(sub["pattern"], str):
                        re.compile(sub["pattern"])
            except (ValueError, KeyError, re.error,
                    jsonschema.exceptions.SchemaError) as e:
                problems.append("schema %s: %s" % (name, shorten(e)))
    r.point(not problems, "every schema is valid JSON Schema once converted (%d schemas); "
            "nullable only beside type" % len(schemas), sorted(set(problems)))

    # Request bodies of the admin API refuse unknown fields.
    problems = []
    for p, item in doc["paths"].items():
        for m in HTTP_METHODS:
            op = item.get(m)
            if not op or "requestBody" not in op or not p.startswith("/api/"):
                continue
            body = deref(doc, op["requestBody"])
            schema = deref(doc, body.get("content", {}).get("application/json", {}).get("schema", {}))
            if schema.get("additionalProperties") is not False:
                problems.append("%s %s: the body schema must say additionalProperties: false"
                                % (m.upper(), p))
            for code in ("400", "413"):
                if code not in op["responses"]:
                    problems.append("%s %s: a body route answers %s" % (m.upper(), p, code))
    r.point(not problems, "admin API request bodies refuse unknown fields and document 400 and 413",
            problems)

    # Authentication: every /api/ operation needs bearerAuth and documents 401.
    problems = []
    for p, item in doc["paths"].items():
        for m in HTTP_METHODS:
            op = item.get(m)
            if not op:
                continue
            sec = op.get("security", doc.get("security", []))
            if p.startswith("/api/"):
                if not any("bearerAuth" in s for s in sec):
                    problems.append("%s %s must use bearerAuth" % (m.upper(), p))
                resp = deref(doc, op["responses"].get("401", {}))
                if "WWW-Authenticate" not in (resp.get("headers") or {}):
                    problems.append("%s %s: 401 with WWW-Authenticate" % (m.upper(), p))
            elif sec:
                problems.append("%s %s takes no authentication: security: []" % (m.upper(), p))
    r.point(not problems, "every /api/v1 operation uses bearerAuth and documents 401 "
            "with WWW-Authenticate; the others need none", problems)

    # The route table and the document agree.
    routes = routes_of(routes_c)
    documented = sorted((m.upper(), template_of(p)) for p, item in doc["paths"].items()
                        for m in HTTP_METHODS if m in item)
    missing = [" ".join(x) for x in routes if x not in documented]
    extra = [" ".join(x) for x in documented if x not in routes]
    r.point(bool(routes) and not missing,
            "every route of fcgi/routes.c is documented (%d routes)" % len(routes),
            ["not in docs/openapi.yaml: " + x for x in missing] or ["no route found in " + routes_c])
    r.point(not extra, "every documented operation is a route of fcgi/routes.c",
            ["not served: " + x for x in extra])

    # The error codes.
    codes = error_codes_of(err_c)
    enum = (schemas.get("ErrorCode") or {}).get("enum", [])
    r.point(bool(codes) and sorted(enum) == codes,
            "the ErrorCode enum is core/err.c's codes (%d)" % len(codes),
            ["only in core/err.c: %s" % sorted(set(codes) - set(enum)),
             "only in the document: %s" % sorted(set(enum) - set(codes))])
    return r


# ------------------------------------------------------------------ answers


class Spec:
    def __init__(self, path):
        self.doc = load(path)
        self.strict = Converter(self.doc, True)
        self.loose = Converter(self.doc, False)
        self.paths = []
        for p in self.doc["paths"]:
            rx = "^" + re.sub(r"\\\{([^}/]+)\\\}", r"(?P<\1>[^/]+)", re.escape(p)) + "/?$"
            self.paths.append((p, re.compile(rx)))

    def match(self, path):
        """(template, params) of the documented path, fewest parameters first."""
        found = []
        for p, rx in self.paths:
            m = rx.match(path)
            if m:
                found.append((len(m.groupdict()), p, {k: urllib.parse.unquote(v)
                                                      for k, v in m.groupdict().items()}))
        if not found:
            return None, {}
        found.sort()
        return found[0][1], found[0][2]

    def response_schema(self, resp, media):
        schema = ((resp.get("content") or {}).get(media) or {}).get("schema")
        return None if schema is None else self.strict.convert(schema)

    def params(self, template, method):
        item = self.doc["paths"][template]
        out = {}
        for x in item.get("parameters", []) + item[method].get("parameters", []):
            x = deref(self.doc, x)
            out[(x["in"], x["name"])] = x
        return out


def parse_headers(text):
    """The last response's headers (curl -D may hold several blocks)."""
    blocks = [b for b in re.split(r"\r?\n\r?\n", text) if b.strip()]
    status_line, headers = "", {}
    if blocks:
        lines = blocks[-1].splitlines()
        status_line = lines[0] if lines else ""
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers.setdefault(k.strip().lower(), []).append(v.strip())
    return status_line, headers


def param_value(schema, raw):
    """A query/path parameter's text as its schema's type sees it."""
    t = schema.get("type")
    if t == "integer" and re.match(r"^-?[0-9]+$", raw):
        return int(raw)
    return raw


def read_exchange(base):
    meta = open(base + ".meta", encoding="utf-8").read().split("\n")
    ex = {
        "desc": meta[0], "method": meta[1], "target": meta[2], "expect": meta[3],
        "status": meta[4], "req_flag": meta[5] if len(meta) > 5 else "",
    }
    ex["head"] = open(base + ".head", encoding="utf-8", errors="replace").read() \
        if os.path.exists(base + ".head") else ""
    ex["body"] = open(base + ".body", "rb").read() if os.path.exists(base + ".body") else b""
    ex["req"] = open(base + ".req", "rb").read() if os.path.exists(base + ".req") else None
    return ex


def check_exchange(spec, ex, exercised):
    """Diagnostics (empty when the exchange conforms)."""
    doc = spec.doc
    diags = []
    method = ex["method"].lower()
    url = urllib.parse.urlsplit(ex["target"])
    path, query = url.path, urllib.parse.parse_qsl(url.query, keep_blank_values=True)
    status = ex["status"]
    want_status, _, want_code = ex["expect"].partition(":")
    if status != want_status:
        diags.append("answered %s, the test expects %s" % (status, want_status))
    status_line, headers = parse_headers(ex["head"])
    ctype = (headers.get("content-type") or [""])[-1]
    body_text = ex["body"].decode("utf-8", errors="replace")
    body = None
    if ctype.startswith("application/json"):
        try:
            body = json.loads(ex["body"].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            diags.append("the body is not JSON: %s" % e)
    if want_code:
        got = body.get("error", {}).get("code") if isinstance(body, dict) and \
            isinstance(body.get("error"), dict) else None
        if got != want_code:
            diags.append("error code %r, the test expects %r" % (got, want_code))

    template, pparams = spec.match(path)
    if template is None:
        resp = deref(doc, doc["components"]["responses"]["NotFound"])
        what = "an undocumented path (404 not_found)"
        if status != "404":
            diags.append("%s is not a documented path but answered %s" % (path, status))
    elif method not in doc["paths"][template]:
        resp = deref(doc, doc["components"]["responses"]["MethodNotAllowed"])
        what = "another method on %s (405)" % template
        documented = sorted(m.upper() for m in doc["paths"][template] if m in HTTP_METHODS)
        allow = sorted(a.strip() for a in ",".join(headers.get("allow", [])).split(",") if a.strip())
        if status != "405":
            diags.append("%s %s is not documented but answered %s" % (ex["method"], template, status))
        elif allow != documented:
            diags.append("Allow: %s, the document has %s" % (", ".join(allow), ", ".join(documented)))
    else:
        op = doc["paths"][template][method]
        what = "%s %s" % (ex["method"], template)
        responses = op["responses"]
        if status not in responses:
            diags.append("%s answered %s, which the document does not list (it lists %s)"
                         % (what, status, ", ".join(sorted(k for k in responses if k != "default"))))
            resp = None
        else:
            resp = deref(doc, responses[status])
            if status.startswith("2"):
                exercised.add((method, template))
        # Parameters and the request body, against the document.
        params = spec.params(template, method)
        req_errors = []
        for (loc, name), x in params.items():
            if loc == "path" and name in pparams:
                req_errors += ["path parameter %s: %s" % (name, e)
                               for e in errors_of(spec.loose.convert(x["schema"]),
                                                  param_value(x["schema"], pparams[name]))]
        for name, value in query:
            x = params.get(("query", name))
            if x is None:
                req_errors.append("query parameter %s is not documented" % name)
            else:
                req_errors += ["query parameter %s: %s" % (name, e)
                               for e in errors_of(spec.loose.convert(x["schema"]),
                                                  param_value(x["schema"], value))]
        if ex["req"] is not None and "requestBody" in op:
            rb = deref(doc, op["requestBody"])
            schema = spec.loose.convert(rb["content"]["application/json"]["schema"])
            try:
                instance = json.loads(ex["req"].decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                req_errors.append("the request body is not JSON (%s)" % shorten(e, 80))
            else:
                req_errors += ["request body: " + e for e in errors_of(schema, instance)]
        elif ex["req"] is not None and ex["req"].strip():
            req_errors.append("a body was sent to an operation that documents none")
        flag = ex["req_flag"]
        if flag == "valid" or (flag == "" and status.startswith("2")):
            if req_errors:
                diags.append("the document refuses a request the responder %s:"
                             % ("accepted" if status.startswith("2") else "should accept"))
                diags += ["  " + e for e in req_errors]
        elif flag == "invalid" and not req_errors:
            diags.append("the document accepts a request the responder refuses (%s)" % status)

    if resp is not None:
        media = sorted((resp.get("content") or {}).keys())
        if media:
            if not any(ctype.startswith(m) for m in media):
                diags.append("Content-Type %r, the document says %s" % (ctype, ", ".join(media)))
            elif ctype.startswith("application/json") and body is not None:
                schema = spec.response_schema(resp, "application/json")
                errs = errors_of(schema, body)
                if errs:
                    diags.append("the answer does not match the schema of %s %s:" % (what, status))
                    diags += ["  " + e for e in errs]
        elif status.startswith("2") and ex["body"].strip():
            diags.append("%s documents no content, the answer has %d bytes"
                         % (status, len(ex["body"])))
        for name, h in (resp.get("headers") or {}).items():
            h = deref(doc, h)
            if h.get("required") and name.lower() not in headers:
                diags.append("header %s is missing" % name)
    if diags:
        diags += ["request: %s %s" % (ex["method"], ex["target"])]
        if ex["req"] is not None:
            diags.append("request body: " + shorten(ex["req"].decode("utf-8", "replace"), 300))
        diags += ["answer: %s" % status_line, "body: " + shorten(body_text, 600)]
    return diags


def exchanges(spec_path, directory):
    r = Report()
    spec = Spec(spec_path)
    exercised = set()
    names = sorted(n[:-5] for n in os.listdir(directory) if n.endswith(".meta"))
    for n in names:
        ex = read_exchange(os.path.join(directory, n))
        diags = check_exchange(spec, ex, exercised)
        r.point(not diags, "%s %s → %s: %s" % (ex["method"], ex["target"], ex["expect"], ex["desc"]),
                diags)
    every = sorted((m, p) for p, item in spec.doc["paths"].items()
                   for m in HTTP_METHODS if m in item)
    missing = ["%s %s" % (m.upper(), p) for m, p in every if (m, p) not in exercised]
    r.point(not missing, "every documented operation was exercised with a success answer "
            "(%d operations)" % len(every), ["never answered 2xx: " + x for x in missing])
    return r


def not_allowed(spec_path):
    doc = load(spec_path)
    for p, item in doc["paths"].items():
        methods = [m.upper() for m in HTTP_METHODS if m in item]
        other = next(m for m in ("PUT", "DELETE", "PATCH", "POST", "GET") if m not in methods)
        sample = re.sub(r"\{([^}/]+)\}", r"sample-\1", p)
        print("%s %s %s" % (other, sample, ",".join(methods)))


def main(argv):
    if len(argv) == 5 and argv[1] == "lint":
        lint(argv[2], argv[3], argv[4])
    elif len(argv) == 3 and argv[1] == "not-allowed":
        not_allowed(argv[2])
    elif len(argv) == 4 and argv[1] == "exchanges":
        exchanges(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
