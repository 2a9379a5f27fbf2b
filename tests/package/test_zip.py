#!/usr/bin/env python3
"""What is in build/lambda.zip (or build/lambda-arm64.zip), and what it needs from the
machine that runs it.

    python3 tests/package/test_zip.py --zip build/lambda.zip [--dynamic build/release/bootstrap]
    python3 tests/package/test_zip.py --arch arm64 --zip build/lambda-arm64.zip [--dynamic ...]

- `bootstrap` at the root, a regular file with mode 0755; entries sorted, one fixed date,
  no directories; the zip within its 5,000,000-byte budget.
- Every ELF file in it runs without the host's libraries: no program interpreter, no needed
  shared library, no glibc symbol version asked for (so nothing newer than provided.al2's
  glibc 2.26), of the package's machine (x86-64, or AArch64 for --arch arm64), stripped.
- The binary starts here and says why it stops (no Runtime API); an arm64 one under Debian's
  qemu-aarch64-static, called explicitly (binfmt_misc is not assumed).
- --dynamic: the same ELF check, run on the ordinary dynamic build, must find what it looks
  for (GLIBC_2.3x symbol versions, libc.so.6), so the check is known to work.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

import pkgcommon

ARGS = None
MAX_ZIP_BYTES = 5_000_000
# readelf's name for each package architecture's ELF machine.
MACHINES = {"x86_64": "Advanced Micro Devices X86-64", "arm64": "AArch64"}


def elf_problems(path, arch="x86_64"):
    """Why the file could not run on provided.al2 (arch) without the host's libraries (empty: it can)."""
    f = pkgcommon.elf_facts(path)
    problems = []
    if f["machine"] != MACHINES[arch]:
        problems.append("machine %s" % f["machine"])
    if f["interp"]:
        problems.append("has a program interpreter (PT_INTERP)")
    if f["needed"]:
        problems.append("needs shared libraries %s" % f["needed"])
    if f["verneed"] or f["glibc"]:
        newest = max(f["glibc"]) if f["glibc"] else None
        problems.append("asks for glibc symbol versions (newest %s)" % (".".join(map(str, newest)) if newest else "?"))
        if newest and newest > pkgcommon.MAX_GLIBC:
            problems.append("glibc %s is newer than provided.al2's 2.26" % ".".join(map(str, newest)))
    return problems


class PackageContents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(ARGS.zip):
            raise AssertionError("no package at %s: run scripts/package.sh" % ARGS.zip)
        cls.tmp = tempfile.mkdtemp(prefix="users-zip-")
        cls.names = pkgcommon.unzip_with_modes(ARGS.zip, cls.tmp)
        with zipfile.ZipFile(ARGS.zip) as z:
            cls.infos = z.infolist()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_bootstrap_at_the_root_0755(self):
        info = next((i for i in self.infos if i.filename == "bootstrap"), None)
        self.assertIsNotNone(info, "no `bootstrap` at the zip's root: %s" % self.names)
        mode = info.external_attr >> 16
        self.assertEqual(info.create_system, 3, "modes must be Unix modes")
        self.assertEqual(oct(mode), oct(0o100755), "bootstrap must be a regular file, mode 0755")

    def test_reproducible_layout(self):
        self.assertEqual([i.filename for i in self.infos], sorted(i.filename for i in self.infos))
        self.assertEqual(len({i.date_time for i in self.infos}), 1, "one fixed date for every entry")
        for i in self.infos:
            self.assertFalse(i.is_dir(), i.filename)
            self.assertNotIn("/", i.filename, "flat: %s" % i.filename)
            self.assertEqual(i.extra, b"", "no extra fields (they carry timestamps and owners): %s" % i.filename)

    def test_size_budget(self):
        size = os.path.getsize(ARGS.zip)
        self.assertLessEqual(size, MAX_ZIP_BYTES)
        print("\n    %s: %d bytes" % (os.path.basename(ARGS.zip), size), end=" ")

    def test_no_elf_needs_the_host(self):
        elves = [n for n in self.names if pkgcommon.is_elf(os.path.join(self.tmp, n))]
        self.assertIn("bootstrap", elves)
        for n in elves:
            with self.subTest(file=n):
                self.assertEqual(elf_problems(os.path.join(self.tmp, n), ARGS.arch), [])
                self.assertFalse(pkgcommon.elf_facts(os.path.join(self.tmp, n))["symtab"], "%s is not stripped" % n)

    def test_licences_shipped(self):
        self.assertIn("THIRD-PARTY-LICENSES.txt", self.names)
        text = open(os.path.join(self.tmp, "THIRD-PARTY-LICENSES.txt"), encoding="utf-8").read()
        for lib in ("curl", "libssl3", "libc-ares2", "libjansson4", "libuuid1", "libc6"):
            self.assertIn("==== %s" % lib, text)

    def test_starts_and_explains_itself(self):
        cmd = [os.path.join(self.tmp, "bootstrap")]
        if ARGS.arch == "arm64":
            qemu = shutil.which("qemu-aarch64-static")
            self.assertIsNotNone(qemu, "qemu-aarch64-static is missing: apt-get install qemu-user-static")
            cmd.insert(0, qemu)
        r = subprocess.run(cmd, env={}, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r)
        line = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual(line["level"], "ERROR")
        self.assertIn("AWS_LAMBDA_RUNTIME_API", line["message"])


class TheCheckWorks(unittest.TestCase):
    def test_the_dynamic_build_is_caught(self):
        if not ARGS.dynamic:
            self.fail("pass --dynamic build/release/bootstrap (the negative control must run)")
        problems = elf_problems(ARGS.dynamic)
        self.assertTrue(any("program interpreter" in p for p in problems), problems)
        self.assertTrue(any("libc.so.6" in p for p in problems), problems)
        self.assertTrue(any("newer than provided.al2" in p for p in problems), problems)

    def test_the_other_machine_is_caught(self):
        # The package's bootstrap checked as if it were the other architecture's.
        other = "x86_64" if ARGS.arch == "arm64" else "arm64"
        tmp = tempfile.mkdtemp(prefix="users-zip-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pkgcommon.unzip_with_modes(ARGS.zip, tmp)
        problems = elf_problems(os.path.join(tmp, "bootstrap"), other)
        self.assertEqual(problems, ["machine %s" % MACHINES[ARGS.arch]])


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zip", default=os.path.join(pkgcommon.REPO, "build", "lambda.zip"))
    ap.add_argument("--arch", choices=sorted(MACHINES), default="x86_64",
                    help="the architecture the package is for (default x86_64)")
    ap.add_argument("--dynamic")
    ARGS = ap.parse_args()
    return pkgcommon.run(__name__)


if __name__ == "__main__":
    sys.exit(main())
