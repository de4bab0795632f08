# The README's install recipe: a plain configure of tinynet (no options: it must build nothing),
# cmake --install into a scratch prefix, then a consumer project that finds it with
# find_package(tinynet) through CMAKE_PREFIX_PATH, built and run.
file(REMOVE_RECURSE ${WORK})
foreach(step
    "${CMAKE_COMMAND};-S;${SOURCE};-B;${WORK}/build"
    "${CMAKE_COMMAND};--build;${WORK}/build"
    "${CMAKE_COMMAND};--install;${WORK}/build;--prefix;${WORK}/prefix"
    "${CMAKE_COMMAND};-S;${SOURCE}/tests/package/consumer;-B;${WORK}/consumer;-DCMAKE_PREFIX_PATH=${WORK}/prefix;-DCMAKE_CXX_COMPILER=${CXX}"
    "${CMAKE_COMMAND};--build;${WORK}/consumer"
    "${WORK}/consumer/consumer")
  execute_process(COMMAND ${step} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "step failed: ${step}\n${out}\n${err}")
  endif()
endforeach()
# A plain configure of a header-only library must not have configured tests or Cortex-M images.
if(EXISTS ${WORK}/build/tests)
  message(FATAL_ERROR "a plain 'cmake -S tinynet' configured the tests (TINYNET_BUILD_TESTS must default to OFF)")
endif()
