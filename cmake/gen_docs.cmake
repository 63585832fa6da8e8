# Writes the man page and the shell completions by running the built
# binary, whose tables (server/usage.c) are their one source.
# Usage: cmake -DBIN=path/to/mirrorstate -DOUT=dir -P gen_docs.cmake
file(MAKE_DIRECTORY ${OUT})
foreach(pair "manpage;mirrorstate.1" "completion;bash;mirrorstate.bash"
             "completion;zsh;_mirrorstate" "completion;fish;mirrorstate.fish")
  list(POP_BACK pair name)
  execute_process(COMMAND ${BIN} ${pair} OUTPUT_FILE ${OUT}/${name}.tmp
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${BIN} ${pair} failed (${rc})")
  endif()
  file(RENAME ${OUT}/${name}.tmp ${OUT}/${name})
endforeach()
# Man pages are installed compressed (Debian policy; man reads either).
# -n leaves the name and time out, so the build is reproducible.
execute_process(COMMAND gzip -n -9 -f ${OUT}/mirrorstate.1 RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip failed (${rc})")
endif()
