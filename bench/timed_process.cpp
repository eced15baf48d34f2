#include "timed_process.hpp"

#include <boost/process/search_path.hpp>

#include <stdexcept>

namespace fs = std::filesystem;

namespace bench {

std::string first_line(const std::string& text) {
    const auto start = text.find_first_not_of("\n\r ");
    if (start == std::string::npos) return "";
    return text.substr(start, text.find_first_of("\r\n", start) - start);
}

TimedRun run_timed(const std::vector<std::string>& argv, const TimedOptions& options) {
    // Checked here, not read from run_program's exit code 127: a tool may exit 127 itself,
    // and a missing tool must stop the benchmark, not be timed.
    if (argv.at(0).find('/') == std::string::npos
            ? boost::process::search_path(argv[0]).empty()
            : !fs::exists(argv[0]))
        throw std::runtime_error(argv[0] + " is not installed");
    return harness::run_program(argv, {.environment = options.environment,
                                       .timeout = options.timeout,
                                       .capture_directory = options.scratch,
                                       .measure_peak_rss = true});
}

}  // namespace bench
