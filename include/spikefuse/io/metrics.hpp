// Metrics as JSON lines: one object per record, flushed at once, so a crash loses nothing already written.
#pragma once

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace spikefuse::io {

class json_record {
 public:
  json_record& add(const std::string& key, double value) {
    std::ostringstream os;
    if (std::isfinite(value)) {
      os.precision(9);
      os << value;
    } else {
      os << "null";  // JSON has no NaN/inf
    }
    fields_.emplace_back(key, os.str());
    return *this;
  }
  json_record& add(const std::string& key, long long value) {
    fields_.emplace_back(key, std::to_string(value));
    return *this;
  }
  json_record& add(const std::string& key, int value) { return add(key, static_cast<long long>(value)); }
  json_record& add(const std::string& key, unsigned long long value) {  // a seed may use all 64 bits
    fields_.emplace_back(key, std::to_string(value));
    return *this;
  }
  json_record& add(const std::string& key, const std::string& value) {
    fields_.emplace_back(key, quote(value));
    return *this;
  }
  json_record& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  /// A JSON array of numbers (non-finite ones as null).
  json_record& add(const std::string& key, const std::vector<double>& values) {
    std::string s = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) s += ", ";
      json_record one;
      one.add("", values[i]);
      s += one.fields_.front().second;
    }
    fields_.emplace_back(key, s + "]");
    return *this;
  }

  std::string str() const {
    std::string s = "{";
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (i) s += ", ";
      s += quote(fields_[i].first) + ": " + fields_[i].second;
    }
    return s + "}";
  }

  static std::string quote(const std::string& v) {
    std::string s = "\"";
    for (const char c : v) {
      switch (c) {
        case '"': s += "\\\""; break;
        case '\\': s += "\\\\"; break;
        case '\n': s += "\\n"; break;
        case '\t': s += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            s += buf;
          } else {
            s += c;
          }
      }
    }
    return s + "\"";
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

/// Writes records to a .jsonl file, from scratch or appended (a resumed run continues its file).
class metrics_writer {
 public:
  explicit metrics_writer(const std::string& path, bool append = true)
      : path_(path), out_(path, append ? std::ios::app : std::ios::trunc) {
    if (!out_) throw std::runtime_error("cannot open metrics file " + path + " for writing");
  }
  void write(const json_record& r) {
    out_ << r.str() << '\n';
    out_.flush();
    if (!out_) throw std::runtime_error("failed to write metrics file " + path_);
  }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace spikefuse::io
