#include "program_runner.hpp"

#include "child_process.hpp"

#include "workbook_paths.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <sys/prctl.h>
#include <unistd.h>
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
};

RunningProgram::RunningProgram(const std::vector<std::string>& argv, const RunOptions& options)
    : state_(std::make_unique<State>()) {
    static std::atomic<int> counter{0};
    const fs::path capture = fs::temp_directory_path() /
                             ("workbook-run-" + std::to_string(::getpid()) + "-" +
                              std::to_string(counter++));
    state_->program = argv.at(0);
    state_->out_file = capture.string() + ".out";
    state_->err_file = capture.string() + ".err";

    bp::environment environment = boost::this_process::environment();
    // set(), never environment[name]: Boost 1.74's lookup behind operator[] compares the name
    // with every entry without checking the entry's length (an out-of-bounds read, ASan).
    for (const auto& [name, value] : options.environment) environment.set(name, value);
    const std::vector<std::string> args(argv.begin() + 1, argv.end());
    const fs::path cwd = options.working_directory.empty() ? fs::current_path()
                                                           : options.working_directory;
    state_->child =
        options.merge_output
            ? bp::child(state_->program, bp::args(args), environment,
                        bp::start_dir(cwd.string()), bp::std_in.close(),
                        (bp::std_out & bp::std_err) > state_->out_file,
                        bp::extend::on_exec_setup = DieWithParent{})
            : bp::child(state_->program, bp::args(args), environment,
                        bp::start_dir(cwd.string()), bp::std_in.close(),
                        bp::std_out > state_->out_file, bp::std_err > state_->err_file,
                        bp::extend::on_exec_setup = DieWithParent{});
}

RunningProgram::~RunningProgram() {
    if (state_->paused) resume();
    end_child(state_->child, SIGKILL);
    std::error_code ignored;
    fs::remove(state_->out_file, ignored);
    fs::remove(state_->err_file, ignored);
}

bool RunningProgram::running() { return state_->child.running(); }

void RunningProgram::pause() {
    ::kill(state_->child.id(), SIGSTOP);
    state_->paused = true;
}

void RunningProgram::resume() {
    ::kill(state_->child.id(), SIGCONT);
    state_->paused = false;
}

RunResult RunningProgram::wait(std::chrono::seconds timeout) {
    RunResult result;
    // Polled, not child.wait_for(): Boost 1.74's wait_for sleeps out the whole timeout when
    // SIGCHLD lands on another thread (tests run servers in threads), then reports success.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (state_->child.running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            result.timed_out = true;
            if (state_->paused) resume();
            state_->child.terminate();
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::error_code ignored;
    state_->child.wait(ignored);
    // Boost reports a death by signal as the signal's number: a crash is neither 0 nor 1.
    result.exit_code = result.timed_out ? -1 : state_->child.exit_code();
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
