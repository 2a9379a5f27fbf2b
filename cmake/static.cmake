# static.cmake — links `bootstrap` with no shared library at all (not even libc), so the same
# file runs on Lambda's provided.al2023 and provided.al2 (glibc 2.26) whatever the build
# machine's glibc is. Included by CMakeLists.txt when USERS_STATIC is ON; scripts/package.sh
# is the way in (it builds the static libcurl first and passes its prefix).
#
# What is linked: the minimal libcurl.a from scripts/build-static-deps.sh (HTTP/HTTPS,
# OpenSSL, c-ares), and Debian's own libssl.a, libcrypto.a, libcares.a, libjansson.a,
# libuuid.a. Name resolution is c-ares's (reads /etc/resolv.conf and /etc/hosts itself), so
# glibc's getaddrinfo and its dlopen()ed NSS modules are never used at run time.

set(USERS_STATIC_CURL_PREFIX "" CACHE PATH
    "Install prefix of the static libcurl built by scripts/build-static-deps.sh")
option(USERS_STATIC_PIE "Link a static position-independent executable (ASLR for the binary)" ON)

if(NOT USERS_STATIC_CURL_PREFIX OR NOT EXISTS "${USERS_STATIC_CURL_PREFIX}/lib/libcurl.a")
  message(FATAL_ERROR
    "USERS_STATIC needs USERS_STATIC_CURL_PREFIX: the prefix printed by "
    "scripts/build-static-deps.sh, holding lib/libcurl.a (got '${USERS_STATIC_CURL_PREFIX}'). "
    "Debian's own libcurl cannot be linked statically; scripts/package.sh does all of this.")
endif()

# Debian's archives, found by exact file name so a shared object can never slip in.
set(users_static_archives)
foreach(lib ssl crypto cares jansson uuid)
  find_library(USERS_STATIC_LIB_${lib} NAMES lib${lib}.a NO_CACHE)
  if(NOT USERS_STATIC_LIB_${lib})
    message(FATAL_ERROR "lib${lib}.a not found: install Debian's -dev package for ${lib} "
                        "(libssl-dev, libc-ares-dev, libjansson-dev, uuid-dev)")
  endif()
  list(APPEND users_static_archives "${USERS_STATIC_LIB_${lib}}")
endforeach()

# Compile against the headers of the libcurl we link, ahead of Debian's.
target_include_directories(users_core BEFORE PUBLIC "${USERS_STATIC_CURL_PREFIX}/include")
# Sections per function so the linker can drop what is unused; no build paths in the bytes.
set(users_static_cflags -ffunction-sections -fdata-sections
    "-ffile-prefix-map=${CMAKE_SOURCE_DIR}=." "-ffile-prefix-map=${CMAKE_BINARY_DIR}=build")
target_compile_options(users_core PRIVATE ${users_static_cflags})
target_compile_options(bootstrap PRIVATE ${users_static_cflags})

# Replace what consumers of users_core link (the pkg-config targets name shared libraries)
# with the archives, in dependency order. users_core's own compile flags are unchanged.
set_property(TARGET users_core PROPERTY INTERFACE_LINK_LIBRARIES
             "${USERS_STATIC_CURL_PREFIX}/lib/libcurl.a" ${users_static_archives})

if(USERS_STATIC_PIE)
  set(users_static_flag -static-pie)
else()
  set(users_static_flag -static)
endif()
# --build-id=none and no RPATH: the bytes depend on the sources and the toolchain only.
target_link_options(bootstrap PRIVATE ${users_static_flag} -Wl,--gc-sections -Wl,-O1
                    -Wl,--build-id=none -Wl,-z,relro,-z,now -Wl,-z,noexecstack)
set_target_properties(bootstrap PROPERTIES SKIP_BUILD_RPATH ON)
message(STATUS "bootstrap: ${users_static_flag} with ${USERS_STATIC_CURL_PREFIX}/lib/libcurl.a")
