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

RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options) {
    RunResult result;
    fs::path executable = argv.at(0);
    if (argv[0].find('/') == std::string::npos) executable = bp::search_path(argv[0]).string();
    if (executable.empty() || !fs::exists(executable)) {
        result.exit_code = 127;
        result.err = argv[0] + ": not found";
        return result;
    }
    // Output goes to files, not pipes: a chatty program can never block on a full pipe.
    static std::atomic<int> counter{0};
    const fs::path capture = fs::temp_directory_path() /
                             ("workbook-run-" + std::to_string(::getpid()) + "-" +
                              std::to_string(counter++));
    const std::string out_file = capture.string() + ".out";
    const std::string err_file = capture.string() + ".err";

    bp::environment environment = boost::this_process::environment();
    // set(), never environment[name]: Boost 1.74's lookup behind operator[] compares the name
    // with every entry without checking the entry's length (an out-of-bounds read, ASan).
    for (const auto& [name, value] : options.environment) environment.set(name, value);
    const std::vector<std::string> args(argv.begin() + 1, argv.end());
    const fs::path cwd = options.working_directory.empty() ? fs::current_path()
                                                           : options.working_directory;
    bp::child child =
        options.merge_output
            ? bp::child(executable.string(), bp::args(args), environment,
                        bp::start_dir(cwd.string()), bp::std_in.close(),
                        (bp::std_out & bp::std_err) > out_file,
                        bp::extend::on_exec_setup = DieWithParent{})
            : bp::child(executable.string(), bp::args(args), environment,
                        bp::start_dir(cwd.string()), bp::std_in.close(),
                        bp::std_out > out_file, bp::std_err > err_file,
                        bp::extend::on_exec_setup = DieWithParent{});
    // Polled, not child.wait_for(): Boost 1.74's wait_for sleeps out the whole timeout when
    // SIGCHLD lands on another thread (tests run servers in threads), then reports success.
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    while (child.running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            result.timed_out = true;
            child.terminate();
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::error_code ignored;
    child.wait(ignored);
    result.exit_code = result.timed_out ? -1 : child.exit_code();
    result.out = read_whole_file(out_file);
    result.err = read_whole_file(err_file);
    fs::remove(out_file, ignored);
    fs::remove(err_file, ignored);
    throw_on_sanitizer_report(executable.string(), result);
    return result;
}

}  // namespace harness
