// Runs a program as a real process, with a deadline, and keeps what it printed.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace harness {

struct RunResult {
    int exit_code = -1;
    bool timed_out = false;
    std::string out;  ///< stdout (or stdout and stderr interleaved, when merged)
    std::string err;
    int signal = 0;       ///< the signal that ended the program, 0 if it exited
    double seconds = 0;   ///< wall time from start until reaped
    /// With RunOptions::measure_peak_rss: the largest resident set of the program or any child
    /// it waited for, in KiB (wait4's ru_maxrss: for a shell that runs curls, the biggest curl).
    long peak_rss_kib = 0;
};

struct RunOptions {
    std::map<std::string, std::string> environment;  ///< added to (or overriding) ours
    std::filesystem::path working_directory;          ///< empty: the current one
    std::chrono::seconds timeout{120};
    bool merge_output = false;  ///< stderr into stdout, in the order written
    /// Where stdout and stderr are captured while it runs; empty: the temporary directory.
    std::filesystem::path capture_directory;
    /// A benchmark's run: report peak RSS, and notice the exit within 0.2 ms, not 2 ms, so the
    /// wall time of a short run is not mostly our polling.
    bool measure_peak_rss = false;
};

/// A program running while the caller watches it: started, paused and resumed at the moment
/// a test observes something, and waited for with a deadline. run_program is start-and-wait;
/// crash and load tests keep one of these to act while it runs. Destroying it kills the
/// program if it still runs.
class RunningProgram {
public:
    /// Starts `argv` (argv[0] a path to an existing program) with `options` (not its timeout);
    /// stdin is /dev/null; stdout and stderr go to files, never pipes, so a chatty program
    /// never blocks.
    RunningProgram(const std::vector<std::string>& argv, const RunOptions& options = {});
    ~RunningProgram();
    RunningProgram(const RunningProgram&) = delete;
    RunningProgram& operator=(const RunningProgram&) = delete;

    bool running();
    /// SIGSTOP: the process keeps its connections but moves no byte until resume().
    void pause();
    void resume();
    /// Sends `signal` (SIGTERM for a shutdown, SIGKILL for a crash) unless it already ended.
    void send(int signal);
    /// What it printed on stdout so far (with stderr, when merged): for a test that waits
    /// for a line.
    std::string output_so_far() const;
    /// The file its stdout goes to while it runs (removed when this object is destroyed): for
    /// a reader that follows it as it grows.
    std::filesystem::path output_file() const;
    /// Waits until the program exits or `timeout` passes; then it is killed and reported as
    /// timed out. In the sanitizer build, a sanitizer report throws (see below).
    RunResult wait(std::chrono::seconds timeout);

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// Runs `argv` (argv[0] is looked up on PATH unless it contains a '/'). Never throws for
/// the program's failure: a missing program is exit code 127 with a message in `err`.
/// In the sanitizer build only, a sanitizer report from the program (exit code 86, or a
/// report in its output) throws std::runtime_error carrying the report: a bug, never an outcome.
RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options = {});

/// In the sanitizer build (WORKBOOK_SANITIZE), throws std::runtime_error carrying the report
/// when `result` shows an AddressSanitizer, LeakSanitizer or UBSan report (exit code 86 under
/// the sanitize test preset, or the report's text); elsewhere does nothing. For harness code
/// that starts programs itself.
void throw_on_sanitizer_report(const std::string& program, const RunResult& result);

/// The path of a chapter program built from examples/, e.g. "01_rehost_busybox".
std::filesystem::path chapter_program(const std::string& name);

}  // namespace harness
