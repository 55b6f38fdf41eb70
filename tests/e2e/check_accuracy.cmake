# Runs the training binary with its defaults and fails unless the final test accuracy reaches MIN_ACCURACY (%).
# cmake -DEXE=... -DOUT_DIR=... -DMIN_ACCURACY=87 -P check_accuracy.cmake
file(REMOVE_RECURSE "${OUT_DIR}")
execute_process(COMMAND "${EXE}" --out-dir "${OUT_DIR}" --quiet
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${err}${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "training exited with ${rc}")
endif()
if(NOT out MATCHES "final test accuracy ([0-9]+\\.[0-9]+)%")
  message(FATAL_ERROR "no final accuracy in the output")
endif()
set(acc "${CMAKE_MATCH_1}")
if(acc LESS MIN_ACCURACY)
  message(FATAL_ERROR "final test accuracy ${acc}% is below ${MIN_ACCURACY}%")
endif()
message("final test accuracy ${acc}% >= ${MIN_ACCURACY}%")
