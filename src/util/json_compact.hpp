// src/util/json_compact.hpp (private): one JSON value re-serialized as compact JSON, by RapidJSON's
// Reader feeding the library's one Writer (text_util.hpp); numbers keep their exact text.
//
// Used by the parser (a mismatched top-level value, already validated, kept verbatim) and by the
// line writer (labels, customDetails, extra fields and mismatch values, which a hand-built Event
// may fill with anything).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ilert_sumo::detail {

/// Compacts the one JSON value `raw` into `out` (replacing its content). False (and `out`
/// unspecified) when `raw` is not one RFC 8259 value that parse_event would take back: invalid
/// UTF-8 (also after unescaping, e.g. a lone low surrogate escape, which RapidJSON 1.1.0 decodes),
/// a duplicate key, a raw NUL byte, or arrays/objects nested deeper than `max_depth`.
bool compact_json(std::string_view raw, std::string& out, std::size_t max_depth);

}  // namespace ilert_sumo::detail
