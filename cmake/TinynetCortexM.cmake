# Bare-metal Cortex-M executables with tinynet's harness (targets/cortex-m), run under QEMU.
# For a build configured with the toolchain file cmake/arm-none-eabi.cmake:
#
#   list(APPEND CMAKE_MODULE_PATH <tinynet>/cmake)
#   include(TinynetCortexM)
#
# tinynet_add_cortex_m_executable(<name> SOURCES <file>... [CPU <cpu>] [STACK_SIZE <bytes>]
#                                 [OPTIMIZE <flags>] [NO_HEAP] [MAP])
#   Adds the executable <name> (<name>.elf): the sources, compiled and linked with the harness
#   (startup.cpp: vector table, Reset_Handler, faults; semihost.cpp: newlib system calls, linked
#   only if used) and the machine's linker script (cpus.json), -nostartfiles. The harness headers
#   (semihost.hpp, cycles.hpp, stack.hpp) are on its include path. Link tinynet::tinynet (or any
#   library) to it as usual.
#   CPU        must be the toolchain's TINYNET_CORTEX_M_CPU (the default): one build, one CPU.
#   STACK_SIZE bytes of stack (default: the linker script's, 64 KB on mps2, 4 KB on microbit).
#   OPTIMIZE   compile flags placed after CMake's per-configuration ones (default -O2, as build.py
#              and TFLM's kernels in anchors.md); OPTIMIZE "" keeps CMake's (Release: -O3).
#   NO_HEAP    after linking, fail if the image holds malloc, free, operator new/delete or
#              exception support (build.py --no-heap).
#   MAP        also write <name>.map (the linker's memory map).
#
# tinynet_add_qemu_test(NAME <test> ELF <target or path> [MACHINE <machine> | CPU <cpu>]
#                       [TIMEOUT <seconds>] [EXPECT_EXIT <status>] [WORKING_DIRECTORY <dir>])
#   Registers a ctest that runs the ELF under qemu-system-arm with targets/cortex-m/run.py
#   (-icount shift=6,align=off,sleep=off: cycles.hpp counts instructions as anchors.md did).
#   Passes if the program exits with EXPECT_EXIT (default 0: main returned 0). MACHINE (e.g.
#   mps2-an386) or CPU picks the QEMU machine; default: the toolchain's CPU. TIMEOUT defaults to 300.
#
# Both need Python 3 on the host (run.py and the NO_HEAP check are standard-library scripts).

include_guard(GLOBAL)

set(TINYNET_CORTEX_M_DIR ${CMAKE_CURRENT_LIST_DIR}/../targets/cortex-m)
get_filename_component(TINYNET_CORTEX_M_DIR ${TINYNET_CORTEX_M_DIR} ABSOLUTE)
find_program(TINYNET_CORTEX_M_PYTHON NAMES python3 REQUIRED)

# A field of cpus.json's row for <cpu>.
function(_tinynet_cortex_m_field out cpu field)
  file(READ ${TINYNET_CORTEX_M_DIR}/cpus.json json)
  string(JSON value ERROR_VARIABLE error GET "${json}" "${cpu}" "${field}")
  if(error)
    message(FATAL_ERROR "tinynet: no CPU '${cpu}' in ${TINYNET_CORTEX_M_DIR}/cpus.json")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

