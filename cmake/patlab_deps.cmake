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
