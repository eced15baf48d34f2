// One timed child process: wall time, exit status and peak resident memory (from wait4).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bench {

struct TimedRun {
    double seconds = 0;
    /// The largest resident set of the process or any child it waited for, in KiB
    /// (ru_maxrss of wait4): for a shell that runs curls, the biggest curl.
    long peak_rss_kib = 0;
    int exit_code = -1;
    bool timed_out = false;
    std::string out;
    std::string err;
};

struct TimedOptions {
    std::map<std::string, std::string> environment;  ///< added to ours
    std::chrono::seconds timeout{600};
    std::filesystem::path scratch;  ///< where stdout and stderr are captured
};

/// Runs `argv` (argv[0] looked up on PATH unless it has a '/') and waits for it by polling
/// wait4(WNOHANG): Boost 1.74's child::wait_for is broken, and wait4 is what reports the
/// child's peak RSS. Throws only if the program cannot be started.
TimedRun run_timed(const std::vector<std::string>& argv, const TimedOptions& options);

/// The first line of `text` (error messages in the report stay one line).
std::string first_line(const std::string& text);

}  // namespace bench
