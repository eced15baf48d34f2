// One timed child process: wall time, exit status and peak resident memory, through the
// harness's one process runner (harness::run_program with measure_peak_rss).
#pragma once

#include "program_runner.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bench {

/// `seconds`, `peak_rss_kib` (KiB, wait4's ru_maxrss), `exit_code`, `timed_out`, `out`, `err`.
using TimedRun = harness::RunResult;

struct TimedOptions {
    std::map<std::string, std::string> environment;  ///< added to ours
    std::chrono::seconds timeout{600};  ///< longer than the harness's 120 s: a 1 GiB layer
    std::filesystem::path scratch;      ///< where stdout and stderr are captured
};

/// Runs `argv` (argv[0] looked up on PATH unless it has a '/') to completion, measuring it.
/// Throws only if the program is not installed.
TimedRun run_timed(const std::vector<std::string>& argv, const TimedOptions& options);

/// The first line of `text` (error messages in the report stay one line).
std::string first_line(const std::string& text);

}  // namespace bench
