# Helpers shared by the CMake files: per-architecture include paths and the sanitizers of the native build.

if(ROAM_ARCH STREQUAL "arm64")
  set(ROAM_TRIPLET aarch64-linux-gnu)
  set(ROAM_SYSROOT "${ROAM_CACHE}/sysroot-arm64")
elseif(ROAM_ARCH STREQUAL "loongarch64")
  set(ROAM_TRIPLET loongarch64-linux-gnu)
  set(ROAM_SYSROOT "${ROAM_CACHE}/sysroot-loong64")
endif()

# libfdt: the host's for native builds, the cached Debian package of the target otherwise.
if(ROAM_ARCH STREQUAL "native")
  find_library(ROAM_LIBFDT NAMES fdt REQUIRED)
  set(ROAM_LIBFDT_INCLUDE "")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  if(ROAM_FUZZ)
    add_compile_options(-fsanitize=fuzzer-no-link) # coverage for libFuzzer in everything; harnesses link it
  endif()
else()
  set(ROAM_LIBFDT "${ROAM_SYSROOT}/usr/lib/${ROAM_TRIPLET}/libfdt.a")
  set(ROAM_LIBFDT_INCLUDE "${ROAM_SYSROOT}/usr/include")
  if(NOT EXISTS "${ROAM_LIBFDT}")
    message(FATAL_ERROR "${ROAM_LIBFDT} not found: run tools/setup")
  endif()
  include_directories(SYSTEM "${ROAM_UAPI}" "${ROAM_UAPI}/${ROAM_TRIPLET}")
endif()

# libjansson (the JSON files of migration targets and the control API): the host's for native builds, the cached
# Debian package of the target for arm64 and loongarch64, as for libfdt.
if(ROAM_ARCH STREQUAL "native")
  find_library(ROAM_LIBJANSSON NAMES jansson)
  find_path(ROAM_JANSSON_H NAMES jansson.h)
  if(NOT ROAM_LIBJANSSON OR NOT ROAM_JANSSON_H)
    message(FATAL_ERROR "libjansson not found: install libjansson-dev (tools/setup does)")
  endif()
  set(ROAM_LIBJANSSON_INCLUDE "")
else()
  set(ROAM_LIBJANSSON "${ROAM_SYSROOT}/usr/lib/${ROAM_TRIPLET}/libjansson.a")
  set(ROAM_LIBJANSSON_INCLUDE "${ROAM_SYSROOT}/usr/include")
  if(NOT EXISTS "${ROAM_LIBJANSSON}")
    message(FATAL_ERROR "${ROAM_LIBJANSSON} not found: run tools/setup (it installs libjansson-dev for ${ROAM_ARCH})")
  endif()
endif()

# roam_add_unit_test(NAME SOURCES... [LIBS ...]): a unit test (no /dev/kvm), run under the cross emulator when
# cross-compiling.
function(roam_add_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "unit;${ROAM_ARCH}" TIMEOUT 60)
endfunction()
