"""Issue 14: what a deployed function shows — the invocation's log line with Lambda's fields,
its CloudWatch Embedded Metric Format document, and one X-Ray subsegment per DynamoDB call sent
to the daemon over UDP — driven through the real bootstrap, a fake Runtime API and DynamoDB
Local (or the flaky proxy in front of it, for faults)."""

import json
import re
import socket
import time
import uuid

from harness import CONFIG, REGION, BootstrapCase
from test_ddb_failures import INTERNAL, THROTTLING, VALIDATION, FlakyDynamo, _FakeDynamoCase

# CloudWatch's metric units (PutMetricData's StandardUnit), which EMF's Unit must be one of.
UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
    "Count/Second", "None",
}
METRIC_UNITS = {"Latency": "Milliseconds", "DynamoDBLatency": "Milliseconds", "DynamoDBRetries": "Count",
                "ClientErrors": "Count", "ServerErrors": "Count", "ColdStart": "Count"}
DAEMON_HEADER = b'{"format": "json", "version": 1}\n'
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def new_root():
    return "1-%08x-%s" % (int(time.time()), uuid.uuid4().hex[:24])


def sampled_header(root, parent, sampled=1):
    return "Root=%s;Parent=%s;Sampled=%d;Lineage=a87bd80c:0" % (root, parent, sampled)


