# Compiles SOURCE (expected to fail) and checks that the compiler's output contains every line of
# the source that starts with "// expect: " and none that starts with "// forbid: " (follow-on
# errors that must not appear).
file(STRINGS ${SOURCE} expectations REGEX "^// expect: ")
file(STRINGS ${SOURCE} forbidden REGEX "^// forbid: ")
execute_process(COMMAND ${COMPILER} -std=c++20 -fsyntax-only -I${INCLUDE} ${SOURCE}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
foreach(line ${expectations})
  string(REPLACE "// expect: " "" needle "${line}")
  string(FIND "${out}${err}" "${needle}" position)
  if(position EQUAL -1)
    message(FATAL_ERROR "the compiler's error for ${SOURCE} does not mention '${needle}':\n${err}")
  endif()
endforeach()
foreach(line ${forbidden})
  string(REPLACE "// forbid: " "" needle "${line}")
  string(FIND "${out}${err}" "${needle}" position)
  if(NOT position EQUAL -1)
    message(FATAL_ERROR "the compiler's error for ${SOURCE} mentions '${needle}', which it must not:\n${err}")
  endif()
endforeach()