function(tinynet_add_cortex_m_executable name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_HEAP;MAP" "CPU;STACK_SIZE;OPTIMIZE" "SOURCES")
  if(NOT CMAKE_CROSSCOMPILING OR NOT CMAKE_SYSTEM_PROCESSOR STREQUAL "arm" OR NOT DEFINED TINYNET_CORTEX_M_CPU)
    message(FATAL_ERROR "tinynet_add_cortex_m_executable: configure with -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake")
  endif()
  if(NOT arg_CPU)
    set(arg_CPU ${TINYNET_CORTEX_M_CPU})
  elseif(NOT arg_CPU STREQUAL TINYNET_CORTEX_M_CPU)
    message(FATAL_ERROR "tinynet_add_cortex_m_executable(${name}): CPU ${arg_CPU}, but this build is for "
                        "${TINYNET_CORTEX_M_CPU}: configure another build directory with -DTINYNET_CORTEX_M_CPU=${arg_CPU}")
  endif()
  if(NOT DEFINED arg_OPTIMIZE)
    set(arg_OPTIMIZE -O2)
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "tinynet_add_cortex_m_executable(${name}): no SOURCES")
  endif()

  # The harness, compiled once per build directory.
  if(NOT TARGET tinynet_cortex_m_harness)
    _tinynet_cortex_m_field(timer ${arg_CPU} timer)
    _tinynet_cortex_m_field(timer_hz ${arg_CPU} timer_hz)
    string(TOUPPER "${timer}" timer)
    add_library(tinynet_cortex_m_harness OBJECT ${TINYNET_CORTEX_M_DIR}/startup.cpp ${TINYNET_CORTEX_M_DIR}/semihost.cpp)
    target_compile_features(tinynet_cortex_m_harness PUBLIC cxx_std_20)
    target_include_directories(tinynet_cortex_m_harness PUBLIC ${TINYNET_CORTEX_M_DIR})
    # Which timer cycles.hpp reads, and its clock (cpus.json).
    target_compile_definitions(tinynet_cortex_m_harness PUBLIC TINYNET_TIMER_${timer}=1 TINYNET_TIMER_HZ=${timer_hz})
    target_compile_options(tinynet_cortex_m_harness PRIVATE ${arg_OPTIMIZE})
  endif()

  _tinynet_cortex_m_field(script ${arg_CPU} linker_script)
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE tinynet_cortex_m_harness)
  target_compile_options(${name} PRIVATE ${arg_OPTIMIZE})
  # No crt0: the harness's Reset_Handler starts the program. -L: the linker script's directory.
  target_link_options(${name} PRIVATE -nostartfiles -L${TINYNET_CORTEX_M_DIR} -T${TINYNET_CORTEX_M_DIR}/${script})
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${TINYNET_CORTEX_M_DIR}/${script})
  if(arg_STACK_SIZE)
    target_link_options(${name} PRIVATE LINKER:--defsym,STACK_SIZE=${arg_STACK_SIZE})
  endif()
  if(arg_MAP)
    target_link_options(${name} PRIVATE LINKER:-Map=$<TARGET_FILE_DIR:${name}>/${name}.map)
  endif()
  if(arg_NO_HEAP)
    add_custom_command(TARGET ${name} POST_BUILD
                       COMMAND ${TINYNET_CORTEX_M_PYTHON} ${TINYNET_CORTEX_M_DIR}/build.py --no-heap $<TARGET_FILE:${name}>
                       VERBATIM)
  endif()
endfunction()

function(tinynet_add_qemu_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;ELF;MACHINE;CPU;TIMEOUT;EXPECT_EXIT;WORKING_DIRECTORY" "")
  if(NOT arg_NAME OR NOT arg_ELF)
    message(FATAL_ERROR "tinynet_add_qemu_test: NAME and ELF are required")
  endif()
  if(TARGET ${arg_ELF})
    set(elf $<TARGET_FILE:${arg_ELF}>)
  else()
    set(elf ${arg_ELF})
  endif()
  if(arg_MACHINE)
    set(which --machine ${arg_MACHINE})
  elseif(arg_CPU)
    set(which --cpu ${arg_CPU})
  elseif(DEFINED TINYNET_CORTEX_M_CPU)
    set(which --cpu ${TINYNET_CORTEX_M_CPU})
  else()
    set(which "")  # run.py reads the CPU from the ELF
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  if(NOT DEFINED arg_EXPECT_EXIT)
    set(arg_EXPECT_EXIT 0)
  endif()
  if(NOT arg_WORKING_DIRECTORY)
    set(arg_WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  add_test(NAME ${arg_NAME}
           COMMAND ${TINYNET_CORTEX_M_PYTHON} ${TINYNET_CORTEX_M_DIR}/run.py ${which} --timeout ${arg_TIMEOUT}
                   --expect-exit ${arg_EXPECT_EXIT} ${elf}
           WORKING_DIRECTORY ${arg_WORKING_DIRECTORY})
  math(EXPR ctest_timeout "${arg_TIMEOUT} + 30")
  set_tests_properties(${arg_NAME} PROPERTIES TIMEOUT ${ctest_timeout})
endfunction()
