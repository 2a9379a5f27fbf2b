# aarch64-linux-gnu.cmake — CMake toolchain file for the arm64 (Graviton) Lambda package:
# Debian's cross compiler (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross) and the arm64 root
# that `scripts/build-static-deps.sh --arch arm64` prints (Debian's arm64 -dev packages
# unpacked under ROOT/usr, the static libcurl installed into ROOT/usr). Used by the
# `static-arm64` preset; scripts/package.sh --arch arm64 passes USERS_CROSS_ROOT.
#
# Libraries, headers and pkg-config files come from ROOT only, never from the machine's own
# (x86-64) /usr/lib: a native archive can never slip into the arm64 link.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(USERS_CROSS_ROOT "" CACHE PATH
    "arm64 root printed by scripts/build-static-deps.sh --arch arm64 (Debian's -dev packages, libcurl)")
# try_compile projects read this file again: hand them the root too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES USERS_CROSS_ROOT)

if(USERS_CROSS_ROOT)
  set(CMAKE_FIND_ROOT_PATH "${USERS_CROSS_ROOT}")
  # The arm64 .pc files only, their -I/-L moved under the root.
  set(ENV{PKG_CONFIG_LIBDIR}
      "${USERS_CROSS_ROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${USERS_CROSS_ROOT}/usr/lib/pkgconfig:${USERS_CROSS_ROOT}/usr/share/pkgconfig")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${USERS_CROSS_ROOT}")
  # The arm64 headers (OpenSSL's configuration.h is per architecture) ahead of the machine's
  # /usr/include, which the cross compiler also searches; the root's path kept out of the bytes.
  set(CMAKE_C_FLAGS_INIT
      "-isystem ${USERS_CROSS_ROOT}/usr/include/aarch64-linux-gnu -isystem ${USERS_CROSS_ROOT}/usr/include -ffile-prefix-map=${USERS_CROSS_ROOT}=/")
endif()

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
