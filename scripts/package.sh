#!/usr/bin/env bash
# Builds the Lambda package: build/lambda.zip holding `bootstrap` (a static, stripped x86_64
# executable that needs no library from the host) and the licences of what is linked into it;
# with --arch arm64, build/lambda-arm64.zip, the same for arm64 (Graviton), cross-built.
# Runs on Lambda's provided.al2023 and provided.al2. Reproducible: the same sources and the
# same Debian packages give the same bytes (sorted entries, fixed dates and modes).
#
#   scripts/package.sh [--arch x86_64|arm64] [--build-dir DIR] [--deps-dir DIR] [--output FILE]
#
#   --arch ARCH       x86_64 (default) or arm64 (Lambda's names; amd64/aarch64 are accepted)
#   --build-dir DIR   CMake build directory (default build/static, the `static` preset;
#                     arm64: build/static-arm64, the `static-arm64` preset)
#   --deps-dir DIR    where the static libcurl is built and cached (default build/deps)
#   --output FILE     the zip (default build/lambda.zip; arm64: build/lambda-arm64.zip)
#
# Environment: SOURCE_DATE_EPOCH sets the entries' date (default 1980-01-01, the zip epoch).
# Needs what scripts/deps.sh installs (cmake, gcc, libssl-dev, libc-ares-dev, libjansson-dev,
# uuid-dev, python3; for arm64 gcc-aarch64-linux-gnu and libc6-dev-arm64-cross); the static
# libcurl is built once by scripts/build-static-deps.sh and cached under build/deps/ (arm64:
# with Debian's arm64 -dev packages unpacked beside it, see docs/packaging.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh

arch=x86_64
build_dir=
deps_dir=build/deps
output=
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=${2:?--arch needs a value}; shift 2 ;;
    --build-dir) build_dir=${2:?--build-dir needs a value}; shift 2 ;;
    --deps-dir) deps_dir=${2:?--deps-dir needs a value}; shift 2 ;;
    --output) output=${2:?--output needs a value}; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

case "$arch" in
  x86_64 | amd64)
    arch=x86_64 preset=static strip=strip elf_machine=X86-64 lambda_arch=x86_64
    output=${output:-build/lambda.zip} ;;
  arm64 | aarch64)
    arch=arm64 preset=static-arm64 strip=aarch64-linux-gnu-strip elf_machine=AArch64 lambda_arch=arm64
    output=${output:-build/lambda-arm64.zip} ;;
  *) die "unknown architecture '$arch': x86_64 or arm64" ;;
esac

readonly max_zip_bytes=5000000 # the issue's budget; Lambda's own limit is 50 MB zipped
# Both packages are built on an x86_64 machine: arm64 with Debian's cross compiler.
[ "$(uname -m)" = x86_64 ] || die "packages are built on x86_64 (this machine is $(uname -m)); see docs/packaging.md"
tools=(cmake gcc "$strip" readelf python3 sha256sum)
[ "$arch" = x86_64 ] || tools+=(aarch64-linux-gnu-gcc)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/deps.sh"
done

# ---- the dependency that Debian does not ship statically ----
say "static libcurl for $arch (scripts/build-static-deps.sh --arch $arch)"
built=$(scripts/build-static-deps.sh --arch "$arch" "$deps_dir" | tail -n1)
cross_args=()
if [ "$arch" = arm64 ]; then
  # An arm64 root: Debian's arm64 -dev packages and the libcurl, all under ROOT/usr.
  root=$built
  prefix=$root/usr
  cross_args=(-DUSERS_CROSS_ROOT="$root")
else
  prefix=$built
fi
[ -f "$prefix/lib/libcurl.a" ] || die "scripts/build-static-deps.sh gave no libcurl.a (prefix '$prefix')"

# ---- the static bootstrap ----
if [ -z "$build_dir" ]; then
  say "configure: cmake --preset $preset"
  cmake --preset "$preset" -DUSERS_STATIC_CURL_PREFIX="$prefix" "${cross_args[@]}" >/dev/null
  build_dir=build/$preset
else
  say "configure: $build_dir"
  [ "$arch" = x86_64 ] || cross_args+=(--toolchain cmake/aarch64-linux-gnu.cmake)
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DUSERS_WERROR=ON -DUSERS_STATIC=ON \
    -DBUILD_TESTING=OFF -DUSERS_STATIC_CURL_PREFIX="$prefix" "${cross_args[@]}" >/dev/null
fi
say "build: bootstrap (static, $arch)"
# The linker's notes about getaddrinfo/dlopen in libcrypto and c-ares are expected: those
# paths are never taken (curl resolves through c-ares, OpenSSL loads no config or module).
cmake --build "$build_dir" --target bootstrap -j "$(nproc)" 2>&1 \
  | grep -v -e 'in statically linked applications requires at runtime' -e ': in function `' || true
