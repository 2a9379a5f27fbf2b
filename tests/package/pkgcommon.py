"""pkgcommon.py — what the package and infra tests share (Python 3 standard library only):
unpacking the zip with its modes, reading ELF facts through binutils' readelf, and a unittest
runner whose last line is `N passed, N failed` and whose exit status is non-zero on any
failure (a test that cannot run fails; nothing is skipped)."""

import os
import re
import stat
import subprocess
import sys
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.dont_write_bytecode = True

# Lambda's provided.al2 has glibc 2.26; provided.al2023 has 2.34. The package must ask for
# nothing newer than the older one.
MAX_GLIBC = (2, 26)


def unzip_with_modes(zip_path, dest):
    """Extracts like Lambda does: regular files with the Unix modes stored in the zip."""
    names = []
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            target = os.path.realpath(os.path.join(dest, info.filename))
            if not target.startswith(os.path.realpath(dest) + os.sep):
                raise AssertionError("zip entry escapes the directory: %r" % info.filename)
            z.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o7777
            if mode:
                os.chmod(target, mode)
            names.append(info.filename)
    return names


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True, text=True).stdout


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def elf_facts(path):
    """What the loader would need to run the file: interpreter, needed libraries, the glibc
    symbol versions it asks for, and whether it has a dynamic section at all."""
    programs = readelf("-l", path)
    dynamic = readelf("-d", path)
    versions = readelf("-V", path)
    header = readelf("-h", path)
    sections = readelf("-S", path)
    glibc = sorted({tuple(int(x) for x in m.split("."))
                    for m in re.findall(r"GLIBC_([0-9]+(?:\.[0-9]+)+)", versions)})
    return {
        "machine": re.search(r"Machine:\s+(.*)", header).group(1).strip(),
        "type": re.search(r"Type:\s+(\S+)", header).group(1),
        "interp": "INTERP" in programs,
        "dynamic": "DYNAMIC" in programs,
        "needed": re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic),
        "verneed": ".gnu.version_r" in sections,
        "glibc": glibc,
        "symtab": re.search(r"\]\s+\.symtab\s", sections) is not None,
    }


def is_static_busybox(path):
    if not (os.path.isfile(path) and is_elf(path)):
        return False
    f = elf_facts(path)
    return not f["interp"] and not f["needed"]


def executable(path):
    return os.path.isfile(path) and bool(os.stat(path).st_mode & stat.S_IXUSR)


class CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.failed_ids = set()
        self.passed_ids = set()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed_ids.add(test.id())

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed_ids.add(test.id())

    def addError(self, test, err):
        super().addError(test, err)
        self.failed_ids.add(test.id())

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.failed_ids.add(test.id())

    def addSkip(self, test, reason):  # nothing here may be skipped
        super().addSkip(test, reason)
        self.failed_ids.add(test.id())


def _ids(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _ids(t)
        else:
            yield t.id()


def run(module_name, argv=None):
    """Runs the TestCases of a module; prints `N passed, N failed` last; returns the exit code."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module_name])
    total = set(_ids(suite))
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult).run(suite)
    passed = len(result.passed_ids - result.failed_ids)
    failed = max(len(total) - passed, 0) if not result.wasSuccessful() or result.failed_ids else 0
    if not total:
        failed = 1
        print("no test was collected", file=sys.stderr)
    sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 and result.wasSuccessful() else 1
