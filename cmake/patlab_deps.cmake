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

find_path(PATLAB_JSON_PARENT nlohmann/json.hpp HINTS /usr/include /usr/local/include
  NO_CMAKE_FIND_ROOT_PATH)
if(NOT PATLAB_JSON_PARENT)
  message(FATAL_ERROR "nlohmann-json not found: run scripts/setup.sh (nlohmann-json3-dev)")
endif()
set(_stage "${CMAKE_BINARY_DIR}/third_party_include")
file(MAKE_DIRECTORY "${_stage}")
file(CREATE_LINK "${PATLAB_JSON_PARENT}/nlohmann" "${_stage}/nlohmann" SYMBOLIC)
add_library(patlab_json INTERFACE)
target_include_directories(patlab_json SYSTEM INTERFACE "${_stage}")
add_library(patlab::json ALIAS patlab_json)

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
find_path(PATLAB_CLI11_PARENT CLI/CLI.hpp HINTS /usr/include /usr/local/include
  NO_CMAKE_FIND_ROOT_PATH)
if(NOT PATLAB_CLI11_PARENT)
  message(FATAL_ERROR "CLI11 not found: run scripts/setup.sh (Debian package libcli11-dev)")
endif()
file(CREATE_LINK "${PATLAB_CLI11_PARENT}/CLI" "${_stage}/CLI" SYMBOLIC)
add_library(patlab_cli11 INTERFACE)
target_include_directories(patlab_cli11 SYSTEM INTERFACE "${_stage}")
add_library(patlab::cli11 ALIAS patlab_cli11)
