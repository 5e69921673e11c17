"""Model-driven sweep: every operation of every JSON service the server lists in its health answer,
with inputs generated from the vendored botocore models (protocol/models/<service>/service-2.json):
a well-formed input, then each member in turn (breadth first, bounded per operation) replaced by
null, [null], {"k": null}, a wrong type, an oversize value, a huge number and invalid UTF-8.
Requests are signed with botocore's SigV4 signer and sent raw over one persistent connection, so
bodies that boto3 would refuse to produce reach the server.

Pass: the server stays up (health answers after each operation), no 5xx other than 501
NotImplementedException, and every answer is UTF-8 and JSON. Operations and services added later
are covered without edits. CPL_SWEEP_SKIP=null,utf8 sets a variant class aside (for looking at the
others while a fix is under way); CPL_SWEEP_OPS=Name,Name limits the sweep to those operations.

The awsQuery services (STS, IAM) get the same sweep in their own encoding: a form body built from
the model (lists as Name.member.N), then each parameter in turn dropped, emptied, oversized, of the
wrong type, badly %-escaped or not UTF-8, plus bodies without an Action, with an unknown one or a
wrong Version. Pass: no 5xx other than 501, and every answer is UTF-8 XML (errors an <ErrorResponse>
with awsQuery's code)."""
import http.client
import json
import os
import re
import sys
import time
import unittest

from harness import ACCESS_KEY, REGION, SECRET_KEY, ServerTestCase

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol", "models")
MAX_DEPTH = 10          # generated nesting
MAX_VARIANTS_PER_OP = 150 # variant requests per operation (paths breadth first)
BIG = 1 << 20           # the 1 MiB string


class Raw(bytes):
    """Bytes written into the body as they are (a number JSON cannot hold, invalid UTF-8)."""


def encode(v):
    """Serialises v as JSON bytes, writing Raw values verbatim."""
    if isinstance(v, Raw):
        return bytes(v)
    if isinstance(v, dict):
        return b"{" + b",".join(encode(k) + b":" + encode(x) for k, x in v.items()) + b"}"
    if isinstance(v, list):
        return b"[" + b",".join(encode(x) for x in v) + b"]"
    return json.dumps(v).encode()


# Values that satisfy many of the models' patterns and name the same few resources, so that the
# requests find what earlier ones created.
CANDIDATES = [
    "demo", "demo-pipeline", "main", "Source", "arn:aws:codepipeline:us-east-1:000000000000:demo",
    "arn:aws:codecommit:us-east-1:000000000000:demo", "arn:aws:iam::000000000000:role/demo",
    "0123456789abcdef0123456789abcdef01234567", "README.md", "dir/file.txt",
    "12345678-1234-1234-1234-123456789012", "d-ABCDEFGHI", "1", "us-east-1", "000000000000",
    "aGVsbG8=", "key", "https://example.com/hook", "{}", "a", "x y", "AWS", "demo@example.com",
]


# Members whose name holds one of these (lower case) try that value first. "commit" is set to the
# seeded commit's id when the class starts.
HINTS = {"email": "demo@example.com", "path": "README.md", "commit": None}


def java_pattern(p):
    """Returns a Python regex for a model's Java pattern, or None when Python cannot compile it
    (the value is then sent unchecked)."""
    p = p.replace(r"\p{L}", "a-zA-Z").replace(r"\p{N}", "0-9").replace(r"\p{Z}", " ")
    try:
        return re.compile(p)
    except re.error:
        return None


