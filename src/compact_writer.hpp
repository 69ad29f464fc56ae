// src/compact_writer.hpp (private): a minimal compact JSON writer with the subset of
// rapidjson::Writer's interface the parser uses to re-serialize `labels` / `customDetails`.
//
// Why not rapidjson::Writer: RapidJSON 1.1.0's internal stack does pointer arithmetic on a null
// pointer on its first push (UBSan: "applying non-zero offset to null pointer"), which clang's
// -fsanitize=undefined stops on. This writer keeps its nesting state in a std::vector and appends
// straight to a std::string. Output is canonical compact JSON: no whitespace, strings escaped like
// rapidjson::Writer (", \, and control characters; other UTF-8 bytes verbatim), numbers as their
// raw text.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ilert_sumo::detail {

class CompactWriter {
 public:
  /// Starts a new document appended to `*out`.
  void reset(std::string* out) {
    out_ = out;
    levels_.clear();
  }

  void null_value() {
    prefix();
    out_->append("null", 4);
  }
  void bool_value(bool value) {
    prefix();
    if (value) {
      out_->append("true", 4);
    } else {
      out_->append("false", 5);
    }
  }
  /// A number (or any value) already in JSON form.
  void raw_value(const char* text, std::size_t length) {
    prefix();
    out_->append(text, length);
  }
  /// A string value (decoded UTF-8; embedded NULs allowed).
  void string_value(const char* text, std::size_t length) {
    prefix();
    append_escaped(text, length);
  }
  /// An object key.
  void key(const char* text, std::size_t length) { string_value(text, length); }
  void start_object() { open('{', true); }
  void end_object() { close('}'); }
  void start_array() { open('[', false); }
  void end_array() { close(']'); }

 private:
  struct Level {
    bool in_object;
    std::size_t count;  // values (arrays) or keys + values (objects) written so far
  };

  void prefix() {
    if (levels_.empty()) return;
    Level& level = levels_.back();
    if (level.in_object && (level.count % 2) == 1) {
      out_->push_back(':');
    } else if (level.count > 0) {
      out_->push_back(',');
    }
    ++level.count;
  }
  void open(char bracket, bool in_object) {
    prefix();
    out_->push_back(bracket);
    levels_.push_back(Level{in_object, 0});
  }
  void close(char bracket) {
    if (!levels_.empty()) levels_.pop_back();
    out_->push_back(bracket);
  }
  void append_escaped(const char* text, std::size_t length) {
    static const char kHex[] = "0123456789ABCDEF";
    out_->push_back('"');
    std::size_t run = 0;  // start of the pending run of bytes that need no escaping
    for (std::size_t i = 0; i < length; ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_->append(text + run, i - run);
      run = i + 1;
      switch (c) {
        case '"': out_->append("\\\"", 2); break;
        case '\\': out_->append("\\\\", 2); break;
        case '\b': out_->append("\\b", 2); break;
        case '\f': out_->append("\\f", 2); break;
        case '\n': out_->append("\\n", 2); break;
        case '\r': out_->append("\\r", 2); break;
        case '\t': out_->append("\\t", 2); break;
        default: {
          const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out_->append(escape, 6);
        }
      }
    }
    out_->append(text + run, length - run);
    out_->push_back('"');
  }

  std::string* out_ = nullptr;
  std::vector<Level> levels_;
};

}  // namespace ilert_sumo::detail
