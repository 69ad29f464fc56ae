# ctest subproject_is_a_good_citizen (IlertSumoChecks.cmake): ilert_sumo configured as a
# sub-project (add_subdirectory) of a consumer whose environment has CI=true must not turn on
# -Werror, nor build its tests, examples or benchmarks, nor install anything.
# Run as: cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P check_subproject.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/parent")
file(WRITE "${WORK_DIR}/parent/CMakeLists.txt" "
cmake_minimum_required(VERSION 3.16)
project(consumer_parent CXX)
add_subdirectory(\"${SOURCE_DIR}\" ilert_sumo)
file(WRITE \"\${CMAKE_CURRENT_BINARY_DIR}/app.cpp\" \"#include <ilert_sumo/version.hpp>\\nint main() { return ilert_sumo::version()[0] == 0; }\\n\")
add_executable(app \"\${CMAKE_CURRENT_BINARY_DIR}/app.cpp\")
target_link_libraries(app PRIVATE ilert_sumo::ilert_sumo)
")
set(ENV{CI} true)
execute_process(COMMAND ${CMAKE_COMMAND} -S "${WORK_DIR}/parent" -B "${WORK_DIR}/build"
                        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring a parent project failed (${rc}):\n${out}\n${err}")
endif()
file(STRINGS "${WORK_DIR}/build/CMakeCache.txt" cache REGEX "^ILERT_SUMO_(WARNINGS_AS_ERRORS|BUILD_TESTS|BUILD_EXAMPLES|BUILD_BENCHMARKS|INSTALL):")
foreach(entry IN LISTS cache)
  if(NOT entry MATCHES "=OFF$")
    message(FATAL_ERROR "as a sub-project with CI=true: ${entry} (expected OFF)")
  endif()
endforeach()
list(LENGTH cache n)
if(NOT n EQUAL 5)
  message(FATAL_ERROR "expected 5 ILERT_SUMO_* options in the cache, found: ${cache}")
endif()
file(READ "${WORK_DIR}/build/compile_commands.json" commands)
if(NOT commands MATCHES "src/parse/parse\\.cpp")
  message(FATAL_ERROR "compile_commands.json does not compile the library")
endif()
if(commands MATCHES "-Werror")
  message(FATAL_ERROR "as a sub-project with CI=true, -Werror is on:\n${commands}")
endif()
message(STATUS "sub-project with CI=true: ${cache}; no -Werror in compile_commands.json")