binary="$build_dir/bootstrap"
[ -x "$binary" ] || die "the build left no executable $binary"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
"$strip" --strip-all -o "$stage/bootstrap" "$binary"
chmod 0755 "$stage/bootstrap"

# Nothing may be loaded from the host: no program interpreter, no needed library.
readelf -hW "$stage/bootstrap" | grep -q "Machine:.*$elf_machine" || die "bootstrap is not an $elf_machine ELF"
if readelf -lW "$stage/bootstrap" | grep -q 'INTERP'; then
  die "bootstrap has a program interpreter: it is not static"
fi
if readelf -dW "$stage/bootstrap" | grep -q '(NEEDED)'; then
  die "bootstrap needs shared libraries: $(readelf -dW "$stage/bootstrap" | grep '(NEEDED)' | tr -s ' ')"
fi

# ---- the licences of everything linked in (OpenSSL's Apache-2.0 asks for it) ----
licences_x86_64() {
  echo "bootstrap (Users API) is linked statically with the libraries below. Their licences follow."
  echo
  sed -n '1p' "$prefix/BUILDINFO"
  for p in libssl-dev libc-ares-dev libjansson-dev uuid-dev libc6-dev; do
    dpkg-query -W -f '${Package} ${Version} (Debian)\n' "$p:$(dpkg --print-architecture)" 2>/dev/null \
      || dpkg-query -W -f '${Package} ${Version} (Debian)\n' "$p"
  done
  printf '\n==== curl ====\n\n'
  cat "$prefix/COPYING.curl"
  for doc in libssl3 libc-ares2 libjansson4 libuuid1 libc6; do
    printf '\n==== %s (/usr/share/doc/%s/copyright) ====\n\n' "$doc" "$doc"
    cat "/usr/share/doc/$doc/copyright"
  done
}
# arm64: the texts come with the arm64 -dev packages (each ships its library's copyright
# file) and with the cross toolchain's glibc; no path of this machine goes into the file.
licences_arm64() {
  local dev lib
  echo "bootstrap (Users API, arm64) is linked statically with the libraries below. Their licences follow."
  echo
  sed -n '1p' "$prefix/BUILDINFO"
  sed 's/$/ (Debian, arm64)/' "$root/DEBIAN-PACKAGES"
  dpkg-query -W -f '${Package} ${Version} (Debian)\n' libc6-dev-arm64-cross
  printf '\n==== curl ====\n\n'
  cat "$prefix/COPYING.curl"
  for dev in libssl-dev:libssl3 libc-ares-dev:libc-ares2 libjansson-dev:libjansson4 uuid-dev:libuuid1; do
    lib=${dev#*:} dev=${dev%%:*}
    printf '\n==== %s (%s:arm64, /usr/share/doc/%s/copyright) ====\n\n' "$lib" "$dev" "$dev"
    cat "$root/usr/share/doc/$dev/copyright"
  done
  printf '\n==== libc6 (libc6-dev-arm64-cross, /usr/share/doc/libc6-dev-arm64-cross/copyright) ====\n\n'
  cat /usr/share/doc/libc6-dev-arm64-cross/copyright
}
"licences_$arch" >"$stage/THIRD-PARTY-LICENSES.txt" || die "could not gather the licence texts for $arch"

# ---- the zip: sorted entries, one fixed date, explicit modes, no extra fields ----
mkdir -p "$(dirname "$output")"
say "zip → $output"
python3 - "$stage" "$output" "${SOURCE_DATE_EPOCH:-315532800}" <<'EOF'
import os, sys, time, zipfile
stage, out, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
date = time.gmtime(max(epoch, 315532800))[:6]  # zip dates start in 1980
tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w") as z:
    for name in sorted(os.listdir(stage)):
        info = zipfile.ZipInfo(name, date_time=date)
        info.create_system = 3  # Unix, so external_attr carries the mode
        mode = 0o755 if name == "bootstrap" else 0o644
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(os.path.join(stage, name), "rb") as f:
            z.writestr(info, f.read(), compresslevel=9)
os.replace(tmp, out)
EOF

size=$(stat -c %s "$output")
[ "$size" -le "$max_zip_bytes" ] || die "$output is $size bytes, over the $max_zip_bytes-byte budget"
say "$output: $size bytes, bootstrap $(stat -c %s "$stage/bootstrap") bytes unpacked"
say "sha256 $(sha256sum "$output" | cut -d' ' -f1)"
case "$output" in /*) where=$output ;; *) where=$(pwd)/$output ;; esac
say "done: upload $where with Runtime provided.al2023 or provided.al2, Handler bootstrap, $lambda_arch"
