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
  # WebAssembly SIMD (128-bit): lets the compiler vectorise loops (about 1.3x on the PAT
  # reference experiment). Every current browser runs it (Chrome 91, Firefox 89, Safari 16.4
  # and later), as does node 16 and later.
  add_compile_options(-msimd128)
endif()

if(PATLAB_NATIVE_ARCH AND NOT EMSCRIPTEN AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  # Global, so Eigen's products inlined into every target use the same instruction set.
  add_compile_options(-march=native)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 warns about its own AVX-512 intrinsics inside Eigen's kernels (a known false
    # positive in avx512fintrin.h, not our code).
    add_compile_options(-Wno-maybe-uninitialized -Wno-uninitialized)
  endif()
endif()
