# Runs the training binary once and checks its exit code and its output (stdout and stderr together).
#
#   cmake -DEXE=<binary> -DARGS="<args>" -DEXPECT_RC=<n|nonzero> -DEXPECT=<regex> [options] -P run_cli.cmake
#
# ARGS        the arguments, separated by spaces (UNIX shell quoting); @WORK@ and @OUT@ are replaced
#             by WORK and OUT.
# EXPECT_RC   the exit code, or "nonzero".
# EXPECT      a CMake regex that stdout followed by stderr must match (a `;` cannot be passed: use `.`).
# EXPECT_ALSO optional second regex that the output must match as well.
# EXPECT_NOT  optional regex that the output must NOT match.
# WORK        this test's scratch directory; removed and recreated before the run.
# OUT         an --out-dir shared by a chain of tests (CTest fixtures); kept unless FRESH_OUT is ON.
# SETUP       comma-separated steps before the run:
#               valid | bad_magic | truncated_images | label_out_of_range | count_mismatch | small_images
#                   write that IDX data set into @WORK@/data (needs MAKE_IDX, the cli_make_idx helper)
#               empty_data          create @WORK@/data with nothing in it
#               corrupt_checkpoint  invert 8 bytes in the middle of @OUT@/checkpoint.bin
# UNCHANGED   a file that must exist before the run and have the same bytes after it (in UNCHANGED,
#             ABSENT and CHECK_FILE, too, @WORK@ and @OUT@ stand for WORK and OUT).
# ABSENT      a file that must not exist after the run.
# CHECK_FILE, CHECK_MATCH   after the run, CHECK_FILE must exist and its text match the regex CHECK_MATCH.
# NEEDS       gpu | no_gpu: run only where an NVIDIA driver's /dev/nvidiactl is there (gpu) or is
#             not (no_gpu); elsewhere print "SKIPPED: ..." before running anything, which the test's
#             SKIP_REGULAR_EXPRESSION turns into CTest's "Skipped". The binary's own output can never
#             make a test skip.
cmake_minimum_required(VERSION 3.25)

