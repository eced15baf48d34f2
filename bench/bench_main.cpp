// bench_driver: issue 7's benchmark. Push, verified pull, copy between registries and copy
// within one, each by our library (workbook_transfer), skopeo and parallel curl (the bound),
// on fresh native registries; the table, CSV and chart go to the output folder.
//
// Usage: bench_driver [--reps N] [--suite-times] [--only PARTS] [output-folder]   (the full run)
//        bench_driver --quick [--reps N] [--only PARTS] <output-folder>  (4 x 8 MiB, for the book)
// PARTS: a comma-separated list of transfers (cases 1-4), heads, big (peak RSS on 1 GiB),
// mirror (pulls through a pull-through cache) and replicas (push and pull on Ceph RGW behind
// nginx: needs ceph-mon, ceph-osd, radosgw and nginx); the full run has all five, the quick run
// the first two. e.g. bench_driver --reps 5 build/bench; bench_driver --only mirror build/bench-mirror
#include "bench_cases.hpp"
#include "bench_report.hpp"
#include "workload.hpp"

#include "program_runner.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char* usage =
    "usage: bench_driver [--reps N] [--suite-times] [--only PARTS] [output-folder] | "
    "bench_driver --quick [--reps N] [--only PARTS] <output-folder>; PARTS: a comma-separated "
    "list of transfers, heads, big, mirror, replicas";

const std::set<std::string> all_parts = {"transfers", "heads", "big", "mirror", "replicas"};

struct Options {
    bool quick = false;
    unsigned reps = 3;
    bool reps_given = false;
    bool suite_times = false;
    std::set<std::string> only;  ///< empty: the run's usual parts
    fs::path output = WORKBOOK_BENCH_OUTPUT;

    bool runs(const std::string& part) const {
        if (!only.empty()) return only.contains(part);
        return !quick || part == "transfers" || part == "heads";
    }
};

std::set<std::string> parse_parts(const std::string& list) {
    std::set<std::string> parts;
    std::istringstream items(list);
    std::string part;
    while (std::getline(items, part, ','))
        if (!all_parts.contains(part))
            throw std::invalid_argument("--only takes transfers, heads, big, mirror or replicas, not '" +
                                        part + "'");
        else
            parts.insert(part);
    if (parts.empty()) throw std::invalid_argument("--only needs at least one part");
    return parts;
}

Options parse_options(const std::vector<std::string>& args) {
    Options options;
    bool output_given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--quick") {
            options.quick = true;
        } else if (arg == "--suite-times") {
            options.suite_times = true;
        } else if (arg == "--only") {
            if (i + 1 == args.size()) throw std::invalid_argument(std::string("--only needs a list; ") + usage);
            options.only = parse_parts(args[++i]);
        } else if (arg == "--reps") {
            if (i + 1 == args.size()) throw std::invalid_argument("--reps needs a number");
            const std::string& value = args[++i];
            if (value.empty() || value.size() > 2 ||
                value.find_first_not_of("0123456789") != std::string::npos ||
                std::stoi(value) < 1 || std::stoi(value) > 20)
                throw std::invalid_argument("--reps must be from 1 to 20, not '" + value + "'");
            options.reps = static_cast<unsigned>(std::stoi(value));
            options.reps_given = true;
        } else if (arg.starts_with("-")) {
            throw std::invalid_argument("unknown option '" + arg + "'; " + usage);
        } else if (output_given) {
            throw std::invalid_argument(std::string("one output folder only; ") + usage);
        } else {
            options.output = arg;
            output_given = true;
        }
    }
    if (options.quick && !output_given)
        throw std::invalid_argument("--quick needs an output folder (the full run's is " +
                                    std::string(WORKBOOK_BENCH_OUTPUT) + ")");
    if (options.quick && !options.reps_given) options.reps = 1;
    if (options.quick && options.suite_times)
        throw std::invalid_argument("--quick and --suite-times do not go together");
    return options;
}

