#!/usr/bin/env bash
# Builds the one dependency Debian does not ship in a statically linkable form: a minimal
# libcurl.a (HTTP and HTTPS only, OpenSSL, c-ares for name resolution), from Debian's own
# source package with Debian's patches. Everything else the static bootstrap links is
# Debian's own .a (libssl, libcrypto, libcares, libjansson, libuuid).
#
#   scripts/build-static-deps.sh [OUT_DIR]     (default build/deps)
#
# Prints the install prefix (OUT_DIR/curl-<debian version>-<options hash>) as its last line.
# The result is cached under that name: a rerun with the same source version and options
# does nothing. Debian's source is fetched with a private apt configuration (its own
# sources list with `Types: deb-src`, its own lists and caches under OUT_DIR/apt), so the
# machine's apt setup is never touched.
#
# Environment: USERS_CURL_VERSION=<debian version> to pin another source version (default:
# the installed libcurl4-openssl-dev's, so the static library carries the same patches as
# the system's).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
say_fd=2

out=${1:-build/deps}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in apt-get dpkg-source dpkg-query gcc make pkg-config sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (scripts/deps.sh installs it)"
done
for a in libssl.a libcrypto.a libcares.a; do
  [ -f "/usr/lib/$(gcc -dumpmachine)/$a" ] \
    || die "/usr/lib/$(gcc -dumpmachine)/$a is missing: apt-get install libssl-dev libc-ares-dev"
done

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
key=$(printf '%s\n' "$version" "$cflags" "${configure_args[@]}" | sha256sum | cut -c1-12)
prefix="$out/curl-${version//[^A-Za-z0-9.+~-]/_}-$key"

if [ -f "$prefix/.complete" ]; then
  say "static libcurl $version is cached: $prefix"
  printf '%s\n' "$prefix"
  exit 0
fi

# ---- Debian's source package, through a private apt configuration ----
apt_dir="$out/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
system_sources=/etc/apt/sources.list.d/debian.sources
[ -f "$system_sources" ] || die "$system_sources is missing: cannot derive a deb-src entry"
# The same archives, suites and keys as the machine uses; only the type changes.
sed -E 's/^Types:.*/Types: deb-src/' "$system_sources" >"$apt_dir/sources.list.d/debian-src.sources"
apt_opts=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root"
)
say "apt-get update (private deb-src lists in $apt_dir)"
apt-get "${apt_opts[@]}" update -qq >&2 \
  || die "apt-get update of the deb-src lists failed: is Debian's package archive reachable?"

src_dir="$out/src"
rm -rf "$src_dir"
mkdir -p "$src_dir"
say "apt-get source curl=$version"
if ! (cd "$src_dir" && apt-get "${apt_opts[@]}" source -qq "curl=$version" >&2); then
  [ -z "${USERS_CURL_VERSION:-}" ] || die "curl source version $version is not in the archive"
  say "curl=$version is not in the archive any more; taking the newest source instead"
  (cd "$src_dir" && apt-get "${apt_opts[@]}" source -qq curl >&2) \
    || die "apt-get source curl failed"
  version=$(cd "$src_dir" && dpkg-parsechangelog -l curl-*/debian/changelog -S Version)
  key=$(printf '%s\n' "$version" "$cflags" "${configure_args[@]}" | sha256sum | cut -c1-12)
  prefix="$out/curl-${version//[^A-Za-z0-9.+~-]/_}-$key"
fi
tree=$(find "$src_dir" -mindepth 1 -maxdepth 1 -type d -name 'curl-*' | head -n1)
{ [ -n "$tree" ] && [ -x "$tree/configure" ]; } || die "no unpacked curl source with a configure script in $src_dir"

# ---- configure and build the library only (not the curl tool) ----
say "configure curl $version → $prefix"
rm -rf "$prefix"
build="$out/build-curl"
rm -rf "$build"
mkdir -p "$build"
# Reproducible objects: no build paths, fixed timestamps in the archive.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
(cd "$build" && "$tree/configure" --prefix="$prefix" "${configure_args[@]}" \
  CFLAGS="$cflags -ffile-prefix-map=$tree=curl -ffile-prefix-map=$build=curl" \
  >configure.log 2>&1) || {
  tail -n 40 "$build/configure.log" >&2
  die "curl's configure failed (log: $build/configure.log)"
}
say "make (lib only, -j$(nproc))"
(cd "$build" && make -C lib -j"$(nproc)" >make.log 2>&1 && make -C lib install >>make.log 2>&1 \
  && make -C include install >>make.log 2>&1) || {
  tail -n 40 "$build/make.log" >&2
  die "building libcurl failed (log: $build/make.log)"
}
[ -f "$prefix/lib/libcurl.a" ] || die "the build left no $prefix/lib/libcurl.a"
grep -q '^#define USE_ARES 1' "$build/lib/curl_config.h" || die "curl was configured without c-ares"

# What went into it, for the package's notices and for anyone checking the cache.
cp "$tree/COPYING" "$prefix/COPYING.curl"
{
  echo "curl (Debian source) $version"
  echo "cflags: $cflags"
  printf 'configure: %s\n' "${configure_args[*]}"
  sh "$build/curl-config" --features | sed 's/^/feature: /'
  sh "$build/curl-config" --protocols | sed 's/^/protocol: /'
} >"$prefix/BUILDINFO"
rm -rf "$build" "$src_dir"
touch "$prefix/.complete"
say "static libcurl ready: $prefix/lib/libcurl.a ($(du -k "$prefix/lib/libcurl.a" | cut -f1) KiB)"
printf '%s\n' "$prefix"
