# Dear ImGui's SDL2 and OpenGL3 backends, SDL2 and OpenGL: only the platform layer (platform/)
# includes this, so the lab's model and view build without a window system (the sanitizer
# build, the headless lesson checker). Provides patlab_imgui (core + backends), patlab_sdl2 and
# patlab_gl.
include_guard(GLOBAL)
include(patlab_imgui)

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

# The SDL2 and OpenGL3 backends (and the demo window) on top of the core, which they link rather
# than compile again, so a program linking both has each ImGui symbol once.
add_library(patlab_imgui STATIC
  "${PATLAB_IMGUI_DIR}/imgui_demo.cpp"
  "${PATLAB_IMGUI_DIR}/backends/imgui_impl_sdl2.cpp"
  "${PATLAB_IMGUI_DIR}/backends/imgui_impl_opengl3.cpp")
target_include_directories(patlab_imgui SYSTEM PUBLIC "${PATLAB_IMGUI_DIR}/backends")
target_link_libraries(patlab_imgui PUBLIC patlab_imgui_core patlab_sdl2 patlab_gl)
