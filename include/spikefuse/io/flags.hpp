// Command-line flags: `--name value` or `--name=value`, typed, validated, with generated --help.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace spikefuse::io {

/// A bad command line: unknown flag, missing or malformed value. The message is meant for the user.
struct flag_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class flag_parser {
 public:
  explicit flag_parser(std::string program_summary) : summary_(std::move(program_summary)) {}

  void add(const std::string& name, int& target, std::string help) { add_typed(name, target, std::move(help)); }
  void add(const std::string& name, long long& target, std::string help) { add_typed(name, target, std::move(help)); }
  void add(const std::string& name, std::uint64_t& target, std::string help) { add_typed(name, target, std::move(help)); }
  void add(const std::string& name, float& target, std::string help) { add_typed(name, target, std::move(help)); }
  void add(const std::string& name, std::string& target, std::string help) {
    flags_[name] = {std::move(help), target, [&target](std::string_view v) { target = std::string(v); }, false};
    order_.push_back(name);
  }
  /// A switch: `--name` sets it, `--name=false` clears it.
  void add_switch(const std::string& name, bool& target, std::string help) {
    flags_[name] = {std::move(help), target ? "true" : "false",
                    [&target, name](std::string_view v) {
                      if (v.empty() || v == "true" || v == "1") {
                        target = true;
                      } else if (v == "false" || v == "0") {
                        target = false;
                      } else {
                        throw flag_error("--" + name + " takes no value or true/false, not '" + std::string(v) + "'");
                      }
                    },
                    true};
    order_.push_back(name);
  }

  /// Parses argv; returns false when --help was asked (the help text is then in help()).
  bool parse(int argc, const char* const* argv) {
    given_.clear();
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") return false;
      if (arg.substr(0, 2) != "--") throw flag_error("unexpected argument '" + std::string(arg) + "' (flags start with --; see --help)");
      arg.remove_prefix(2);
      std::string name(arg);
      std::string value;
      bool has_value = false;
      if (const auto eq = arg.find('='); eq != std::string_view::npos) {
        name = std::string(arg.substr(0, eq));
        value = std::string(arg.substr(eq + 1));
        has_value = true;
      }
      const auto it = flags_.find(name);
      if (it == flags_.end()) throw flag_error("unknown flag --" + name + " (see --help)");
      auto& f = it->second;
      if (!has_value && !f.is_switch) {
        if (i + 1 >= argc) throw flag_error("flag --" + name + " needs a value");
        // `--out-dir --resume` lost its value: taking the next flag as it would drop that flag silently.
        if (std::string_view(argv[i + 1]).substr(0, 2) == "--")
          throw flag_error("flag --" + name + " needs a value, but the next argument is the flag " + argv[i + 1] +
                           " (write --" + name + "=VALUE for a value that begins with --)");
        value = argv[++i];
        has_value = true;
      }
      if (has_value && value.empty()) throw flag_error("flag --" + name + " has an empty value");
      given_.insert(name);
      try {
        f.set(value);
      } catch (const flag_error&) {
        throw;
      } catch (const std::exception& e) {
        throw flag_error("bad value '" + value + "' for --" + name + ": " + e.what());
      }
    }
    return true;
  }

  /// Whether the last parse() saw --name (with any value): a default that depends on another flag
  /// must not override what the user wrote.
  bool given(const std::string& name) const { return given_.count(name) != 0; }

  std::string help() const {
    std::ostringstream os;
    os << summary_ << "\n\nflags:\n";
    for (const auto& name : order_) {
      const auto& f = flags_.at(name);
      os << "  --" << name << (f.is_switch ? "" : " VALUE") << "\n      " << f.help << " (default: " << f.default_value
         << ")\n";
    }
    os << "  --help\n      print this text\n";
    return os.str();
  }

 private:
  struct flag {
    std::string help;
    std::string default_value;
    std::function<void(std::string_view)> set;
    bool is_switch = false;
  };

  template <class T>
  static T parse_number(std::string_view v) {
    T out{};
    if constexpr (std::is_floating_point_v<T>) {
      // from_chars for float is in libstdc++ 11+, but strtof gives the same and reports garbage via end.
      std::string s(v);
      char* end = nullptr;
      out = std::strtof(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) throw std::invalid_argument("not a number");
      if (!(out == out) || out - out != 0.f) throw std::invalid_argument("not a finite number");
    } else {
      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      if (ec == std::errc::result_out_of_range) throw std::invalid_argument("out of range");
      if (std::is_unsigned_v<T> && !v.empty() && v.front() == '-') throw std::invalid_argument("not a non-negative integer");
      if (ec != std::errc{} || ptr != v.data() + v.size()) throw std::invalid_argument("not an integer");
    }
    return out;
  }

  template <class T>
  void add_typed(const std::string& name, T& target, std::string help) {
    std::ostringstream def;
    def << target;
    flags_[name] = {std::move(help), def.str(), [&target](std::string_view v) { target = parse_number<T>(v); }, false};
    order_.push_back(name);
  }

  std::string summary_;
  std::map<std::string, flag> flags_;
  std::vector<std::string> order_;
  std::set<std::string> given_;
};

}  // namespace spikefuse::io
