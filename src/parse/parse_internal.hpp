// src/parse/parse_internal.hpp (private): the parser's second path, for the tests and the fuzzer.
//
// parse_event() skips RapidJSON's in-string UTF-8 validation when one fast pass (text_util.hpp's
// scan_text()) has found the whole body well-formed, and lets the reader validate otherwise.
// parse_event_reader_validates() always lets the reader validate: it must give the same result as
// parse_event() for every input (tests/test_parse.cpp and tests/fuzz/fuzz_parse.cpp check it).
#pragma once

#include <string_view>

#include "ilert_sumo/parse.hpp"

namespace ilert_sumo::detail {

Expected<Event> parse_event_reader_validates(std::string_view body, const ParseOptions& options = {});

}  // namespace ilert_sumo::detail
