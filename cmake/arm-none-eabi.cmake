# CMake toolchain file for bare-metal Cortex-M with Debian's arm-none-eabi-gcc (newlib-nano).
#   cmake -S examples/baremetal -B build/baremetal --toolchain $PWD/cmake/arm-none-eabi.cmake \
#         -DTINYNET_CORTEX_M_CPU=cortex-m4
# TINYNET_CORTEX_M_CPU: cortex-m0plus, cortex-m3, cortex-m4 (default), cortex-m7 or cortex-m33;
# the flags are the ones ../shared/cortex-m-facts.md verified.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)  # no start-up code at configure time

set(TINYNET_CORTEX_M_CPU cortex-m4 CACHE STRING "Cortex-M CPU to build for")
set_property(CACHE TINYNET_CORTEX_M_CPU PROPERTY STRINGS cortex-m0plus cortex-m3 cortex-m4 cortex-m7 cortex-m33)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TINYNET_CORTEX_M_CPU)

if(TINYNET_CORTEX_M_CPU STREQUAL "cortex-m0plus")
  set(_cpu_flags "-mcpu=cortex-m0plus -mthumb -masm-syntax-unified")
elseif(TINYNET_CORTEX_M_CPU STREQUAL "cortex-m3")
  set(_cpu_flags "-mcpu=cortex-m3 -mthumb")
elseif(TINYNET_CORTEX_M_CPU STREQUAL "cortex-m4")
  set(_cpu_flags "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
elseif(TINYNET_CORTEX_M_CPU STREQUAL "cortex-m7")
  set(_cpu_flags "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16")
elseif(TINYNET_CORTEX_M_CPU STREQUAL "cortex-m33")
  set(_cpu_flags "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16 -DTINYNET_TIMER_HZ=20000000")
else()
  message(FATAL_ERROR "TINYNET_CORTEX_M_CPU=${TINYNET_CORTEX_M_CPU}: use cortex-m0plus, cortex-m3, cortex-m4, cortex-m7 or cortex-m33")
endif()

set(CMAKE_C_FLAGS_INIT "${_cpu_flags} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${_cpu_flags} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
