# cmake -DSOURCE=<this dir> -DBINARY=<build dir> -DTOOLCHAIN=<cmake/arm-none-eabi.cmake> -DCPU=<cpu> -P check.cmake
# Configures the project with the toolchain file, builds it and runs its tests; prints the
# output of a failing step only.
macro(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " shown "${ARGN}")
    message(FATAL_ERROR "failed (${status}): ${shown}\n${output}")
  endif()
endmacro()
file(REMOVE_RECURSE ${BINARY})
step(${CMAKE_COMMAND} -S ${SOURCE} -B ${BINARY} --toolchain ${TOOLCHAIN} -DTINYNET_CORTEX_M_CPU=${CPU})
step(${CMAKE_COMMAND} --build ${BINARY})
step(${CMAKE_CTEST_COMMAND} --test-dir ${BINARY} --output-on-failure)
message(STATUS "configured, built and tested ${SOURCE} for ${CPU} with ${TOOLCHAIN}")
