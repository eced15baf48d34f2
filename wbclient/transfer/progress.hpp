// A progress bar for long transfers: bytes done, the rate, on stderr, and only for a person
// watching a terminal, never in a log file or a pipe.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace wbclient {

/// Draws `  2.0 MiB / 4.5 MiB [=========>          ]  44%  37.5 MiB/s` on one line, redrawn
/// in place after a carriage return, at most ten times a second. Off (writes nothing at all) when `fd` is not
/// a terminal, so redirected output stays clean.
class ProgressBar {
public:
    /// A bar for `total` bytes, `already` of them done by an earlier run (a resumed upload):
    /// they count towards the bar but not towards the rate.
    explicit ProgressBar(std::uint64_t total, std::uint64_t already = 0, int fd = STDERR_FILENO);
    /// Ends the line if the bar was drawn.
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    bool enabled() const { return enabled_; }
    /// `done` bytes of `total` are through.
    void update(std::uint64_t done);
    /// Erases the bar, so a line of narration can be printed; the next update draws it again.
    void clear();

    /// "4.5 MiB", "512 KiB", "17 bytes": sizes the way the bar shows them.
    static std::string human(double bytes);

private:
    void draw();

    std::uint64_t total_;
    std::uint64_t already_;
    std::uint64_t done_ = 0;
    int fd_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point started_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace wbclient
