// src/util/json_compact.cpp: compact_json() (json_compact.hpp).
#include "util/json_compact.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "util/text_util.hpp"

namespace ilert_sumo::detail {
namespace {

// SAX handler: forwards to the writer; refuses invalid UTF-8 after unescaping, duplicate keys and
// nesting deeper than the limit. Numbers keep their text.
class CompactHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, CompactHandler> {
 public:
  CompactHandler(JsonWriter& writer, std::vector<std::string>& keys, std::vector<std::size_t>& levels,
                 std::size_t max_depth)
      : w_(writer), keys_(keys), levels_(levels), max_depth_(max_depth) {}

  bool Default() { return false; }
  bool Null() { return w_.Null(); }
  bool Bool(bool b) { return w_.Bool(b); }
  // Writer::RawNumber quotes its text in RapidJSON 1.1.0: a raw value keeps the number.
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return w_.RawValue(s, n, rapidjson::kNumberType); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return is_valid_utf8(std::string_view(s, n)) && w_.String(s, n);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!is_valid_utf8(std::string_view(s, n))) return false;
    keys_.emplace_back(s, n);
    return w_.Key(s, n);
  }
  bool StartObject() {
    if (++depth_ > max_depth_) return false;
    levels_.push_back(keys_.size());
    return w_.StartObject();
  }
  bool EndObject(rapidjson::SizeType) {
    const std::size_t first = levels_.back();
    levels_.pop_back();
    if (keys_.size() - first > 1) {
      std::sort(keys_.begin() + static_cast<std::ptrdiff_t>(first), keys_.end());
      if (std::adjacent_find(keys_.begin() + static_cast<std::ptrdiff_t>(first), keys_.end()) != keys_.end()) {
        return false;
      }
    }
    keys_.resize(first);
    --depth_;
    return w_.EndObject();
  }
  bool StartArray() {
    if (++depth_ > max_depth_) return false;
    return w_.StartArray();
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return w_.EndArray();
  }

 private:
  JsonWriter& w_;
  std::vector<std::string>& keys_;
  std::vector<std::size_t>& levels_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
};

// Per-thread RapidJSON objects and handler state, reused by every call.
struct Scratch {
  std::vector<std::string> keys;
  std::vector<std::size_t> levels;
  JsonWriter writer;
  rapidjson::Reader reader;
};

}  // namespace

bool compact_json(std::string_view raw, std::string& out, std::size_t max_depth) {
  out.clear();
  if (raw.empty() || std::memchr(raw.data(), '\0', raw.size()) != nullptr) return false;
  thread_local Scratch s;
  JsonSink sink(out);
  s.writer.Reset(sink);
  s.keys.clear();
  s.levels.clear();
  CompactHandler handler(s.writer, s.keys, s.levels, max_depth);
  rapidjson::MemoryStream in(raw.data(), raw.size());
  constexpr unsigned kFlags =
      rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
  const rapidjson::ParseResult result = s.reader.Parse<kFlags>(in, handler);
  return !result.IsError() && s.writer.IsComplete();
}

}  // namespace ilert_sumo::detail
