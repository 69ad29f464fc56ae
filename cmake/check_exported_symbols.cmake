# ctest exported_symbols (IlertSumoChecks.cmake): the shared library exports the public API and
# nothing internal. Run as: cmake -DNM=nm -DLIBRARY=libilert_sumo.so -P check_exported_symbols.cmake
execute_process(COMMAND "${NM}" -D --defined-only --demangle "${LIBRARY}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE symbols ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D failed on ${LIBRARY} (${rc}): ${err}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${symbols}")
set(internal)
set(public 0)
foreach(line IN LISTS lines)
  if(line MATCHES "ilert_sumo::detail::|ilert_sumo::\\(anonymous namespace\\)")
    list(APPEND internal "${line}")
  elseif(line MATCHES "ilert_sumo::")
    math(EXPR public "${public} + 1")
  endif()
endforeach()
list(LENGTH internal n_internal)
message(STATUS "${LIBRARY}: ${public} exported ilert_sumo symbols, ${n_internal} internal")
if(n_internal GREATER 0)
  string(REPLACE ";" "\n  " listing "${internal}")
  message(FATAL_ERROR "internal symbols exported by ${LIBRARY} (mark only the public API "
                      "ILERT_SUMO_EXPORT; hidden visibility is the default):\n  ${listing}")
endif()
# The public API must still be there: a few functions every consumer calls (a demangled name is
# followed by its argument list, or by an ABI tag such as [abi:cxx11]).
foreach(required "version" "parse_event" "to_sumo_line" "finalize" "SumoSender::create" "SumoClient::send")
  if(NOT symbols MATCHES "ilert_sumo::${required}[[(]")
    message(FATAL_ERROR "${LIBRARY} does not export ilert_sumo::${required}")
  endif()
endforeach()