class Model:
    def __init__(self, name, doc):
        self.name = name
        self.doc = doc
        self.shapes = doc["shapes"]
        self.target = doc["metadata"].get("targetPrefix")
        self.signing = doc["metadata"].get("signingName") or doc["metadata"]["endpointPrefix"]

    def string(self, sh, member=""):
        if "enum" in sh:
            return sh["enum"][0]
        lo, hi = sh.get("min", 0), sh.get("max", 1 << 30)
        rx = java_pattern(sh["pattern"]) if "pattern" in sh else None
        order = CANDIDATES
        hinted = [v for k, v in HINTS.items() if v and k in member.lower()]
        if hinted:
            order = hinted + CANDIDATES
        elif member.lower().endswith("arn"):  # this service's ARN first: it names a seeded resource
            mine = "arn:aws:%s:" % self.name
            order = sorted(CANDIDATES, key=lambda c: not c.startswith(mine))
        for c in order:
            if lo <= len(c) <= hi and (rx is None or rx.fullmatch(c)):
                return c
        return "a" * max(lo, 1)

    def value(self, shape, depth=0, member=""):
        """A well-formed value of shape (of a member named member) with every member present
        (bounded in depth)."""
        sh = self.shapes[shape]
        t = sh["type"]
        if t == "structure":
            if depth >= MAX_DEPTH:
                return {}
            return {m: self.value(s["shape"], depth + 1, m) for m, s in sh["members"].items()
                    if depth < 3 or m in sh.get("required", [])}
        if t == "list":
            n = max(sh.get("min", 1), 1) if depth < MAX_DEPTH else sh.get("min", 0)
            return [self.value(sh["member"]["shape"], depth + 1) for _ in range(min(n, 3))]
        if t == "map":
            if depth >= MAX_DEPTH:
                return {}
            return {self.value(sh["key"]["shape"], depth + 1):
                    self.value(sh["value"]["shape"], depth + 1)}
        if t == "string":
            return self.string(sh, member)
        if t == "blob":
            return "aGVsbG8="
        if t == "boolean":
            return True
        if t == "timestamp":
            return 1700000000
        if t in ("integer", "long"):
            return max(sh.get("min", 1), min(sh.get("max", 1), 1))
        if t in ("double", "float"):
            return float(max(sh.get("min", 1), min(sh.get("max", 1), 1)))
        return {}

    def paths(self, shape, value, prefix=(), depth=0):
        """Yields (path, member shape) of every member in value, breadth first."""
        out, queue = [], [(shape, value, prefix, depth)]
        while queue:
            shape, value, prefix, depth = queue.pop(0)
            sh = self.shapes[shape]
            if depth > MAX_DEPTH:
                continue
            if sh["type"] == "structure" and isinstance(value, dict):
                for m, v in value.items():
                    s = sh["members"][m]["shape"]
                    out.append((prefix + (m,), s))
                    queue.append((s, v, prefix + (m,), depth + 1))
            elif sh["type"] == "list" and isinstance(value, list) and value:
                s = sh["member"]["shape"]
                out.append((prefix + (0,), s))
                queue.append((s, value[0], prefix + (0,), depth + 1))
            elif sh["type"] == "map" and isinstance(value, dict) and value:
                k = next(iter(value))
                s = sh["value"]["shape"]
                out.append((prefix + (k,), s))
                queue.append((s, value[k], prefix + (k,), depth + 1))
        return out

    def variants(self, shape, first_string):
        """Yields (class, label, value) replacements for a member of shape."""
        sh = self.shapes[shape]
        t = sh["type"]
        yield "null", "null", None
        yield "null", "[null]", [None]
        yield "null", "{k:null}", {"k": None}
        wrong = {"string": [1, True, {}], "blob": [1, []], "structure": [[], "x", 1],
                 "map": [[], "x"], "list": [{}, "x", 1], "boolean": ["x", 1, []]}
        for w in wrong.get(t, ["x", True, 1.5, []]):
            yield "type", "wrong type %s" % json.dumps(w), w
        if t in ("string", "blob"):
            yield "size", "empty", ""
            yield "size", "max+1", "a" * (sh.get("max", 300) + 1)
            yield "nul", "NUL inside", "a\u0000b"
            if first_string:
                yield "size", "1 MiB", "a" * BIG
        elif t in ("list", "map"):
            yield "size", "empty", [] if t == "list" else {}
            if t == "list":
                yield "size", "max+1 items", ["x"] * min(sh.get("max", 1000) + 1, 1001)
        elif t != "structure":
            yield "number", "1e400", Raw(b"1e400")
            yield "number", "-1e400", Raw(b"-1e400")
            yield "number", "2^63", Raw(b"9223372036854775808")
            yield "number", "-2^63-1", Raw(b"-9223372036854775809")
            yield "number", "-1", -1
            yield "number", "0", 0
        yield "utf8", "invalid UTF-8", Raw(b'"ab\xff\xfe"')
        yield "utf8", "invalid UTF-8 key", Raw(b'{"\xc0\xaf":"x"}')


