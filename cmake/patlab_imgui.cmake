# Dear ImGui's core (patlab_imgui_core: no window, no SDL or GL), compiled from one source tree
# for the native and the wasm build. The SDL2 and OpenGL3 backends are in
# patlab_imgui_backends.cmake, which only the platform layer (platform/) includes.
#
# Sources: PATLAB_IMGUI_DIR (default: the Debian source package fetched by scripts/setup.sh),
# or, with PATLAB_FETCH_DEPS, a pinned release from GitHub.
include_guard(GLOBAL)

set(PATLAB_IMGUI_DIR "${PATLAB_CACHE_DIR}/imgui" CACHE PATH "Dear ImGui source tree (1.90.x)")
if(NOT EXISTS "${PATLAB_IMGUI_DIR}/backends/imgui_impl_sdl2.cpp")
  if(PATLAB_FETCH_DEPS)
    include(FetchContent)
    FetchContent_Declare(imgui GIT_REPOSITORY https://github.com/ocornut/imgui.git
                               GIT_TAG v1.90.1 GIT_SHALLOW TRUE)
    FetchContent_MakeAvailable(imgui)
    set(PATLAB_IMGUI_DIR "${imgui_SOURCE_DIR}" CACHE PATH "" FORCE)
  else()
    message(FATAL_ERROR "Dear ImGui sources not found in ${PATLAB_IMGUI_DIR}: run scripts/setup.sh, "
                        "set PATLAB_IMGUI_DIR, or configure with -DPATLAB_FETCH_DEPS=ON (needs internet)")
  endif()
endif()

# The core alone (no backends, no SDL or GL): enough to build and inspect draw lists without a
# window, which is what the plotting library and its unit tests need (natively and in wasm).
add_library(patlab_imgui_core STATIC
  "${PATLAB_IMGUI_DIR}/imgui.cpp"
  "${PATLAB_IMGUI_DIR}/imgui_draw.cpp"
  "${PATLAB_IMGUI_DIR}/imgui_tables.cpp"
  "${PATLAB_IMGUI_DIR}/imgui_widgets.cpp")
target_include_directories(patlab_imgui_core SYSTEM PUBLIC "${PATLAB_IMGUI_DIR}")