def emf_problems(doc):
    """Every rule of the EMF specification the document breaks (empty when it is valid)."""
    problems = []
    aws = doc.get("_aws")
    if not isinstance(aws, dict):
        return ["_aws is not an object"]
    ts = aws.get("Timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool):
        problems.append("Timestamp is not an integer: %r" % ts)
    elif abs(ts - time.time() * 1000) > 300000:
        problems.append("Timestamp is not epoch milliseconds of now: %r" % ts)
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return problems + ["CloudWatchMetrics is not a non-empty array"]
    for d in directives:
        ns = d.get("Namespace")
        if not isinstance(ns, str) or not 1 <= len(ns) <= 255:
            problems.append("Namespace %r" % ns)
        dims = d.get("Dimensions")
        if not isinstance(dims, list):
            problems.append("Dimensions is not an array")
            dims = []
        for dimset in dims:
            if not isinstance(dimset, list) or len(dimset) > 30:
                problems.append("DimensionSet %r" % dimset)
                continue
            for name in dimset:
                if not isinstance(name, str) or not isinstance(doc.get(name), str):
                    problems.append("dimension %r is not a top-level string member" % name)
                elif not 1 <= len(doc[name]) <= 1024:
                    problems.append("dimension value %s=%r" % (name, doc[name]))
        metrics = d.get("Metrics")
        if not isinstance(metrics, list) or len(metrics) > 100:
            problems.append("Metrics %r" % metrics)
            metrics = []
        for m in metrics:
            name, unit = m.get("Name"), m.get("Unit", "None")
            if not isinstance(name, str) or not 1 <= len(name) <= 255:
                problems.append("metric name %r" % name)
                continue
            value = doc.get(name)
            numbers = value if isinstance(value, list) else [value]
            if not numbers or len(numbers) > 100 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
                problems.append("metric %s is not a top-level number: %r" % (name, value))
            if unit not in UNITS:
                problems.append("metric %s has unit %r" % (name, unit))
            if "StorageResolution" in m and m["StorageResolution"] not in (1, 60):
                problems.append("StorageResolution %r" % m["StorageResolution"])
    return problems


class UdpDaemon:
    """A stand-in X-Ray daemon: a UDP socket on loopback that keeps what it receives."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]

    def receive(self, wait=1.0):
        """Every datagram that arrives within wait seconds of the last one."""
        out = []
        self.sock.settimeout(wait)
        while True:
            try:
                out.append(self.sock.recv(65536))
            except socket.timeout:
                return out

    def close(self):
        self.sock.close()


def subsegments(datagrams):
    """The documents of datagrams, each checked for the daemon's header line."""
    docs = []
    for d in datagrams:
        assert d.startswith(DAEMON_HEADER), d
        docs.append(json.loads(d[len(DAEMON_HEADER):]))
    return docs


class _ObservedCase(BootstrapCase):
    FUNCTION = {"AWS_LAMBDA_FUNCTION_NAME": "users-api-UsersFunction-AbC123",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST"}

    def line(self, r):
        lines = self.invocation_log(r)
        self.assertEqual(len(lines), 1, lines)
        return lines[0]


class LogAndMetricsTest(_ObservedCase):
    """One bootstrap, many invocations: Lambda's fields on every line, the cold start on the
    first only, and a valid EMF document with the routed operation on each."""

    TABLE = "ObsUsers"
    ENV = dict(_ObservedCase.FUNCTION, SERVICE_NAME="users-api-test")

    def test_fields_metrics_and_cold_start_over_a_run(self):
        root, parent = new_root(), uuid.uuid4().hex[:16]
        self.runtime.trace_header = sampled_header(root, parent, 0)
        try:
            email = "obs.%s@example.com" % uuid.uuid4().hex[:8]
            steps = [
                (self.api("POST", "/users", {"name": "Obs", "email": email}), "CreateUser"),
                (self.api("POST", "/users", {"name": "", "email": email}), "CreateUser"),
                (self.api("GET", "/users", query={"limit": "2"}), "ListUsers"),
                (self.api("GET", "/users", query={"email": email.upper()}), "FindUserByEmail"),
                (self.api("GET", "/users", query={"email": "not-an-email"}), "FindUserByEmail"),
                (self.api("OPTIONS", "/users"), "Preflight"),
                (self.api("GET", "/nowhere"), "Unrouted"),
                (self.api("DELETE", "/users"), "Unrouted"),
            ]
            uid = steps[0][0].json["userId"]
            steps += [
                (self.api("GET", "/users/" + uid), "GetUser"),
                (self.api("PATCH", "/users/" + uid, {"age": 3}), "UpdateUser"),
                (self.api("PUT", "/users/" + uid, {"age": 4}, headers={"If-Match": '"1"'}), "UpdateUser"),
                (self.api("DELETE", "/users/" + uid), "DeleteUser"),
            ]
        finally:
            self.runtime.trace_header = None
        self.assertEqual([s[0].status for s in steps],
                         [201, 400, 200, 200, 400, 204, 404, 405, 200, 200, 412, 200])
        for i, (r, operation) in enumerate(steps):
            with self.subTest(step=i, operation=operation, status=r.status):
                line = self.line(r)
                self.assertEqual(emf_problems(line), [], line)
                self.assertEqual(line["awsRequestId"], r.lambda_request_id, line)
                self.assertEqual(line["requestId"], r.request_id, line)
                self.assertEqual(line["traceId"], root, line)
                self.assertEqual(line["functionName"], self.FUNCTION["AWS_LAMBDA_FUNCTION_NAME"])
                self.assertEqual(line["functionVersion"], "$LATEST")
                self.assertIs(line["coldStart"], i == 0, line)
                d = line["_aws"]["CloudWatchMetrics"][0]
                self.assertEqual(d["Namespace"], "UsersApi")
                self.assertEqual(d["Dimensions"], [["Service", "Operation"]])
                self.assertEqual(line["Service"], "users-api-test")
                self.assertEqual(line["Operation"], operation)
                units = {m["Name"]: m["Unit"] for m in d["Metrics"]}
                expected = {"Latency", "ClientErrors", "ServerErrors"}
                if line["ddbAttempts"] > 0:
                    expected |= {"DynamoDBLatency", "DynamoDBRetries"}
                if i == 0:
                    expected.add("ColdStart")
                self.assertEqual(set(units), expected, line)
                for name, unit in units.items():
                    self.assertEqual(unit, METRIC_UNITS[name])
                self.assertAlmostEqual(line["Latency"], line["durationMs"], delta=0.01)
                self.assertEqual(line["ClientErrors"], 1 if 400 <= r.status < 500 else 0)
                self.assertEqual(line["ServerErrors"], 1 if r.status >= 500 else 0)
                if "DynamoDBRetries" in line:
                    self.assertEqual(line["DynamoDBRetries"], 0, line)
                    self.assertGreater(line["DynamoDBLatency"], 0, line)
                    self.assertLessEqual(line["DynamoDBLatency"], line["Latency"], line)
                if i == 0:
                    self.assertEqual(line["ColdStart"], 1)
        # Every line on stdout is one JSON object, valid UTF-8.
        raw = self.boot.stdout()
        raw.decode("utf-8")
        for text in raw.splitlines():
            self.assertIsInstance(json.loads(text), dict, text)

    def test_no_trace_header_no_trace_id(self):
        self.runtime.trace_header = ""
        try:
            r = self.api("GET", "/users", query={"limit": "1"})
        finally:
            self.runtime.trace_header = None
        line = self.line(r)
        self.assertNotIn("traceId", line)
        self.assertIs(line["coldStart"], False)


class CoarseMetricsTest(_ObservedCase):
    """METRICS_DIMENSIONS=service: one dimension set, Service alone; METRICS_NAMESPACE named;
    and LOG_LEVEL=ERROR keeps the metrics' lines, which are their only record."""

    TABLE = "ObsCoarse"
    ENV = {"METRICS_DIMENSIONS": "service", "METRICS_NAMESPACE": "Team/Users", "LOG_LEVEL": "ERROR"}

    def test_service_dimension_namespace_and_level(self):
        r = self.api("GET", "/users", query={"limit": "1"})
        line = self.line(r)
        self.assertEqual(emf_problems(line), [], line)
        d = line["_aws"]["CloudWatchMetrics"][0]
        self.assertEqual(d["Dimensions"], [["Service"]])
        self.assertEqual(d["Namespace"], "Team/Users")
        self.assertEqual(line["Service"], "users-api")  # SERVICE_NAME unset: the default
        self.assertEqual(line["level"], "INFO")


class BadMetricsSettingsTest(_ObservedCase):
    """A namespace CloudWatch would refuse is a warning at start and the default, never a
    failed start or a broken document."""

    TABLE = "ObsBadSettings"
    ENV = {"METRICS_NAMESPACE": 'bad"name\n', "METRICS_DIMENSIONS": "everything"}

    def test_defaults_and_one_warning(self):
        r = self.api("GET", "/users", query={"limit": "1"})
        line = self.line(r)
        self.assertEqual(emf_problems(line), [], line)
        self.assertEqual(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "UsersApi")
        self.assertEqual(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"], [["Service", "Operation"]])
        warnings = [l for l in self.log_lines() if l.get("level") == "WARN" and "metrics" in l.get("message", "")]
        self.assertEqual(len(warnings), 1, self.log_lines())
        self.assertIn("METRICS_NAMESPACE", warnings[0]["message"])
        self.assertIn("METRICS_DIMENSIONS", warnings[0]["message"])


class _TracedCase(_ObservedCase):
    """A bootstrap and a stand-in X-Ray daemon, which the bootstrap is told of (through
    AWS_XRAY_DAEMON_ADDRESS) when TELL_BOOTSTRAP."""

    TELL_BOOTSTRAP = True

    @classmethod
    def setUpClass(cls):
        cls.daemon = UdpDaemon()
        cls.ENV = dict(cls.ENV, AWS_XRAY_DAEMON_ADDRESS=cls.daemon.address if cls.TELL_BOOTSTRAP else None)
        try:
            super().setUpClass()
        except BaseException:
            cls.daemon.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.daemon.close()

    def traced(self, sampled, *args, **kw):
        """Sends one request under a fresh trace; returns (response, root, parent, datagrams)."""
        self.daemon.receive(0.05)  # nothing left over from another test
        root, parent = new_root(), uuid.uuid4().hex[:16]
        self.runtime.trace_header = sampled_header(root, parent, sampled)
        try:
            r = self.api(*args, **kw)
        finally:
            self.runtime.trace_header = None
        return r, root, parent, self.daemon.receive(0.5)


class XRayTest(_TracedCase, _FakeDynamoCase):
    TABLE = "ObsTraced"
    FAKE = FlakyDynamo
    ENV = dict(_ObservedCase.FUNCTION)
    ALLOW_5XX = True

    def setUp(self):
        self.fake.inject()

    def check_subsegment(self, doc, root, parent, operation, tables):
        self.assertEqual(doc["name"], "DynamoDB")
        self.assertRegex(doc["id"], HEX16)
        self.assertNotEqual(doc["id"], parent)
        self.assertEqual(doc["trace_id"], root)
        self.assertEqual(doc["parent_id"], parent)
        self.assertEqual(doc["type"], "subsegment")
        self.assertEqual(doc["namespace"], "aws")
        self.assertIsInstance(doc["start_time"], float)
        self.assertLessEqual(doc["start_time"], doc["end_time"])
        self.assertLess(abs(doc["start_time"] - time.time()), 60)
        self.assertLess(doc["end_time"] - doc["start_time"], 10)
        aws = doc["aws"]
        self.assertEqual(aws["operation"], operation)
        self.assertEqual(aws["region"], REGION)
        if len(tables) == 1:
            self.assertEqual(aws["table_name"], tables[0])
        else:
            self.assertEqual(sorted(aws["table_names"]), sorted(tables))
        self.assertRegex(aws["request_id"], r"^[0-9a-f-]{36}$")
        self.assertIsInstance(aws["retries"], int)

    def test_sampled_calls_send_one_subsegment_each_and_pass_the_trace_on(self):
        email = "traced.%s@example.com" % uuid.uuid4().hex[:8]
        r, root, parent, grams = self.traced(1, "POST", "/users", {"name": "T", "email": email})
        self.assertEqual(r.status, 201, r)
        docs = subsegments(grams)
        self.assertEqual(len(docs), 1, docs)
        self.check_subsegment(docs[0], root, parent, "TransactWriteItems", [self.TABLE, self.TABLE + "-claims"])
        self.assertEqual(docs[0]["aws"]["retries"], 0)
        self.assertEqual(docs[0]["http"]["response"]["status"], 200)
        for flag in ("error", "throttle", "fault"):
            self.assertNotIn(flag, docs[0])
        # DynamoDB got the trace with the subsegment as parent, as the AWS SDKs send it.
        self.assertEqual(self.fake.trace_headers, ["Root=%s;Parent=%s;Sampled=1" % (root, docs[0]["id"])])

        uid = r.json["userId"]
        self.fake.inject()
        r, root, parent, grams = self.traced(1, "DELETE", "/users/" + uid)
        self.assertEqual(r.status, 200, r)
        docs = subsegments(grams)
        self.assertEqual([d["aws"]["operation"] for d in docs], ["GetItem", "TransactWriteItems"])
        self.check_subsegment(docs[0], root, parent, "GetItem", [self.TABLE])
        self.check_subsegment(docs[1], root, parent, "TransactWriteItems", [self.TABLE, self.TABLE + "-claims"])
        self.assertNotEqual(docs[0]["id"], docs[1]["id"])
        self.assertEqual(self.fake.trace_headers,
                         ["Root=%s;Parent=%s;Sampled=1" % (root, d["id"]) for d in docs])
        line = self.line(r)
        self.assertEqual(line["traceId"], root)

    def test_unsampled_sends_nothing_but_passes_the_trace_on(self):
        r, root, parent, grams = self.traced(0, "GET", "/users", query={"limit": "1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(grams, [])
        self.assertEqual(self.fake.trace_headers, ["Root=%s;Parent=%s;Sampled=0" % (root, parent)])

    def test_retried_call_counts_its_retries(self):
        self.fake.inject(INTERNAL)
        r, root, parent, grams = self.traced(1, "GET", "/users", query={"limit": "1"})
        self.assertEqual(r.status, 200, r)
        docs = subsegments(grams)
        self.assertEqual(len(docs), 1, docs)
        self.check_subsegment(docs[0], root, parent, "Scan", [self.TABLE])
        self.assertEqual(docs[0]["aws"]["retries"], 1)
        self.assertEqual(docs[0]["http"]["response"]["status"], 200)
        self.assertNotIn("fault", docs[0])
        line = self.line(r)
        self.assertEqual(line["DynamoDBRetries"], 1, line)
        self.assertEqual(line["ddbAttempts"], 2, line)

    def test_fault_throttle_and_error(self):
        cases = [
            ([INTERNAL] * 10, 503, {"fault": True}, 500),
            ([THROTTLING] * 10, 503, {"error": True, "throttle": True}, 400),
            ([VALIDATION], 500, {"error": True}, 400),
        ]
        for plan, status, flags, http_status in cases:
            with self.subTest(plan=plan[0], status=status):
                self.fake.inject(*plan)
                r, root, parent, grams = self.traced(1, "GET", "/users", query={"limit": "1"})
                self.assertEqual(r.status, status, r)
                docs = subsegments(grams)
                self.assertEqual(len(docs), 1, docs)
                self.check_subsegment(docs[0], root, parent, "Scan", [self.TABLE])
                self.assertEqual(docs[0]["http"]["response"]["status"], http_status)
                for flag in ("error", "throttle", "fault"):
                    self.assertEqual(docs[0].get(flag, False), flags.get(flag, False), (flag, docs[0]))
                line = self.line(r)
                self.assertEqual(line["ServerErrors"], 1, line)
                self.assertEqual(line["DynamoDBRetries"], line["ddbAttempts"] - 1, line)


class NoDaemonTest(_TracedCase):
    """Sampled, but AWS_XRAY_DAEMON_ADDRESS unset: nothing is sent, nothing fails."""

    TABLE = "ObsNoDaemon"
    TELL_BOOTSTRAP = False

    def test_nothing_sent(self):
        self.assertNotIn("AWS_XRAY_DAEMON_ADDRESS", self.boot.env)
        r, root, parent, grams = self.traced(1, "GET", "/users", query={"limit": "1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(grams, [])
        self.assertEqual(self.line(r)["traceId"], root)


class DeadDaemonTest(_ObservedCase):
    """A daemon address nobody listens on: every datagram is dropped by the kernel (ICMP port
    unreachable makes later sends fail); answers are unaffected and come as fast."""

    TABLE = "ObsDeadDaemon"

    @classmethod
    def setUpClass(cls):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        cls.ENV = {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:%d" % port}
        super().setUpClass()

    def test_answers_unaffected(self):
        for i in range(20):
            self.runtime.trace_header = sampled_header(new_root(), uuid.uuid4().hex[:16], 1)
            try:
                r = self.api("GET", "/users", query={"limit": "1"})
            finally:
                self.runtime.trace_header = None
            self.assertEqual(r.status, 200, r)
            self.assertLess(self.line(r)["durationMs"], 1000)
        self.assertTrue(self.boot.alive())


class NamedDaemonTest(_ObservedCase):
    """A daemon named by host name: no name is resolved (tracing is off, one warning says
    why), and the API works."""

    TABLE = "ObsNamedDaemon"
    ENV = {"AWS_XRAY_DAEMON_ADDRESS": "localhost:2000"}

    def test_warning_and_no_tracing(self):
        r = self.api("GET", "/users", query={"limit": "1"})
        self.assertEqual(r.status, 200, r)
        warnings = [l for l in self.log_lines() if l.get("level") == "WARN" and "tracing off" in l.get("message", "")]
        self.assertEqual(len(warnings), 1, self.log_lines())
        self.assertIn("AWS_XRAY_DAEMON_ADDRESS", warnings[0]["message"])
