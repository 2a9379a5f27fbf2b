#!/usr/bin/env bash
# Builds the one dependency Debian does not ship in a statically linkable form: a minimal
# libcurl.a (HTTP and HTTPS only, OpenSSL, c-ares for name resolution), from Debian's own
# source package with Debian's patches. Everything else the static bootstrap links is
# Debian's own .a (libssl, libcrypto, libcares, libjansson, libuuid).
#
#   scripts/build-static-deps.sh [--arch x86_64|arm64] [OUT_DIR]     (default build/deps)
#
# x86_64 (the default, the machine's own architecture): prints the install prefix
# (OUT_DIR/curl-<debian version>-<options hash>) as its last line.
#
# arm64: cross-builds the same libcurl with Debian's aarch64 cross compiler
# (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross) and prints a root directory
# (OUT_DIR/arm64-curl-<debian version>-<hash>) as its last line: Debian's own arm64 -dev
# packages (libssl-dev, libc-ares-dev, libjansson-dev, uuid-dev, the same versions as the
# installed native ones) unpacked under ROOT/usr, and the libcurl installed into ROOT/usr
# (so ROOT/usr is the curl prefix). Nothing is installed on the machine: the .deb files are
# fetched by `apt-get download` and unpacked with `dpkg-deb -x` (docs/decisions.md, "arm64").
#
# The result is cached under that name: a rerun with the same source version and options
# does nothing. Debian's packages are fetched with a private apt configuration (its own
# sources list with `Types: deb-src` — and `deb` for arm64, its own lists and caches under
# OUT_DIR/apt or OUT_DIR/apt-arm64), so the machine's apt setup is never touched.
#
# Environment: USERS_CURL_VERSION=<debian version> to pin another source version (default:
# the installed libcurl4-openssl-dev's, so the static library carries the same patches as
# the system's).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
say_fd=2

arch=x86_64
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=${2:?--arch needs a value}; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) [ -z "$out" ] || die "one OUT_DIR only"; out=$1; shift ;;
  esac
done
case "$arch" in
  x86_64 | amd64) arch=x86_64 ;;
  arm64 | aarch64) arch=arm64 ;;
  *) die "unknown architecture '$arch' (x86_64 or arm64)" ;;
esac
out=${out:-build/deps}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in apt-get dpkg-source dpkg-query dpkg-deb gcc make pkg-config sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (scripts/deps.sh installs it)"
done
if [ "$arch" = x86_64 ]; then
  for a in libssl.a libcrypto.a libcares.a; do
    [ -f "/usr/lib/$(gcc -dumpmachine)/$a" ] \
      || die "/usr/lib/$(gcc -dumpmachine)/$a is missing: apt-get install libssl-dev libc-ares-dev"
  done
else
  readonly cross=aarch64-linux-gnu
  command -v "$cross-gcc" >/dev/null 2>&1 \
    || die "$cross-gcc is missing: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
  [ -f "/usr/$cross/lib/libc.a" ] || die "/usr/$cross/lib/libc.a is missing: apt-get install libc6-dev-arm64-cross"
fi

# Everything but HTTP(S) is left out: fewer bytes to load at cold start, less attack surface.
# The CA bundle default is Amazon Linux's path (Lambda); src/http.c passes CURLOPT_CAINFO
# explicitly anyway, so this only matters if no bundle is found at all.
configure_args=(
  --disable-shared --enable-static --with-pic
  --with-openssl --enable-ares
  --with-ca-bundle=/etc/pki/tls/certs/ca-bundle.crt --without-ca-path --without-ca-fallback
  --disable-openssl-auto-load-config
  --enable-http --enable-proxy --enable-ipv6 --enable-verbose
  --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict
  --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp
  --disable-gopher --disable-mqtt --disable-manual --disable-libcurl-option
  --disable-ntlm --disable-ntlm-wb --disable-kerberos-auth --disable-negotiate-auth
  --disable-aws --disable-alt-svc --disable-hsts --disable-cookies --disable-mime
  --disable-netrc --disable-progress-meter --disable-doh --disable-unix-sockets
  --disable-tls-srp --disable-dnsshuffle --disable-get-easy-options --disable-socketpair
  --without-zlib --without-brotli --without-zstd --without-libpsl --without-libidn2
  --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-quiche --without-msh3
  --without-librtmp --without-libssh2 --without-libssh --without-libgsasl --without-gssapi
  --without-hyper --without-winidn
)
cflags="-O2 -g0 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -ffunction-sections -fdata-sections"

version=${USERS_CURL_VERSION:-$(dpkg-query -W -f '${Version}' libcurl4-openssl-dev 2>/dev/null || true)}
[ -n "$version" ] || die "libcurl4-openssl-dev is not installed and USERS_CURL_VERSION is not set"