// "<tool> <version>" from the first line of `<tool> --version`, whose version is the word
// `index` (counted from 0; negative counts from the end).
std::string version_of(const std::string& tool, int index) {
    const auto run = harness::run_program({tool, "--version"}, {.timeout = std::chrono::seconds(30)});
    if (run.exit_code == 127) throw std::runtime_error(tool + " is not installed");
    std::istringstream line(bench::first_line(run.out + run.err));
    std::vector<std::string> words{std::istream_iterator<std::string>(line), {}};
    if (index < 0) index += static_cast<int>(words.size());
    if (index < 0 || index >= static_cast<int>(words.size())) return tool + " (version unknown)";
    return tool + " " + words[static_cast<std::size_t>(index)];
}

std::string header(const Options& options, const bench::BenchImage& image, unsigned layers,
                   std::uint64_t layer_bytes) {
    char date[64];
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    double load[1] = {0};
    if (::getloadavg(load, 1) != 1) load[0] = 0;
    char text[1024];
    std::snprintf(
        text, sizeof text,
        "Registry Workbook benchmark, %s: %s run, %u repetition(s), a fresh registry per run\n"
        "image: %u x %llu MiB incompressible layers + config = %.1f MB; layers are %s\n"
        "%s; %s; %s\nmachine: %u CPUs, load average %.2f at the start\n",
        date, options.quick ? "quick" : "full", options.reps, layers,
        static_cast<unsigned long long>(layer_bytes >> 20),
        static_cast<double>(image.total_bytes()) / 1e6, bench::layer_encoding,
        version_of("docker-registry", -1).c_str(), version_of("skopeo", -1).c_str(),
        version_of("curl", 1).c_str(),
        std::thread::hardware_concurrency(), load[0]);
    return text;
}

void say(const std::string& text) { std::cerr << "==> " << text << std::endl; }

// The two long timings issue 7 asks the benchmark to report.
std::vector<bench::SuiteTime> suite_times(const fs::path& scratch, const fs::path& output) {
    const std::string build = WORKBOOK_BUILD_DIR;
    say("Building everything first (untimed)");
    const auto built = bench::run_timed({"cmake", "--build", build, "-j2"},
                                        {.timeout = std::chrono::seconds(3600), .scratch = scratch});
    if (built.exit_code != 0)
        throw std::runtime_error("the build failed: " + bench::first_line(built.out + built.err));
    std::vector<bench::SuiteTime> times;
    // "The whole native test suite": every test but the compose run and the book's own
    // two tests (the book build is timed on its own, next).
    const std::vector<std::vector<std::string>> commands = {
        {"ctest", "--test-dir", build, "-j2", "-LE", "^(compose|book)$"},
        {"cmake", "--build", build, "--target", "book"}};
    const char* names[] = {"native test suite", "book build"};
    const char* logs[] = {"suite-tests.log", "suite-book.log"};
    for (std::size_t i = 0; i < commands.size(); ++i) {
        say(std::string("Timing the ") + names[i]);
        const auto run = bench::run_timed(
            commands[i], {.timeout = std::chrono::seconds(3600), .scratch = scratch});
        std::string command;
        for (const auto& word : commands[i]) command += (command.empty() ? "" : " ") + word;
        std::ofstream(output / logs[i]) << run.out << run.err;
        bench::SuiteTime time{names[i], command, run.seconds, run.exit_code};
        if (run.exit_code != 0) {
            // ctest ends with "The following tests FAILED:" and one line per test.
            std::istringstream lines(run.out.substr(std::min(
                run.out.size(), run.out.find("The following tests FAILED:"))));
            std::string line;
            std::getline(lines, line);
            while (std::getline(lines, line) && line.find(" - ") != std::string::npos)
                time.failures += (time.failures.empty() ? "" : ", ") +
                                 line.substr(line.find(" - ") + 3);
            time.failures += std::string(time.failures.empty() ? "" : "; ") + "see " + logs[i];
        }
        times.push_back(time);
    }
    return times;
}

