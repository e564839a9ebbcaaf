# patlab_embed_file(<target> <file> <symbol>): compiles <file>'s bytes into <target> as
#   extern const unsigned char <symbol>[]; extern const unsigned int <symbol>_size;
# so the browser and the desktop build carry the same assets without a file system.
include_guard(GLOBAL)

function(patlab_embed_file target file symbol)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embedded_${symbol}.cpp")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DSYMBOL=${symbol}
            -P "${PROJECT_SOURCE_DIR}/cmake/patlab_embed_run.cmake"
    DEPENDS "${file}" "${PROJECT_SOURCE_DIR}/cmake/patlab_embed_run.cmake"
    COMMENT "Embedding ${file}")
  target_sources(${target} PRIVATE "${out}")
endfunction()
