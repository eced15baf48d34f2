#include "program_runner.hpp"

#include "child_process.hpp"

#include "workbook_paths.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>

#include <atomic>
#include <chrono>
#include <thread>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace harness {
// The sanitizer build (WORKBOOK_SANITIZE): a child's AddressSanitizer, LeakSanitizer or UBSan
// report fails the test that ran it, whatever exit code that test expected. The test preset
// makes reports exit 86; the text catches a child run with other options.
#if defined(__SANITIZE_ADDRESS__)
void throw_on_sanitizer_report(const std::string& program, const RunResult& result) {
    constexpr int sanitizer_exit_code = 86;
    bool reported = result.exit_code == sanitizer_exit_code;
    for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: "})
        reported = reported || result.err.find(marker) != std::string::npos ||
                   result.out.find(marker) != std::string::npos;
    if (reported)
        throw std::runtime_error("sanitizer report from " + program + " (exit code " +
                                 std::to_string(result.exit_code) + "):\n" + result.err + result.out);
}
#else
void throw_on_sanitizer_report(const std::string&, const RunResult&) {}
#endif

fs::path chapter_program(const std::string& name) {
    return fs::path(paths::examples_dir) / name;
}

struct RunningProgram::State {
    bp::child child;
    std::string program;
    std::string out_file;
    std::string err_file;
    bool paused = false;
    bool measure = false;
    std::chrono::steady_clock::time_point started;
    // Filled once the program is reaped. We reap with wait4, never through Boost, because
    // only wait4 reports the program's resource usage (its peak RSS).
    bool reaped = false;
    int status = 0;
    rusage usage{};
    std::chrono::steady_clock::time_point ended;

    /// Reaps the program if it has ended (or, with `block`, once it ends). True when reaped.
    bool reap(bool block) {
        if (reaped) return true;
        for (;;) {
            const pid_t done = ::wait4(child.id(), &status, block ? 0 : WNOHANG, &usage);
            if (done == child.id()) break;
            if (done == 0) return false;
            if (errno == EINTR) continue;
            throw std::runtime_error("wait4 failed for " + program);
        }
        ended = std::chrono::steady_clock::now();
        reaped = true;
        return true;
    }
};

RunningProgram::RunningProgram(const std::vector<std::string>& argv, const RunOptions& options)
    : state_(std::make_unique<State>()) {
    static std::atomic<int> counter{0};
    const fs::path directory = options.capture_directory.empty() ? fs::temp_directory_path()
                                                                 : options.capture_directory;
    const fs::path capture = directory / ("workbook-run-" + std::to_string(::getpid()) + "-" +
                                          std::to_string(counter++));
    state_->program = argv.at(0);
    state_->out_file = capture.string() + ".out";
    state_->err_file = capture.string() + ".err";
    state_->measure = options.measure_peak_rss;

    bp::environment environment = boost::this_process::environment();
    // set(), never environment[name]: Boost 1.74's lookup behind operator[] compares the name
    // with every entry without checking the entry's length (an out-of-bounds read, ASan).
    for (const auto& [name, value] : options.environment) environment.set(name, value);
    const std::vector<std::string> args(argv.begin() + 1, argv.end());
    const fs::path cwd = options.working_directory.empty() ? fs::current_path()
                                                           : options.working_directory;
    // Standard input is /dev/null, not closed: in a program started with fd 0 closed, the
    // next file it opens becomes fd 0, and a child it starts with that file as its output
    // then loses it to its own stdin redirection (registry_up: "dup2() failed").
    state_->started = std::chrono::steady_clock::now();
    state_->child =
        options.merge_output
            ? bp::child(state_->program, bp::args(args), environment,
                        bp::start_dir(cwd.string()), bp::std_in < bp::null,
                        (bp::std_out & bp::std_err) > state_->out_file,
                        bp::extend::on_exec_setup = DieWithParent{})
            : bp::child(state_->program, bp::args(args), environment,
                        bp::start_dir(cwd.string()), bp::std_in < bp::null,
                        bp::std_out > state_->out_file, bp::std_err > state_->err_file,
                        bp::extend::on_exec_setup = DieWithParent{});
    // Boost must not reap it behind our back (its destructor or running() would): see State.
    state_->child.detach();
}

RunningProgram::~RunningProgram() {
    if (!state_->reaped) {
        if (state_->paused) resume();
        // Boost's end_child is the shared way to stop: SIGKILL, then reap.
        end_child(state_->child, SIGKILL);
    }
    std::error_code ignored;
    fs::remove(state_->out_file, ignored);
    fs::remove(state_->err_file, ignored);
}

fs::path RunningProgram::output_file() const { return state_->out_file; }

bool RunningProgram::running() { return !state_->reap(false); }

void RunningProgram::pause() {
    if (state_->reaped) return;  // its pid may be someone else's by now
    ::kill(state_->child.id(), SIGSTOP);
    state_->paused = true;
}

void RunningProgram::resume() {
    if (state_->reaped) return;
    ::kill(state_->child.id(), SIGCONT);
    state_->paused = false;
}

void RunningProgram::send(int signal) {
    if (!state_->reap(false)) ::kill(state_->child.id(), signal);
}

std::string RunningProgram::output_so_far() const { return read_whole_file(state_->out_file); }

RunResult RunningProgram::wait(std::chrono::seconds timeout) {
    RunResult result;
    // Polled, not child.wait_for(): Boost 1.74's wait_for sleeps out the whole timeout when
    // SIGCHLD lands on another thread (tests run servers in threads), then reports success.
    const auto poll = std::chrono::microseconds(state_->measure ? 200 : 2000);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!state_->reap(false)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            result.timed_out = true;
            if (state_->paused) resume();
            ::kill(state_->child.id(), SIGKILL);
            state_->reap(true);
            break;
        }
        std::this_thread::sleep_for(poll);
    }
    const int status = state_->status;
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    // A death by signal is reported as the signal's number, as Boost does: neither 0 nor 1.
    result.exit_code = result.timed_out ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : result.signal;
    result.seconds = std::chrono::duration<double>(state_->ended - state_->started).count();
    if (state_->measure) result.peak_rss_kib = state_->usage.ru_maxrss;
    result.out = read_whole_file(state_->out_file);
    result.err = read_whole_file(state_->err_file);
    throw_on_sanitizer_report(state_->program, result);
    return result;
}

RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options) {
    std::vector<std::string> resolved = argv;
    if (argv.at(0).find('/') == std::string::npos) resolved[0] = bp::search_path(argv[0]).string();
    if (resolved[0].empty() || !fs::exists(resolved[0]))
        return RunResult{.exit_code = 127, .err = argv[0] + ": not found"};
    RunningProgram program(resolved, options);
    return program.wait(options.timeout);
}

}  // namespace harness