void write_file(const fs::path& file, const std::string& text) {
    std::ofstream out(file);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace

int main(int argc, char** argv) try {
    const Options options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
    for (const char* tool : {"skopeo", "curl", "gnuplot", "docker-registry", "bash"})
        if (harness::run_program({tool, "--version"}).exit_code == 127)
            throw std::runtime_error(std::string(tool) + " is not installed (./workbook setup)");
    if (options.runs("replicas"))
        for (const char* tool : {"ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "nginx"})
            if (harness::run_program({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0)
                throw std::runtime_error(std::string(tool) + " is not installed, the replicas "
                                         "part needs it (./workbook setup)");

    fs::create_directories(options.output);
    const fs::path work = options.output / "work";
    fs::remove_all(work);
    fs::create_directories(work);

    const unsigned layers = 4;
    const std::uint64_t layer_bytes = (options.quick ? 8ull : 128ull) << 20;
    // Smaller than the other cases' image, for the replicas: Ceph's OSD runs on memstore, which
    // keeps every stored object in RAM at 3 to 4.6 times its size, and a push stores the image
    // twice (the upload's multipart parts, then the copy to blobs/): 4 x 32 MiB keeps the OSD
    // near 1 GB, where 4 x 128 MiB would take it past 2 GB per setup.
    const unsigned replica_layers = 4;
    const std::uint64_t replica_layer_bytes = 32ull << 20;
    // Only the parts that use an image generate it (a run of the replicas alone is quicker).
    const bool main_image = options.runs("transfers") || options.runs("heads") ||
                            options.runs("mirror") || options.runs("big");
    std::optional<bench::BenchImage> image, replica_image;
    if (main_image) {
        say("Generating the image: " + std::to_string(layers) + " x " +
            std::to_string(layer_bytes >> 20) + " MiB layers");
        image = bench::generate_image(work / "image-layout", layers, layer_bytes, 7);
    }
    if (options.runs("replicas")) {
        say("Generating the replicas' image: " + std::to_string(replica_layers) + " x " +
            std::to_string(replica_layer_bytes >> 20) + " MiB layers");
        replica_image = bench::generate_image(work / "replicas-layout", replica_layers,
                                              replica_layer_bytes, 9);
    }

    bench::BenchRunner runner(work, WORKBOOK_TRANSFER_PROGRAM);
    bench::BenchReport report;
    report.quick = options.quick;
    report.header = main_image ? header(options, *image, layers, layer_bytes)
                               : header(options, *replica_image, replica_layers, replica_layer_bytes);
    if (options.runs("transfers")) {
        say("Cases 1-4, " + std::to_string(options.reps) + " repetition(s), every tool");
        report.measurements = runner.run_cases(*image, options.reps, !options.quick);
    }
    if (options.runs("heads")) {
        say("100 HEADs on one connection");
        report.heads = runner.run_heads(*image, 100, std::max(3u, options.reps));
    }
    if (options.runs("mirror")) {
        say("Pulls through a mirror, " + std::to_string(options.reps) +
            " repetition(s): direct, cold, cached");
        report.mirror = runner.run_mirror(*image, options.reps, !options.quick);
    }
    if (options.runs("replicas")) {
        say("Push and pull on Ceph RGW: filesystem, one replica directly, nginx + 1, 2, 3 "
            "replicas; " + std::to_string(options.reps) + " repetition(s)");
        report.replicas = runner.run_replicas(*replica_image, options.reps, !options.quick);
        report.replicas->layers = replica_layers;
        report.replicas->layer_bytes = replica_layer_bytes;
        fs::remove_all(replica_image->layout);
    }
    if (options.runs("big")) {
        say("Peak RSS on a 1 GiB single-layer image");
        fs::remove_all(image->layout);
        const bench::BenchImage big = bench::generate_image(work / "big-layout", 1, 1ull << 30, 8);
        report.big_layer = runner.run_big_layer(big);
        fs::remove_all(big.layout);
    }
    if (options.suite_times) report.suite_times = suite_times(work / "captured", options.output);

    const std::string text = bench::format_report(report);
    write_file(options.output / "results.txt", text);
    write_file(options.output / "results.csv", bench::format_csv(report));
    // The chart shows cases 1-4 by every tool; a run without them has none.
    const bool chart = !report.measurements.empty();
    if (chart) bench::draw_chart(report, options.output, options.quick);
    fs::remove_all(work);
    std::cout << text << "\nWritten in " << options.output.string() << ": results.txt, "
              << "results.csv" << (!chart ? "" : options.quick ? ", chart.svg" : ", chart.png, chart.svg")
              << '\n';
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "bench_driver: " << error.what() << '\n';
    return EXIT_FAILURE;
}