# arm64: Debian's own aarch64 -dev packages, the versions of the installed native ones (the
# same sources and patches as the x86_64 package links), and the cross toolchain's versions.
dev_pkgs=(libssl-dev libc-ares-dev libjansson-dev uuid-dev)
arch_facts=()
if [ "$arch" = arm64 ]; then
  dev_specs=()
  for p in "${dev_pkgs[@]}"; do
    v=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || true)
    [ -n "$v" ] || die "$p is not installed (scripts/deps.sh): its version pins the arm64 one"
    dev_specs+=("$p=$v")
  done
  arch_facts=(arm64 "${dev_specs[@]}" "$("$cross-gcc" -dumpfullversion)"
    "$(dpkg-query -W -f '${Version}' libc6-dev-arm64-cross 2>/dev/null || true)")
fi
cache_key() {
  printf '%s\n' "$version" "$cflags" "${configure_args[@]}" "${arch_facts[@]}" | sha256sum | cut -c1-12
}
cache_name() {
  if [ "$arch" = arm64 ]; then
    printf '%s/arm64-curl-%s-%s' "$out" "${version//[^A-Za-z0-9.+~-]/_}" "$(cache_key)"
  else
    printf '%s/curl-%s-%s' "$out" "${version//[^A-Za-z0-9.+~-]/_}" "$(cache_key)"
  fi
}
prefix=$(cache_name)

if [ -f "$prefix/.complete" ]; then
  say "static libcurl $version is cached: $prefix"
  printf '%s\n' "$prefix"
  exit 0
fi

# ---- Debian's source package, through a private apt configuration ----
# (arm64: its own configuration that also lists arm64 binary packages, for the -dev .debs)
if [ "$arch" = arm64 ]; then
  apt_dir="$out/apt-arm64"
  types="deb deb-src"
else
  apt_dir="$out/apt"
  types="deb-src"
fi
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
system_sources=/etc/apt/sources.list.d/debian.sources
[ -f "$system_sources" ] || die "$system_sources is missing: cannot derive a deb-src entry"
# The same archives, suites and keys as the machine uses; only the type changes.
sed -E "s/^Types:.*/Types: $types/" "$system_sources" >"$apt_dir/sources.list.d/debian-src.sources"
apt_opts=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root"
)
if [ "$arch" = arm64 ]; then
  # Binary packages of arm64 only, judged against an empty dpkg status: the machine's dpkg
  # is neither asked nor changed (no `dpkg --add-architecture`).
  apt_opts+=(-o "APT::Architecture=arm64" -o "APT::Architectures::=arm64"
    -o "Dir::State::status=/dev/null")
fi
say "apt-get update (private ${types// /+} lists in $apt_dir)"
apt-get "${apt_opts[@]}" update -qq >&2 \
  || die "apt-get update of the private lists failed: is Debian's package archive reachable?"

# Per architecture, so that both packages can be built at once (ctest -j2).
work_suffix=
[ "$arch" = x86_64 ] || work_suffix=-$arch
src_dir="$out/src$work_suffix"
rm -rf "$src_dir"
mkdir -p "$src_dir"
say "apt-get source curl=$version"
if ! (cd "$src_dir" && apt-get "${apt_opts[@]}" source -qq "curl=$version" >&2); then
  [ -z "${USERS_CURL_VERSION:-}" ] || die "curl source version $version is not in the archive"
  say "curl=$version is not in the archive any more; taking the newest source instead"
  (cd "$src_dir" && apt-get "${apt_opts[@]}" source -qq curl >&2) \
    || die "apt-get source curl failed"
  version=$(cd "$src_dir" && dpkg-parsechangelog -l curl-*/debian/changelog -S Version)
  prefix=$(cache_name)
fi
tree=$(find "$src_dir" -mindepth 1 -maxdepth 1 -type d -name 'curl-*' | head -n1)
{ [ -n "$tree" ] && [ -x "$tree/configure" ]; } || die "no unpacked curl source with a configure script in $src_dir"

rm -rf "$prefix"
build="$out/build-curl$work_suffix"
rm -rf "$build"
mkdir -p "$build"

