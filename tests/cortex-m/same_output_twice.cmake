# cmake "-DRUN=<python3;run.py>" -DELF=<elf> -P same_output_twice.cmake
# Runs the ELF twice under QEMU: both runs must succeed and print the same text (anchors.md:
# -icount makes the instruction counts identical run after run).
foreach(i 1 2)
  execute_process(COMMAND ${RUN} --timeout 120 ${ELF} RESULT_VARIABLE status OUTPUT_VARIABLE output${i})
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "run ${i} of ${ELF} exited with ${status}:\n${output${i}}")
  endif()
endforeach()
if(NOT output1 STREQUAL output2)
  message(FATAL_ERROR "two runs of ${ELF} differ:\n--- first\n${output1}--- second\n${output2}")
endif()
message(STATUS "two runs, identical output:\n${output1}")
