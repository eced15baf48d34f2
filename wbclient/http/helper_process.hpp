// The library's one way to run another program: a credential helper (docker-credential-<name>),
// given a few bytes on stdin, answering a few bytes on stdout, within a deadline. The harness
// has a fuller runner (harness/program_runner.hpp); the library must not depend on the harness,
// and needs far less: no files, no pausing, no environment changes.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace wbclient {

struct HelperOutcome {
    int exit_code = -1;      ///< the program's exit code; -1 when it did not exit on its own
    bool timed_out = false;  ///< killed at the deadline
    bool too_much = false;   ///< printed more than the limit on stdout; killed
    std::string out;         ///< what it printed on stdout (up to the limit)
};

/// Runs `program` (a path) with `args`, writes `input` to its stdin and closes it, and collects
/// its stdout; stderr is discarded (a helper may print secrets there in its own words). The
/// program and anything it starts run in a process group of their own, killed whole when the
/// deadline passes or stdout exceeds `max_output` bytes. Throws std::runtime_error (one line)
/// when the program cannot be started at all.
HelperOutcome run_helper(const std::filesystem::path& program, const std::vector<std::string>& args,
                         const std::string& input, std::chrono::milliseconds timeout,
                         std::size_t max_output = 64 * 1024);

}  // namespace wbclient