foreach(var EXE EXPECT_RC EXPECT WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_cli.cmake: -D${var}=... is required")
  endif()
endforeach()

if(DEFINED NEEDS)
  if(EXISTS /dev/nvidiactl)
    set(_have_gpu_driver ON)
  else()
    set(_have_gpu_driver OFF)
  endif()
  if((NEEDS STREQUAL "gpu" AND NOT _have_gpu_driver) OR (NEEDS STREQUAL "no_gpu" AND _have_gpu_driver))
    message("SKIPPED: this test needs ${NEEDS} (/dev/nvidiactl present: ${_have_gpu_driver})")
    return()
  endif()
endif()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
if(DEFINED OUT AND FRESH_OUT)
  file(REMOVE_RECURSE "${OUT}")
endif()

# ---- setup --------------------------------------------------------------------------------------
if(DEFINED SETUP AND NOT SETUP STREQUAL "")
  string(REPLACE "," ";" steps "${SETUP}")
  foreach(step IN LISTS steps)
    if(step STREQUAL "empty_data")
      file(MAKE_DIRECTORY "${WORK}/data")
    elseif(step STREQUAL "corrupt_checkpoint")
      if(NOT EXISTS "${OUT}/checkpoint.bin")
        message(FATAL_ERROR "setup corrupt_checkpoint: ${OUT}/checkpoint.bin does not exist (did the fixture run?)")
      endif()
      execute_process(COMMAND "${MAKE_IDX}" corrupt "${OUT}/checkpoint.bin" RESULT_VARIABLE src)
      if(NOT src EQUAL 0)
        message(FATAL_ERROR "setup corrupt_checkpoint failed (${src})")
      endif()
    else()
      if(NOT DEFINED MAKE_IDX)
        message(FATAL_ERROR "setup ${step} needs -DMAKE_IDX=<cli_make_idx>")
      endif()
      execute_process(COMMAND "${MAKE_IDX}" "${step}" "${WORK}/data" RESULT_VARIABLE src)
      if(NOT src EQUAL 0)
        message(FATAL_ERROR "setup ${step} failed (${src})")
      endif()
    endif()
  endforeach()
endif()

# The file options name paths as ARGS does: @WORK@ and @OUT@ stand for this test's folders.
foreach(var UNCHANGED ABSENT CHECK_FILE)
  if(DEFINED ${var})
    string(REPLACE "@WORK@" "${WORK}" ${var} "${${var}}")
    if(DEFINED OUT)
      string(REPLACE "@OUT@" "${OUT}" ${var} "${${var}}")
    endif()
    if(${var} MATCHES "@(WORK|OUT)@")
      message(FATAL_ERROR "run_cli.cmake: ${var} '${${var}}' names a folder this test does not have")
    endif()
  endif()
endforeach()

if(DEFINED UNCHANGED)
  if(NOT EXISTS "${UNCHANGED}")
    message(FATAL_ERROR "${UNCHANGED} must exist before the run")
  endif()
  file(SHA256 "${UNCHANGED}" hash_before)
endif()

# ---- run ----------------------------------------------------------------------------------------
# Split first, substitute after, so that paths with spaces stay one argument.
separate_arguments(raw_args UNIX_COMMAND "${ARGS}")
set(args "")
foreach(a IN LISTS raw_args)
  string(REPLACE "@WORK@" "${WORK}" a "${a}")
  if(DEFINED OUT)
    string(REPLACE "@OUT@" "${OUT}" a "${a}")
  endif()
  list(APPEND args "${a}")
endforeach()
list(JOIN args " " args_string)

execute_process(COMMAND "${EXE}" ${args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                WORKING_DIRECTORY "${WORK}")
set(output "${out}${err}")

set(failures "")
if(EXPECT_RC STREQUAL "nonzero")
  if(rc EQUAL 0 OR NOT rc MATCHES "^[0-9]+$")
    string(APPEND failures "  exit code: expected non-zero, got '${rc}'\n")
  endif()
elseif(NOT rc STREQUAL EXPECT_RC)
  string(APPEND failures "  exit code: expected ${EXPECT_RC}, got '${rc}'\n")
endif()
if(NOT output MATCHES "${EXPECT}")
  string(APPEND failures "  output does not match the regex: ${EXPECT}\n")
endif()
if(DEFINED EXPECT_ALSO AND NOT output MATCHES "${EXPECT_ALSO}")
  string(APPEND failures "  output does not match the regex: ${EXPECT_ALSO}\n")
endif()
if(DEFINED EXPECT_NOT AND output MATCHES "${EXPECT_NOT}")
  string(APPEND failures "  output matches the forbidden regex: ${EXPECT_NOT}\n")
endif()
if(DEFINED UNCHANGED)
  if(NOT EXISTS "${UNCHANGED}")
    string(APPEND failures "  ${UNCHANGED} was removed by the run\n")
  else()
    file(SHA256 "${UNCHANGED}" hash_after)
    if(NOT hash_after STREQUAL hash_before)
      string(APPEND failures "  ${UNCHANGED} was modified by the run\n")
    endif()
  endif()
endif()
if(DEFINED ABSENT AND EXISTS "${ABSENT}")
  string(APPEND failures "  ${ABSENT} exists after the run\n")
endif()
if(DEFINED CHECK_FILE)
  if(NOT EXISTS "${CHECK_FILE}")
    string(APPEND failures "  ${CHECK_FILE} does not exist\n")
  else()
    file(READ "${CHECK_FILE}" check_text)
    if(NOT check_text MATCHES "${CHECK_MATCH}")
      string(APPEND failures "  ${CHECK_FILE} does not match the regex: ${CHECK_MATCH}\n  it holds:\n${check_text}\n")
    endif()
  endif()
endif()

set(report "command: ${EXE} ${args_string}\nexit code: ${rc}\n---- stdout ----\n${out}\n---- stderr ----\n${err}\n----------------")
if(failures)
  message(FATAL_ERROR "${report}\nFAILED:\n${failures}")
endif()
message("${report}\nPASSED")
