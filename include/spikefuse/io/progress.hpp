// Progress bar: [=====>    ] done/total, elapsed, ETA = elapsed·(total − done)/done, running loss and accuracy.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace spikefuse::io {

inline std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm%02lds", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  }
  return buf;
}

/// Redraws one line on a terminal; elsewhere (logs, CI) prints a line every 10 %.
class progress_bar {
 public:
  progress_bar(std::string label, int total, std::FILE* out = stderr)
      : label_(std::move(label)), total_(total), out_(out), tty_(isatty(fileno(out)) != 0),
        start_(std::chrono::steady_clock::now()) {}

  void update(int done, double running_loss, double running_accuracy) {
    const double elapsed = seconds_since_start();
    const double eta = done > 0 ? elapsed * (total_ - done) / done : 0.0;
    const int decile = total_ > 0 ? done * 10 / total_ : 10;
    if (!tty_ && decile == last_decile_ && done != total_) return;
    last_decile_ = decile;
    constexpr int width = 30;
    const int filled = total_ > 0 ? done * width / total_ : width;
    std::string bar(static_cast<std::size_t>(width), ' ');
    for (int i = 0; i < filled; ++i) bar[static_cast<std::size_t>(i)] = '=';
    if (filled < width) bar[static_cast<std::size_t>(filled)] = '>';
    std::fprintf(out_, "%s%s [%s] %d/%d  %s elapsed, ETA %s  loss %.4f  acc %.2f%%%s", tty_ ? "\r" : "",
                 label_.c_str(), bar.c_str(), done, total_, format_duration(elapsed).c_str(), format_duration(eta).c_str(),
                 running_loss, 100.0 * running_accuracy, tty_ ? "\033[K" : "\n");
    if (tty_ && done == total_) std::fputc('\n', out_);
    std::fflush(out_);
  }

  double seconds_since_start() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::string label_;
  int total_;
  std::FILE* out_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace spikefuse::io
