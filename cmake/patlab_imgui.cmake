# Dear ImGui with the SDL2 and OpenGL3 backends, compiled from one source tree for both the
# native and the wasm build: patlab_imgui_core (the core) and patlab_imgui (core + backends).
# Also provides patlab_sdl2 and patlab_gl.
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

# SDL2 and OpenGL.
add_library(patlab_sdl2 INTERFACE)
add_library(patlab_gl INTERFACE)
if(EMSCRIPTEN)
  if(PATLAB_FETCH_DEPS)
    target_compile_options(patlab_sdl2 INTERFACE -sUSE_SDL=2)
    target_link_options(patlab_sdl2 INTERFACE -sUSE_SDL=2)
  else()
    set(PATLAB_SDL2_WASM_DIR "${PATLAB_CACHE_DIR}/sdl2-wasm" CACHE PATH "SDL2 built for wasm")
    if(NOT EXISTS "${PATLAB_SDL2_WASM_DIR}/lib/libSDL2.a")
      message(FATAL_ERROR "SDL2 for wasm not found in ${PATLAB_SDL2_WASM_DIR}: run scripts/setup.sh")
    endif()
    target_include_directories(patlab_sdl2 SYSTEM INTERFACE "${PATLAB_SDL2_WASM_DIR}/include/SDL2")
    target_link_libraries(patlab_sdl2 INTERFACE "${PATLAB_SDL2_WASM_DIR}/lib/libSDL2.a")
  endif()
  # WebGL2 only: ImGui's OpenGL3 backend speaks GLSL ES 3.00.
  target_link_options(patlab_gl INTERFACE -sMIN_WEBGL_VERSION=2 -sMAX_WEBGL_VERSION=2)
else()
  find_package(SDL2 REQUIRED)
  find_package(OpenGL REQUIRED)
  if(TARGET SDL2::SDL2)
    target_link_libraries(patlab_sdl2 INTERFACE SDL2::SDL2)
  else()
    target_include_directories(patlab_sdl2 SYSTEM INTERFACE ${SDL2_INCLUDE_DIRS})
    target_link_libraries(patlab_sdl2 INTERFACE ${SDL2_LIBRARIES})
  endif()
  target_link_libraries(patlab_gl INTERFACE OpenGL::GL ${CMAKE_DL_LIBS})
endif()

# The core alone (no backends, no SDL or GL): enough to build and inspect draw lists without a
# window, which is what the plotting library and its unit tests need (natively and in wasm).
add_library(patlab_imgui_core STATIC
  "${PATLAB_IMGUI_DIR}/imgui.cpp"
  "${PATLAB_IMGUI_DIR}/imgui_draw.cpp"
  "${PATLAB_IMGUI_DIR}/imgui_tables.cpp"
  "${PATLAB_IMGUI_DIR}/imgui_widgets.cpp")
target_include_directories(patlab_imgui_core SYSTEM PUBLIC "${PATLAB_IMGUI_DIR}")

# The SDL2 and OpenGL3 backends (and the demo window) on top of the core, which they link rather
# than compile again, so a program linking both has each ImGui symbol once.
add_library(patlab_imgui STATIC
  "${PATLAB_IMGUI_DIR}/imgui_demo.cpp"
  "${PATLAB_IMGUI_DIR}/backends/imgui_impl_sdl2.cpp"
  "${PATLAB_IMGUI_DIR}/backends/imgui_impl_opengl3.cpp")
target_include_directories(patlab_imgui SYSTEM PUBLIC "${PATLAB_IMGUI_DIR}/backends")
target_link_libraries(patlab_imgui PUBLIC patlab_imgui_core patlab_sdl2 patlab_gl)
