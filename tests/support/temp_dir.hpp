// temp_dir: a fresh directory under the system temp dir for one test, removed with everything in it afterwards.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace spikefuse::test {

struct temp_dir {
  std::filesystem::path path;

  /// `tag` names the test in the directory name (spikefuse_test_<tag>_XXXXXX).
  explicit temp_dir(const std::string& tag) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("spikefuse_test_" + tag + "_XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }

  /// Writes `bytes` (any contiguous container of 1-byte values) to `p`; returns the path.
  template <class Bytes>
  static std::string write(const std::filesystem::path& p, const Bytes& bytes) {
    std::ofstream o(p, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!o) throw std::runtime_error("cannot write " + p.string());
    return p.string();
  }
};

}  // namespace spikefuse::test
