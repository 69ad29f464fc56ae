# Package-level tests (ctest), included from the top-level CMakeLists when tests are built:
#  - exported_symbols: in a shared build, `nm -D --defined-only` on libilert_sumo.so lists the
#    public API (ilert_sumo::version, parse_event, ...) and no internal symbol (ilert_sumo::detail,
#    anonymous namespaces). A static build has nothing to check: the test is not registered.
#  - subproject_is_a_good_citizen, below.
# The run-time version function itself is tested in tests/test_version.cpp.
get_target_property(_ilert_sumo_type ilert_sumo TYPE)
if(_ilert_sumo_type STREQUAL "SHARED_LIBRARY")
  find_program(ILERT_SUMO_NM NAMES nm llvm-nm)
  if(ILERT_SUMO_NM)
    add_test(NAME exported_symbols
      COMMAND ${CMAKE_COMMAND} -DNM=${ILERT_SUMO_NM} -DLIBRARY=$<TARGET_FILE:ilert_sumo>
              -P ${CMAKE_CURRENT_LIST_DIR}/check_exported_symbols.cmake)
  else()
    message(STATUS "ilert_sumo: nm not found, exported_symbols test not registered")
  endif()
endif()

# subproject_is_a_good_citizen: as someone's add_subdirectory with CI=true, no -Werror, no tests,
# examples, benchmarks or install rules (cmake/check_subproject.cmake; configures only).
if(ILERT_SUMO_TOP_LEVEL)
  add_test(NAME subproject_is_a_good_citizen
    COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}
            -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/subproject-check
            -P ${CMAKE_CURRENT_LIST_DIR}/check_subproject.cmake)
  set_tests_properties(subproject_is_a_good_citizen PROPERTIES TIMEOUT 300)
endif()
