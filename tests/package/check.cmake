# Installs tinynet into a scratch prefix, then configures, builds and runs a consumer project
# that finds it with find_package(tinynet).
file(REMOVE_RECURSE ${WORK})
foreach(step
    "${CMAKE_COMMAND};-S;${SOURCE};-B;${WORK}/build;-DTINYNET_BUILD_TESTS=OFF;-DCMAKE_INSTALL_PREFIX=${WORK}/prefix"
    "${CMAKE_COMMAND};--install;${WORK}/build"
    "${CMAKE_COMMAND};-S;${SOURCE}/tests/package/consumer;-B;${WORK}/consumer;-DCMAKE_PREFIX_PATH=${WORK}/prefix;-DCMAKE_CXX_COMPILER=${CXX}"
    "${CMAKE_COMMAND};--build;${WORK}/consumer"
    "${WORK}/consumer/consumer")
  execute_process(COMMAND ${step} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "step failed: ${step}\n${out}\n${err}")
  endif()
endforeach()