# ---- arm64: Debian's aarch64 -dev packages, unpacked under ROOT (nothing installed) ----
host_args=()
curl_prefix=$prefix
configure_prefix=$prefix
destdir=()
if [ "$arch" = arm64 ]; then
  root=$prefix
  curl_prefix=$root/usr
  # Installed as /usr under ROOT, so its libcurl.pc reads like Debian's own .pc files.
  configure_prefix=/usr
  destdir=("DESTDIR=$root")
  debs="$build/debs"
  mkdir -p "$debs" "$root"
  say "apt-get download ${dev_specs[*]} (arm64)"
  if ! (cd "$debs" && apt-get "${apt_opts[@]}" download -qq "${dev_specs[@]}" >&2); then
    # A security update can reach the archive for one architecture before the other, or the
    # machine's packages can lag behind the archive: take the archive's newest, say so.
    say "those exact versions are not all in the archive for arm64; taking the newest instead"
    rm -f "$debs"/*.deb
    (cd "$debs" && apt-get "${apt_opts[@]}" download -qq "${dev_pkgs[@]}" >&2) \
      || die "apt-get download ${dev_pkgs[*]} (arm64) failed"
  fi
  for deb in "$debs"/*.deb; do
    [ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || die "$deb is not an arm64 package"
    dpkg-deb -x "$deb" "$root"
    dpkg-deb -f "$deb" Package Version | paste -sd' ' | sed 's/^Package: //; s/ Version: / /'
  done >"$root/DEBIAN-PACKAGES"
  for a in libssl.a libcrypto.a libcares.a libjansson.a libuuid.a; do
    [ -f "$root/usr/lib/$cross/$a" ] || die "the arm64 packages gave no $root/usr/lib/$cross/$a"
  done
  # Curl's configure finds OpenSSL and c-ares through pkg-config: only the arm64 .pc files,
  # their paths moved under ROOT; the arm64 multiarch headers before the machine's own.
  export PKG_CONFIG=pkg-config
  export PKG_CONFIG_LIBDIR="$root/usr/lib/$cross/pkgconfig:$root/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR=$root
  host_args=(--host="$cross" --build="$(gcc -dumpmachine)" CC="$cross-gcc" AR="$cross-ar"
    RANLIB="$cross-ranlib" STRIP="$cross-strip"
    CPPFLAGS="-isystem $root/usr/include/$cross -isystem $root/usr/include"
    LDFLAGS="-L$root/usr/lib/$cross")
fi

# ---- configure and build the library only (not the curl tool) ----
say "configure curl $version ($arch) → $curl_prefix"
# Reproducible objects: no build paths, fixed timestamps in the archive.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
map="-ffile-prefix-map=$tree=curl -ffile-prefix-map=$build=curl"
[ "$arch" = x86_64 ] || map="$map -ffile-prefix-map=$root=/"
(cd "$build" && "$tree/configure" --prefix="$configure_prefix" "${configure_args[@]}" "${host_args[@]}" \
  CFLAGS="$cflags $map" \
  >configure.log 2>&1) || {
  tail -n 40 "$build/configure.log" >&2
  die "curl's configure failed (log: $build/configure.log)"
}
say "make (lib only, -j$(nproc))"
(cd "$build" && make -C lib -j"$(nproc)" >make.log 2>&1 && make -C lib "${destdir[@]}" install >>make.log 2>&1 \
  && make -C include "${destdir[@]}" install >>make.log 2>&1) || {
  tail -n 40 "$build/make.log" >&2
  die "building libcurl failed (log: $build/make.log)"
}
[ -f "$curl_prefix/lib/libcurl.a" ] || die "the build left no $curl_prefix/lib/libcurl.a"
grep -q '^#define USE_ARES 1' "$build/lib/curl_config.h" || die "curl was configured without c-ares"
if [ "$arch" = arm64 ]; then
  # The cross build's CMake finds libcurl through pkg-config, among the arm64 .pc files.
  (cd "$build" && make "${destdir[@]}" install-pkgconfigDATA >>make.log 2>&1) \
    || die "installing libcurl.pc failed (log: $build/make.log)"
  grep -q '^#define OS "aarch64-' "$build/lib/curl_config.h" || die "curl was not configured for aarch64"
  objects=$("$cross-objdump" -f "$curl_prefix/lib/libcurl.a")
  grep -q 'architecture: aarch64' <<<"$objects" || die "$curl_prefix/lib/libcurl.a holds no aarch64 objects"
  ! grep 'architecture:' <<<"$objects" | grep -qv 'architecture: aarch64' \
    || die "$curl_prefix/lib/libcurl.a holds objects of another architecture"
fi

# What went into it, for the package's notices and for anyone checking the cache.
cp "$tree/COPYING" "$curl_prefix/COPYING.curl"
{
  echo "curl (Debian source) $version"
  echo "cflags: $cflags"
  printf 'configure: %s\n' "${configure_args[*]}"
  [ "$arch" = x86_64 ] || printf 'cross: %s, %s\n' "$cross-gcc $("$cross-gcc" -dumpfullversion)" \
    "libc6-dev-arm64-cross $(dpkg-query -W -f '${Version}' libc6-dev-arm64-cross)"
  sh "$build/curl-config" --features | sed 's/^/feature: /'
  sh "$build/curl-config" --protocols | sed 's/^/protocol: /'
} >"$curl_prefix/BUILDINFO"
rm -rf "$build" "$src_dir"
touch "$prefix/.complete"
say "static libcurl ($arch) ready: $curl_prefix/lib/libcurl.a ($(du -k "$curl_prefix/lib/libcurl.a" | cut -f1) KiB)"
printf '%s\n' "$prefix"
