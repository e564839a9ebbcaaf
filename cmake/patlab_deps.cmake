# Header-only dependencies from Debian, usable by both the native and the wasm build.
#
# The wasm build must never see /usr/include (glibc's headers would shadow emscripten's
# libc), so header trees are exposed one library at a time: Eigen from its own folder, and
# nlohmann-json through a staging folder that holds only a link to it.
include_guard(GLOBAL)

find_path(PATLAB_EIGEN_DIR Eigen/Core
  HINTS /usr/include/eigen3 /usr/local/include/eigen3
  NO_CMAKE_FIND_ROOT_PATH)
if(NOT PATLAB_EIGEN_DIR)
  message(FATAL_ERROR "Eigen 3 not found: run scripts/setup.sh (Debian package libeigen3-dev)")
endif()
add_library(patlab_eigen INTERFACE)
target_include_directories(patlab_eigen SYSTEM INTERFACE "${PATLAB_EIGEN_DIR}")
# Results must not depend on the platform's choice of vectorisation more than necessary.
target_compile_definitions(patlab_eigen INTERFACE EIGEN_MPL2_ONLY)
add_library(patlab::eigen ALIAS patlab_eigen)

# A header-only library from /usr/include exposed without the rest of /usr/include: finds the
# folder holding <dir>/<header> (cached as <parent_var>), links <dir> into the staging folder
# and makes the interface library patlab_<name> (alias patlab::<name>) that includes it.
set(_stage "${CMAKE_BINARY_DIR}/third_party_include")
file(MAKE_DIRECTORY "${_stage}")
function(patlab_staged_headers name parent_var dir header what debian_package)
  find_path(${parent_var} ${dir}/${header} HINTS /usr/include /usr/local/include
    NO_CMAKE_FIND_ROOT_PATH)
  if(NOT ${parent_var})
    message(FATAL_ERROR "${what} not found: run scripts/setup.sh (Debian package ${debian_package})")
  endif()
  file(CREATE_LINK "${${parent_var}}/${dir}" "${_stage}/${dir}" SYMBOLIC)
  add_library(patlab_${name} INTERFACE)
  target_include_directories(patlab_${name} SYSTEM INTERFACE "${_stage}")
  add_library(patlab::${name} ALIAS patlab_${name})
endfunction()

patlab_staged_headers(json PATLAB_JSON_PARENT nlohmann json.hpp nlohmann-json nlohmann-json3-dev)

# zlib: Debian's natively; in wasm the copy scripts/setup.sh compiled into the cache.
add_library(patlab_zlib INTERFACE)
if(EMSCRIPTEN)
  set(PATLAB_ZLIB_WASM_DIR "${PATLAB_CACHE_DIR}/zlib-wasm" CACHE PATH "zlib built for wasm")
  if(NOT EXISTS "${PATLAB_ZLIB_WASM_DIR}/lib/libz.a")
    message(FATAL_ERROR "zlib for wasm not found in ${PATLAB_ZLIB_WASM_DIR}: run scripts/setup.sh")
  endif()
  target_include_directories(patlab_zlib SYSTEM INTERFACE "${PATLAB_ZLIB_WASM_DIR}/include")
  target_link_libraries(patlab_zlib INTERFACE "${PATLAB_ZLIB_WASM_DIR}/lib/libz.a")
else()
  find_package(ZLIB REQUIRED)
  target_link_libraries(patlab_zlib INTERFACE ZLIB::ZLIB)
endif()
add_library(patlab::zlib ALIAS patlab_zlib)

# CLI11 (header-only command lines), staged like nlohmann-json so the wasm build can use it
# for tools that run under node (the data packer) without seeing the rest of /usr/include.
patlab_staged_headers(cli11 PATLAB_CLI11_PARENT CLI CLI.hpp CLI11 libcli11-dev)
