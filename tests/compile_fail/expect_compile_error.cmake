# Compiles one snippet with -fsyntax-only and checks the outcome (run by CTest through `cmake -P`).
#
#   -DCOMPILER=<c++ compiler>  -DSOURCE=<snippet.cpp>  -DINCLUDES=<dir|dir|...>
#   -DSHOULD_FAIL=ON|OFF       ON: the snippet must not compile; OFF: it must compile (a control)
#   -DEXPECT=<regex>           ON only: the static_assert sentence the compiler must print
#   -DEXPECT_LAYER=<regex>     optional: the diagnostic must also name the faulty layer
#   -DDEFINES=<NAME|NAME=V|..> optional: -D macros (the `_fixed` variants define SPIKEFUSE_FIXED)
#
# A failing snippet must produce exactly one `error:` line, so that it fails only for the intended
# reason and not through a cascade or an unrelated mistake. Lists use `|` as separator because a `;`
# does not survive add_test's argument passing intact.
foreach(var COMPILER SOURCE INCLUDES SHOULD_FAIL)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "expect_compile_error.cmake: -D${var}=... is required")
  endif()
endforeach()
if(SHOULD_FAIL AND (NOT DEFINED EXPECT OR "${EXPECT}" STREQUAL ""))
  message(FATAL_ERROR "expect_compile_error.cmake: -DEXPECT=<regex> is required when SHOULD_FAIL is ON")
endif()
if(NOT EXISTS "${SOURCE}")
  message(FATAL_ERROR "expect_compile_error.cmake: no such snippet: ${SOURCE}")
endif()

set(args -std=c++20 -fsyntax-only -fdiagnostics-color=never)
string(REPLACE "|" ";" include_list "${INCLUDES}")
foreach(dir IN LISTS include_list)
  if(NOT IS_DIRECTORY "${dir}")
    message(FATAL_ERROR "expect_compile_error.cmake: include directory does not exist: ${dir}")
  endif()
  list(APPEND args "-I${dir}")
endforeach()
if(DEFINED DEFINES AND NOT "${DEFINES}" STREQUAL "")
  string(REPLACE "|" ";" define_list "${DEFINES}")
  foreach(def IN LISTS define_list)
    list(APPEND args "-D${def}")
  endforeach()
endif()

# LC_ALL=C: plain ASCII quotes in GCC's messages, whatever the caller's locale.
set(ENV{LC_ALL} C)
execute_process(COMMAND "${COMPILER}" ${args} "${SOURCE}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(output "${out}${err}")
string(REPLACE ";" "," cmdline "${COMPILER};${args};${SOURCE}")
string(REPLACE "," " " cmdline "${cmdline}")

if(NOT SHOULD_FAIL)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "control snippet failed to compile (exit ${rc}); the include paths or the "
                        "library are broken, so the compile-failure tests prove nothing.\n"
                        "command: ${cmdline}\n--- compiler output ---\n${output}")
  endif()
  message(STATUS "compiled as expected: ${SOURCE}")
  return()
endif()

if(rc EQUAL 0)
  message(FATAL_ERROR "snippet compiled, but it must be rejected with: ${EXPECT}\n"
                      "command: ${cmdline}\n--- compiler output ---\n${output}")
endif()
set(problems "")
if(NOT output MATCHES "${EXPECT}")
  string(APPEND problems "the output does not contain the expected message: ${EXPECT}\n")
endif()
if(DEFINED EXPECT_LAYER AND NOT "${EXPECT_LAYER}" STREQUAL "" AND NOT output MATCHES "${EXPECT_LAYER}")
  string(APPEND problems "the output does not name the faulty layer: ${EXPECT_LAYER}\n")
endif()
string(REGEX MATCHALL "error:" errors "${output}")
list(LENGTH errors n_errors)
if(NOT n_errors EQUAL 1)
  string(APPEND problems "expected exactly one error, got ${n_errors}\n")
endif()
if(problems)
  message(FATAL_ERROR "snippet was rejected, but not as expected:\n${problems}"
                      "command: ${cmdline}\n--- compiler output ---\n${output}")
endif()

# Echo the static_assert line so that ctest -V shows what a user would read.
string(REGEX MATCH "[^\n]*error:[^\n]*" first_error "${output}")
message(STATUS "rejected as expected: ${first_error}")
