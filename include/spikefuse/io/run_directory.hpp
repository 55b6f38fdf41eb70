// A run's output folder: <out-dir>/{checkpoint.bin, metrics.jsonl}; a fresh run moves an earlier run's files to <out-dir>/previous-<n>/.
//
// A fresh run in a folder that already holds a run would otherwise truncate its metrics and, after
// its first epoch, replace its checkpoint: the earlier run is kept instead, whole, in the first free
// previous-<n>/ (renamed within the folder: nothing is copied).
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string>
#include <system_error>

namespace spikefuse::io {

/// Moves those of `names` that exist in `dir` (a dangling symlink counts) into `dir`/previous-<n>, n the
/// first number ≥ 1 not taken, and returns that folder; returns "" when none of them exists.
inline std::string set_aside_earlier_run(const std::string& dir, std::initializer_list<const char*> names) {
  namespace fs = std::filesystem;
  const auto present = [&](const char* name) {
    std::error_code ec;
    return fs::symlink_status(fs::path(dir) / name, ec).type() != fs::file_type::not_found && !ec;
  };
  bool any = false;
  for (const char* name : names) any = any || present(name);
  if (!any) return "";
  fs::path aside;
  for (int n = 1;; ++n) {
    aside = fs::path(dir) / ("previous-" + std::to_string(n));
    std::error_code ec;
    if (fs::symlink_status(aside, ec).type() == fs::file_type::not_found) break;
  }
  fs::create_directory(aside);
  for (const char* name : names)
    if (present(name)) fs::rename(fs::path(dir) / name, aside / name);
  return aside.string();
}

}  // namespace spikefuse::io