def form_pairs(model, shape, value, prefix=""):
    """Flattens value (of shape) into awsQuery (name, value) pairs as botocore serialises them."""
    sh = model.shapes[shape]
    t = sh["type"]
    if t == "structure":
        out = []
        for m, v in value.items():
            out += form_pairs(model, sh["members"][m]["shape"], v, prefix + ("." if prefix else "") + m)
        return out
    if t == "list":
        if not value:
            return [(prefix, "")]
        out = []
        for i, v in enumerate(value):
            out += form_pairs(model, sh["member"]["shape"], v, "%s.member.%d" % (prefix, i + 1))
        return out
    if t == "map":
        out = []
        for i, (k, v) in enumerate(value.items()):
            out += form_pairs(model, sh["key"]["shape"], k, "%s.entry.%d.key" % (prefix, i + 1))
            out += form_pairs(model, sh["value"]["shape"], v, "%s.entry.%d.value" % (prefix, i + 1))
        return out
    if t == "boolean":
        return [(prefix, "true" if value else "false")]
    if t == "timestamp":
        return [(prefix, "2023-11-14T22:13:20Z")]
    return [(prefix, str(value))]


def form_body(pairs):
    """Encodes (name, value) pairs; a value of bytes is written as it is (already escaped)."""
    import urllib.parse
    out = []
    for k, v in pairs:
        ev = v if isinstance(v, bytes) else urllib.parse.quote(v, safe="").encode()
        out.append(urllib.parse.quote(k, safe=".").encode() + b"=" + ev)
    return b"&".join(out)


def form_variants(model, pairs):
    """Yields (class, label, pairs) with one parameter changed at a time."""
    import itertools
    for i, (k, v) in enumerate(pairs):
        rest = pairs[:i] + pairs[i + 1:]
        yield "missing", "%s dropped" % k, rest
        for cls, label, nv in (("size", "empty", ""), ("size", "oversize", "a" * 2049),
                               ("type", "not a number", "abc"), ("type", "huge number", "9" * 30),
                               ("escape", "bad escape", b"%zz"), ("escape", "cut escape", b"%4"),
                               ("utf8", "invalid UTF-8", b"%ff%fe"), ("nul", "NUL inside", b"a%00b")):
            yield cls, "%s = %s" % (k, label), pairs[:i] + [(k, nv)] + pairs[i + 1:]
        if ".member." in k:
            for idx in ("0", "1001", "99999999999999999999", "x"):
                nk = re.sub(r"\.member\.\d+", ".member." + idx, k, count=1)
                yield "index", "%s" % nk, pairs[:i] + [(nk, v)] + pairs[i + 1:]
        if i == 0:
            yield "size", "%s = 1 MiB" % k, pairs[:i] + [(k, "a" * BIG)] + pairs[i + 1:]


def replaced(value, path, new):
    """Returns a copy of value with the member at path replaced (or added) by new."""
    if not path:
        return new
    head = path[0]
    c = list(value) if isinstance(value, list) else dict(value)
    c[head] = replaced(value[head], path[1:], new) if len(path) > 1 else new
    return c


def is_token(member, required):
    """Pagination tokens: a generated one is never valid, so the well-formed input leaves the
    optional ones out (and they get their variants one at a time)."""
    return member not in required and (member.lower().endswith("token") or
                                       member in ("marker", "Marker"))


def utf8_ok(b):
    try:
        b.decode("utf-8", errors="strict")
        return True
    except UnicodeDecodeError:
        return False


# Operations that remove what the seeded resources provide run after all the others, and the
# ones that delete a resource last of all.
DESTRUCTIVE = ("Untag", "Disassociate", "Stop", "Remove")
DELETING = ("Delete", "Deregister")


