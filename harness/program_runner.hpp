// Runs a program as a real process, with a deadline, and keeps what it printed.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace harness {

struct RunResult {
    int exit_code = -1;
    bool timed_out = false;
    std::string out;  ///< stdout (or stdout and stderr interleaved, when merged)
    std::string err;
};

struct RunOptions {
    std::map<std::string, std::string> environment;  ///< added to (or overriding) ours
    std::filesystem::path working_directory;          ///< empty: the current one
    std::chrono::seconds timeout{120};
    bool merge_output = false;  ///< stderr into stdout, in the order written
};

/// Runs `argv` (argv[0] is looked up on PATH unless it contains a '/'). Never throws for
/// the program's failure: a missing program is exit code 127 with a message in `err`.
RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options = {});

/// The path of a chapter program built from examples/, e.g. "01_rehost_busybox".
std::filesystem::path chapter_program(const std::string& name);

}  // namespace harness
