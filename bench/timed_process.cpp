#include "timed_process.hpp"

#include "child_process.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <cerrno>
#include <csignal>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace bench {

std::string first_line(const std::string& text) {
    const auto start = text.find_first_not_of("\n\r ");
    if (start == std::string::npos) return "";
    return text.substr(start, text.find_first_of("\r\n", start) - start);
}

TimedRun run_timed(const std::vector<std::string>& argv, const TimedOptions& options) {
    fs::path executable = argv.at(0);
    if (argv[0].find('/') == std::string::npos) executable = bp::search_path(argv[0]).string();
    if (executable.empty() || !fs::exists(executable))
        throw std::runtime_error(argv[0] + " is not installed");
    static std::atomic<int> counter{0};
    const fs::path capture = options.scratch / ("run-" + std::to_string(counter++));
    const std::string out_file = capture.string() + ".out";
    const std::string err_file = capture.string() + ".err";

    bp::environment environment = boost::this_process::environment();
    for (const auto& [name, value] : options.environment) environment[name] = value;
    const std::vector<std::string> args(argv.begin() + 1, argv.end());

    TimedRun run;
    const auto start = std::chrono::steady_clock::now();
    bp::child child(executable.string(), bp::args(args), environment, bp::std_in.close(),
                    bp::std_out > out_file, bp::std_err > err_file,
                    bp::extend::on_exec_setup = harness::DieWithParent{});
    const pid_t pid = child.id();
    // From here on the child is ours to reap with wait4, not Boost's.
    child.detach();
    const auto deadline = start + options.timeout;
    int status = 0;
    rusage usage{};
    for (;;) {
        const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) throw std::runtime_error("wait4 failed for " + argv[0]);
        if (std::chrono::steady_clock::now() >= deadline) {
            run.timed_out = true;
            ::kill(pid, SIGKILL);
            while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
            }
            break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.peak_rss_kib = usage.ru_maxrss;
    run.exit_code = run.timed_out ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = harness::read_whole_file(out_file);
    run.err = harness::read_whole_file(err_file);
    std::error_code ignored;
    fs::remove(out_file, ignored);
    fs::remove(err_file, ignored);
    return run;
}

}  // namespace bench
