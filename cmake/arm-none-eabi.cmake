# CMake toolchain file: bare-metal Cortex-M with Debian's arm-none-eabi-gcc 12 and newlib-nano.
#
#   cmake -S . -B build-m4 -DCMAKE_TOOLCHAIN_FILE=<tinynet>/cmake/arm-none-eabi.cmake \
#         -DTINYNET_CORTEX_M_CPU=cortex-m4
#
# TINYNET_CORTEX_M_CPU (cache): cortex-m0plus, cortex-m3, cortex-m4, cortex-m7 or cortex-m33. Its
# -mcpu/-mfpu/-mfloat-abi flags come from targets/cortex-m/cpus.json (the table build.py and run.py
# read too; the flags are cortex-m-facts.md's). Every target of the build gets them, plus the
# freestanding code-generation flags; no optimisation level is set here (see TinynetCortexM.cmake,
# whose helpers add -O2 like build.py). Programs then link with cmake/TinynetCortexM.cmake's
# tinynet_add_cortex_m_executable(), which adds the start-up code and the linker script.
# add_test(NAME t COMMAND <executable target>) runs the ELF under QEMU: CMAKE_CROSSCOMPILING_EMULATOR
# is targets/cortex-m/run.py.
# Needs CMake 3.19 (string(JSON)).

set(CMAKE_SYSTEM_NAME Generic)  # no operating system
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar CACHE FILEPATH "archiver")
set(CMAKE_RANLIB arm-none-eabi-ranlib CACHE FILEPATH "ranlib")
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "objcopy")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "size")

# CMake's compiler checks build a static library: a bare-metal executable would need our
# start-up code and linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(TINYNET_CORTEX_M_CPU cortex-m4 CACHE STRING "The Cortex-M CPU to build for (targets/cortex-m/cpus.json)")
set_property(CACHE TINYNET_CORTEX_M_CPU PROPERTY STRINGS cortex-m0plus cortex-m3 cortex-m4 cortex-m7 cortex-m33)
# try_compile projects re-read this file: hand them the choice.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TINYNET_CORTEX_M_CPU)

set(TINYNET_CORTEX_M_DIR ${CMAKE_CURRENT_LIST_DIR}/../targets/cortex-m)
get_filename_component(TINYNET_CORTEX_M_DIR ${TINYNET_CORTEX_M_DIR} ABSOLUTE)
file(READ ${TINYNET_CORTEX_M_DIR}/cpus.json _tinynet_cpus)
string(JSON _tinynet_row ERROR_VARIABLE _tinynet_error GET "${_tinynet_cpus}" "${TINYNET_CORTEX_M_CPU}")
if(_tinynet_error)
  message(FATAL_ERROR "TINYNET_CORTEX_M_CPU=${TINYNET_CORTEX_M_CPU}: not in ${TINYNET_CORTEX_M_DIR}/cpus.json "
                      "(cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33)")
endif()
string(JSON _tinynet_count LENGTH "${_tinynet_row}" flags)
set(_tinynet_cpu_flags "")
math(EXPR _tinynet_last "${_tinynet_count} - 1")
foreach(_i RANGE ${_tinynet_last})
  string(JSON _tinynet_flag GET "${_tinynet_row}" flags ${_i})
  string(APPEND _tinynet_cpu_flags " ${_tinynet_flag}")
endforeach()

# One section per function and object (so --gc-sections drops what is unused); for C++ no
# exceptions, no RTTI, no guards around local statics, no atexit registration of destructors
# (cortex-m-facts.md: this keeps a printf program near 10 KB); no fused multiply-add contraction, so
# float layers give the same bytes as on the host and at -O0 (docs/reliability.md).
set(CMAKE_C_FLAGS_INIT "${_tinynet_cpu_flags} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${_tinynet_cpu_flags} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit -ffp-contract=off")
set(CMAKE_ASM_FLAGS_INIT "${_tinynet_cpu_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -Wl,--gc-sections")
set(CMAKE_EXECUTABLE_SUFFIX_C .elf)
set(CMAKE_EXECUTABLE_SUFFIX_CXX .elf)
set(CMAKE_EXECUTABLE_SUFFIX_ASM .elf)

# Tests of cross-compiled executables run under QEMU.
set(CMAKE_CROSSCOMPILING_EMULATOR ${TINYNET_CORTEX_M_DIR}/run.py --cpu ${TINYNET_CORTEX_M_CPU})

# Programs (QEMU, Python) from the host; libraries and headers only from the toolchain.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