def op_order(item):
    name = item[0]
    return (2 if name.startswith(DELETING) else 1 if name.startswith(DESTRUCTIVE) else 0, name)


class ModelSweep(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        """Seeds a few resources named as the generated inputs name them ("demo", tag key "demo",
        README.md on main), so that requests reach the handlers' code past "not found"."""
        super().setUpClass()
        s3 = cls.client(cls, "s3")
        s3.create_bucket(Bucket="demo-artifacts")
        cc = cls.client(cls, "codecommit")
        cc.create_repository(repositoryName="demo", tags={"demo": "demo"})
        cc.put_file(repositoryName="demo", branchName="main", fileContent=b"hello\n",
                    filePath="README.md", commitMessage="seed")
        head = cc.get_branch(repositoryName="demo", branchName="main")["branch"]["commitId"]
        cc.create_branch(repositoryName="demo", branchName="demo", commitId=head)
        HINTS["commit"] = head
        source = {"name": "Source", "actionTypeId": {"category": "Source", "owner": "AWS",
                                                     "provider": "CodeCommit", "version": "1"},
                  "configuration": {"RepositoryName": "demo", "BranchName": "main"},
                  "outputArtifacts": [{"name": "SourceOut"}]}
        build = {"name": "Build", "actionTypeId": {"category": "Build", "owner": "AWS",
                                                   "provider": "CodeBuild", "version": "1"},
                 "configuration": {"ProjectName": "demo"}, "inputArtifacts": [{"name": "SourceOut"}]}
        cls.client(cls, "codepipeline").create_pipeline(
            pipeline={"name": "demo", "roleArn": "arn:aws:iam::000000000000:role/demo",
                      "artifactStore": {"type": "S3", "location": "demo-artifacts"},
                      "stages": [{"name": "Source", "actions": [source]},
                                 {"name": "Build", "actions": [build]}]},
            tags=[{"key": "demo", "value": "demo"}])

    def setUp(self):
        self.conn = None

    def tearDown(self):
        if self.conn:
            self.conn.close()

    def connect(self):
        if self.conn:
            self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)

    def send(self, method, path, body=b"", headers=None):
        """One request on the persistent connection (reopened once when the server closed it).
        Returns (status, body bytes)."""
        for attempt in (0, 1):
            try:
                if not self.conn:
                    self.connect()
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.connect()
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.connect()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def signed(self, model, op, body):
        import botocore.auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        hdrs = {"Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "%s.%s" % (model.target, op)}
        req = AWSRequest(method="POST", url=self.server.endpoint + "/", data=body, headers=hdrs)
        botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), model.signing,
                                REGION).add_auth(req)
        return self.send("POST", "/", body, {k: v for k, v in req.headers.items()})

    def healthy(self):
        try:
            status, _ = self.send("GET", "/_codepipeline-local/health")
            return status == 200
        except (http.client.HTTPException, OSError):
            return False

    def json_models(self):
        status, body = self.send("GET", "/_codepipeline-local/health")
        self.assertEqual(status, 200)
        models = []
        for name in json.loads(body)["services"]:
            # A signing name with '-' has its model under '_' (protocol/services.def).
            path = os.path.join(MODELS, name.replace("-", "_"), "service-2.json")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                doc = json.load(f)
            if doc["metadata"]["protocol"] == "json":
                models.append(Model(name, doc))
        return models

    def test_every_operation_survives_hostile_members(self):
        skip = set(filter(None, os.environ.get("CPL_SWEEP_SKIP", "").split(",")))
        only = set(filter(None, os.environ.get("CPL_SWEEP_OPS", "").split(",")))
        failures, n_ops, n_req, t0 = [], 0, 0, time.time()
        statuses = {}
        models = self.json_models()
        self.assertTrue(models)
        for model in models:
            for op, spec in sorted(model.doc["operations"].items(), key=op_order):
                if only and op not in only:
                    continue
                n_ops += 1
                shape = spec.get("input", {}).get("shape")
                # The body itself: not an object, and an unknown member holding hostile bytes.
                cases = [("body", "null body", "", b"null"), ("body", "array body", "", b"[]"),
                         ("utf8", "unknown member", "", b'{"\xff":"\xfe"}'),
                         ("well-formed", "required only", "", b"{}")]
                cases = [c for c in cases if c[0] not in skip]
                if shape:
                    sh = model.shapes[shape]
                    required = {m: model.value(sh["members"][m]["shape"], 1, m)
                                for m in sh.get("required", [])}
                    full = model.value(shape)
                    base = {m: v for m, v in full.items()
                            if not is_token(m, sh.get("required", []))}
                    cases[-1:] = [("well-formed", "required only", "", encode(required)),
                                  ("well-formed", "all members", "", encode(base))]
                    first_string = True
                    n = 0
                    for path, s in model.paths(shape, full):
                        for cls, label, new in model.variants(s, first_string):
                            if cls in skip or n >= MAX_VARIANTS_PER_OP:
                                continue
                            n += 1
                            cases.append((cls, label, ".".join(map(str, path)),
                                          encode(replaced(base, path, new))))
                        if model.shapes[s]["type"] in ("string", "blob"):
                            first_string = False
                for cls, label, where, body in cases:
                    n_req += 1
                    what = "%s.%s %s%s%s" % (model.name, op, where, " = " if where else "", label)
                    try:
                        status, answer = self.signed(model, op, body)
                    except (http.client.HTTPException, OSError) as e:
                        if not self.restart_if_dead(failures, cls, what):
                            failures.append((cls, what, "no answer: %s" % e))
                        continue
                    statuses[status] = statuses.get(status, 0) + 1
                    why = None
                    if status >= 500 and not (status == 501 and b"NotImplementedException" in answer):
                        why = "HTTP %d" % status
                    elif not utf8_ok(answer):
                        why = "answer not UTF-8"
                    else:
                        try:
                            json.loads(answer or b"{}")
                        except ValueError:
                            why = "answer not JSON"
                    if why:
                        failures.append((cls, what, "%s: %s" % (why, answer[:200])))
                self.restart_if_dead(failures, "after", "%s.%s" % (model.name, op))
        by_class = {}
        for cls, _, _ in failures:
            by_class[cls] = by_class.get(cls, 0) + 1
        print("\nmodel sweep: %d operations, %d requests, %.1f s, %d failures %s\n"
              "  answers by HTTP status: %s" % (
                  n_ops, n_req, time.time() - t0, len(failures), by_class or "",
                  ", ".join("%d: %d" % kv for kv in sorted(statuses.items()))), file=sys.stderr)
        for cls, what, why in failures[:80]:
            print("  [%s] %s: %s" % (cls, what, why), file=sys.stderr)
        self.assertEqual(failures, [], "%d failures (listed above)" % len(failures))

    def query_models(self):
        status, body = self.send("GET", "/_codepipeline-local/health")
        self.assertEqual(status, 200)
        models = []
        for name in json.loads(body)["services"]:
            path = os.path.join(MODELS, name, "service-2.json")
            if os.path.exists(path):
                with open(path) as f:
                    doc = json.load(f)
                if doc["metadata"]["protocol"] == "query":
                    models.append(Model(name, doc))
        return models

    def signed_form(self, model, body):
        import botocore.auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest(method="POST", url=self.server.endpoint + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), model.signing,
                                REGION).add_auth(req)
        return self.send("POST", "/", body, {k: v for k, v in req.headers.items()})

    def test_every_query_operation_survives_hostile_parameters(self):
        import xml.etree.ElementTree as ET
        skip = set(filter(None, os.environ.get("CPL_SWEEP_SKIP", "").split(",")))
        only = set(filter(None, os.environ.get("CPL_SWEEP_OPS", "").split(",")))
        failures, n_ops, n_req, t0, statuses = [], 0, 0, time.time(), {}
        models = self.query_models()
        self.assertEqual(sorted(m.name for m in models), ["iam", "sts"])
        for model in models:
            version = model.doc["metadata"]["apiVersion"]
            # the protocol's own errors, with the code each must give
            fixed = [(b"Version=" + version.encode(), "MissingAction"),
                     (b"Action=NoSuchAction&Version=" + version.encode(), "InvalidAction"),
                     (b"Action=ListRoles&Version=1999-01-01", "InvalidAction"),
                     (b"Action=GetCallerIdentity&Version=1999-01-01", "InvalidAction"),
                     (b"Action=%zz&Version=" + version.encode(), "MalformedQueryString"),
                     (b"\xff\xfe", "MalformedQueryString")]
            for body, code in fixed:
                n_req += 1
                status, answer = self.signed_form(model, body)
                if status != 400 or b"<Code>%s</Code>" % code.encode() not in answer:
                    failures.append(("protocol", "%s %r" % (model.name, body),
                                     "want 400 %s, got %d %s" % (code, status, answer[:200])))
            for op, spec in sorted(model.doc["operations"].items(), key=op_order):
                if only and op not in only:
                    continue
                n_ops += 1
                shape = spec.get("input", {}).get("shape")
                head = [("Action", op), ("Version", version)]
                pairs = []
                if shape:
                    sh = model.shapes[shape]
                    full = model.value(shape)
                    base = {m: v for m, v in full.items()
                            if not is_token(m, sh.get("required", []))}
                    pairs = form_pairs(model, shape, base)
                cases = [("well-formed", "all members", head + pairs)]
                n = 0
                for cls, label, changed in form_variants(model, pairs):
                    if cls in skip or n >= MAX_VARIANTS_PER_OP:
                        continue
                    n += 1
                    cases.append((cls, label, head + changed))
                for cls, label, form in cases:
                    n_req += 1
                    what = "%s.%s %s" % (model.name, op, label)
                    try:
                        status, answer = self.signed_form(model, form_body(form))
                    except (http.client.HTTPException, OSError) as e:
                        if not self.restart_if_dead(failures, cls, what):
                            failures.append((cls, what, "no answer: %s" % e))
                        continue
                    statuses[status] = statuses.get(status, 0) + 1
                    why = None
                    if status >= 500 and not (status == 501 and b"NotImplemented" in answer):
                        why = "HTTP %d" % status
                    elif not utf8_ok(answer):
                        why = "answer not UTF-8"
                    else:
                        try:
                            root = ET.fromstring(answer)
                            if status >= 400 and (root.tag != "ErrorResponse" or
                                                  root.find("Error/Code") is None):
                                why = "error not an <ErrorResponse>"
                        except ET.ParseError:
                            why = "answer not XML"
                    if why:
                        failures.append((cls, what, "%s: %s" % (why, answer[:200])))
                self.restart_if_dead(failures, "after", "%s.%s" % (model.name, op))
        print("\nquery sweep: %d operations, %d requests, %.1f s, %d failures\n"
              "  answers by HTTP status: %s" % (
                  n_ops, n_req, time.time() - t0, len(failures),
                  ", ".join("%d: %d" % kv for kv in sorted(statuses.items()))), file=sys.stderr)
        for cls, what, why in failures[:80]:
            print("  [%s] %s: %s" % (cls, what, why), file=sys.stderr)
        self.assertEqual(failures, [], "%d failures (listed above)" % len(failures))

    def restart_if_dead(self, failures, cls, what):
        """Restarts a server that died or stopped answering, recording the crash against the
        request that had no answer, so the sweep goes on and reports every failure. Returns True
        when it restarted the server."""
        if self.healthy():
            return False
        proc = self.server.proc
        try:
            proc.wait(10)  # a crashing process may still be writing its report
        except Exception:
            pass
        lines = self.server.read_log().splitlines()
        first = next((i for i, l in enumerate(lines) if "ERROR:" in l or "runtime error" in l), 0)
        log = " | ".join(l.strip() for l in lines[first:first + 5])
        failures.append(("crash:" + cls, what, "server died: %s" % log))
        self.server.stop()
        self.server.start()
        self.connect()
        return True

if __name__ == "__main__":
    unittest.main()
