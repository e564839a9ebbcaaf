# Per-target compiler flags: warnings, sanitizers, and what every wasm target needs.
include_guard(GLOBAL)

# patlab_target_defaults(<target>): apply to every target the project itself compiles.
function(patlab_target_defaults target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wno-unused-parameter)
  endif()
  if(PATLAB_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

if(EMSCRIPTEN)
  # Every translation unit (ours, ImGui's, GoogleTest's) must agree on exceptions, so these
  # two are global. -fexceptions: errors such as a corrupt file must be catchable in the
  # browser too (emscripten's default turns every throw into an abort). Memory growth: batches
  # and data sets decide how much heap is needed, not the link.
  add_compile_options(-fexceptions)
  add_link_options(-fexceptions -sALLOW_MEMORY_GROWTH=1)
endif()
