# Package-level tests (ctest), included from the top-level CMakeLists when tests are built:
#  - exported_symbols: in a shared build, `nm -D --defined-only` on libilert_sumo.so lists the
#    public API (ilert_sumo::version, parse_event, ...) and no internal symbol (ilert_sumo::detail,
#    anonymous namespaces). A static build has nothing to check: the test is not registered.
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
