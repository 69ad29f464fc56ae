// tests/support/line_json.hpp: a Sumo line as a RapidJSON DOM, the tests' independent oracle for
// the line writer (test_sumo_line.cpp, test_line_cap.cpp). Header-only; needs Catch2 and RapidJSON.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>
#include <vector>

#include "support/catch.hpp"

namespace ilert_sumo::test {

/// The line as a DOM, parsed strictly (UTF-8 validated). Fails the test when it is not a JSON object.
inline rapidjson::Document parse_json(const std::string& line) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  INFO("line: " << line.substr(0, 300));
  INFO("offset " << d.GetErrorOffset() << ": " << rapidjson::GetParseError_En(d.GetParseError()));
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.IsObject());
  return d;
}

/// A string value (embedded NULs kept). Fails the test when it is not a string.
inline std::string str(const rapidjson::Value& v) {
  REQUIRE(v.IsString());
  return std::string(v.GetString(), v.GetStringLength());
}

/// The keys of an object, in order (duplicates kept).
inline std::vector<std::string> keys_of(const rapidjson::Value& obj) {
  std::vector<std::string> keys;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) keys.push_back(str(it->name));
  return keys;
}

}  // namespace ilert_sumo::test
