// Host helpers shared by the CUDA benchmarks: median, UTC date, the command line, a minimal JSON writer, the no-GPU exit.
#pragma once

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "spikefuse/io/metrics.hpp"
#if defined(__CUDACC__)
#include "spikefuse/backend/cuda/error.cuh"
#endif

namespace bench {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/// "2026-11-27T14:03:05Z".
inline std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

inline std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

/// Builds one JSON document by appending fields; the caller opens and closes objects and arrays in
/// order (no validation: the two benchmarks write fixed layouts).
class json {
 public:
  json& open(const char* key = nullptr) { return begin(key, '{'); }
  json& close() { return end('}'); }
  json& open_array(const char* key) { return begin(key, '['); }
  json& close_array() { return end(']'); }
  json& field(const char* key, const std::string& v) {
    sep(key);
    s_ += quoted(v);
    return *this;
  }
  json& field(const char* key, const char* v) { return field(key, std::string(v)); }
  json& field(const char* key, bool v) {
    sep(key);
    s_ += v ? "true" : "false";
    return *this;
  }
  json& field(const char* key, long long v) {
    sep(key);
    s_ += std::to_string(v);
    return *this;
  }
  json& field(const char* key, int v) { return field(key, static_cast<long long>(v)); }
  json& field(const char* key, std::size_t v) { return field(key, static_cast<long long>(v)); }
  json& field(const char* key, double v) {
    sep(key);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    s_ += buf;
    return *this;
  }

  /// The fields every benchmark report starts with: which benchmark, on what, when, and how it was run.
  json& run_fields(const char* benchmark, const std::string& device, const std::string& date, int argc, char** argv) {
    return field("benchmark", benchmark).field("device", device).field("date", date).field("command", command_line(argc, argv));
  }

  /// Writes the document to `path`; false (and a message on stderr) when the file cannot be written.
  bool save(const std::string& path) const {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return false;
    }
    const bool ok = std::fputs(s_.c_str(), f) >= 0 && std::fputc('\n', f) != EOF;
    return std::fclose(f) == 0 && ok;
  }

 private:
  // The library's JSON string escaping (metrics.jsonl uses the same).
  static std::string quoted(const std::string& v) { return spikefuse::io::json_record::quote(v); }
  void sep(const char* key) {
    if (!first_) s_ += ',';
    first_ = false;
    s_ += '\n' + std::string(2 * depth_, ' ');
    if (key) s_ += quoted(key) + ": ";
  }
  json& begin(const char* key, char bracket) {
    if (depth_ > 0) sep(key);
    s_ += bracket;
    ++depth_;
    first_ = true;
    return *this;
  }
  json& end(char bracket) {
    --depth_;
    s_ += '\n' + std::string(2 * depth_, ' ') + bracket;
    first_ = false;
    return *this;
  }

  std::string s_;
  int depth_ = 0;
  bool first_ = true;
};

#if defined(__CUDACC__)
/// True (after saying so) when there is no GPU: a CUDA benchmark then has nothing to measure and exits 0.
inline bool no_gpu_to_benchmark() {
  if (spikefuse::cuda::device_count() > 0) return false;
  std::printf("no CUDA device: nothing to benchmark (%s)\n", spikefuse::cuda::no_device_reason().c_str());
  return true;
}
#endif

}  // namespace bench
