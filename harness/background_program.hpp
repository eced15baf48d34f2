// A program running while the test watches it: started, paused and resumed at the moment the
// test observes something, and waited for with a deadline. For crash and load tests, where
// run_program's start-and-wait is too late to act.
#pragma once

#include "child_process.hpp"
#include "program_runner.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace harness {

class BackgroundProgram {
public:
    /// Starts `argv` (argv[0] a path) in `working_directory`, its stdout and stderr in files.
    BackgroundProgram(const std::vector<std::string>& argv,
                      const std::filesystem::path& working_directory,
                      const std::map<std::string, std::string>& environment = {}) {
        static std::atomic<int> counter{0};
        const std::filesystem::path capture =
            std::filesystem::temp_directory_path() /
            ("workbook-background-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        out_file_ = capture.string() + ".out";
        err_file_ = capture.string() + ".err";
        boost::process::environment env = boost::this_process::environment();
        // set(), not env[name]: Boost 1.74's lookup behind operator[] reads past short entries.
        for (const auto& [name, value] : environment) env.set(name, value);
        const std::vector<std::string> args(argv.begin() + 1, argv.end());
        program_ = argv.at(0);
        child_ = boost::process::child(
            argv.at(0), boost::process::args(args), env,
            boost::process::start_dir(working_directory.string()), boost::process::std_in.close(),
            boost::process::std_out > out_file_, boost::process::std_err > err_file_,
            boost::process::extend::on_exec_setup = DieWithParent{});
    }
    ~BackgroundProgram() {
        if (paused_) resume();
        end_child(child_, SIGKILL);
        std::error_code ignored;
        std::filesystem::remove(out_file_, ignored);
        std::filesystem::remove(err_file_, ignored);
    }
    BackgroundProgram(const BackgroundProgram&) = delete;
    BackgroundProgram& operator=(const BackgroundProgram&) = delete;

    bool running() { return child_.running(); }
    /// SIGSTOP: the process keeps its connections but moves no byte until resume().
    void pause() {
        ::kill(child_.id(), SIGSTOP);
        paused_ = true;
    }
    void resume() {
        ::kill(child_.id(), SIGCONT);
        paused_ = false;
    }

    /// Waits (polling: Boost 1.74's wait_for is broken) until the program exits or `timeout`
    /// passes; then it is killed and reported as timed out.
    RunResult wait(std::chrono::seconds timeout) {
        RunResult result;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (child_.running()) {
            if (std::chrono::steady_clock::now() >= deadline) {
                result.timed_out = true;
                if (paused_) resume();
                child_.terminate();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        std::error_code ignored;
        child_.wait(ignored);
        result.exit_code = result.timed_out ? -1 : child_.exit_code();
        // Boost reports a death by signal as the signal's number: a crash is neither 0 nor 1.
        result.out = read_whole_file(out_file_);
        result.err = read_whole_file(err_file_);
        throw_on_sanitizer_report(program_, result);
        return result;
    }

private:
    boost::process::child child_;
    std::string program_;
    std::string out_file_;
    std::string err_file_;
    bool paused_ = false;
};

/// Polls `condition` every millisecond until it holds (true) or `timeout` passes (false).
template <class Condition>
bool poll_until(Condition condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace harness
