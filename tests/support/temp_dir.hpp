// tests/support/temp_dir.hpp: a fresh directory under /tmp, removed (recursively) when it goes
// out of scope. Used by every test that needs scratch files (spool, sender, the program tests).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace ilert_sumo::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ilert-sumo-test") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// A path inside the directory.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  /// Writes `content` (bytes as given) to the file `name` in the directory; returns its path.
  /// Throws std::runtime_error when it cannot be written.
  std::string write(const std::string& name, const std::string& content) const {
    const std::string path = *this / name;
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
    return path;
  }

  /// Names of the files in the directory with this suffix, sorted.
  std::vector<std::string> files(const std::string& suffix = "") const { return files_in(path_, suffix); }
  /// Names of the files in `dir` with this suffix, sorted (empty when `dir` does not exist).
  static std::vector<std::string> files_in(const std::string& dir, const std::string& suffix = "") {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(name);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

}  // namespace ilert_sumo::test
