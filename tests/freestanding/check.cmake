# Compiles networks.cpp for one Cortex-M CPU (FLAGS, comma-separated) and checks the object file: no
# static constructors (.init_array), and no reference to the heap, exceptions or RTTI.
string(REPLACE "," ";" FLAGS "${FLAGS}")
execute_process(COMMAND ${CXX} -std=c++20 -mthumb ${FLAGS} -fno-exceptions -fno-rtti -Os
                        -Wall -Wextra -Wpedantic -Werror -I${INCLUDE} -c ${SOURCE} -o ${OBJECT}
                RESULT_VARIABLE result ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "arm-none-eabi-g++ ${FLAGS} failed:\n${err}")
endif()
execute_process(COMMAND ${OBJDUMP} -h ${OBJECT} OUTPUT_VARIABLE sections)
if(sections MATCHES "init_array|\\.ctors")
  message(FATAL_ERROR "the library emitted a static constructor:\n${sections}")
endif()
execute_process(COMMAND ${NM} -u ${OBJECT} OUTPUT_VARIABLE undefined)
foreach(symbol malloc free _Znwj _Znaj _ZdlPv __cxa_throw __cxa_allocate_exception __gxx_personality_v0 _ZTVN10__cxxabiv)
  string(FIND "${undefined}" "${symbol}" position)
  if(NOT position EQUAL -1)
    message(FATAL_ERROR "the object refers to ${symbol}:\n${undefined}")
  endif()
endforeach()
