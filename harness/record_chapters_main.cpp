// Runs every chapter program, in book order, against a fresh registry and upstream, and
// records what the book shows: each run's output with its HTTP exchanges (scrubbed), and the
// raw transcript. `./workbook run` shows the same runs to the reader.
//
// Usage: record_chapters <output-dir> <chapter-program>...
#include "busybox_image.hpp"
#include "program_runner.hpp"
#include "registry_instance.hpp"
#include "scrub.hpp"
#include "workspace.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

int main(int argc, char* argv[]) try {
    if (argc < 3) {
        std::cerr << "usage: record_chapters <output-dir> <chapter-program>...\n";
        return EXIT_FAILURE;
    }
    const fs::path output = fs::absolute(argv[1]);
    fs::create_directories(output);
    harness::Workspace workspace("record");

    auto upstream = harness::start_registry({.role = "upstream"}, workspace.path());
    auto registry = harness::start_registry({.role = "registry"}, workspace.path());
    regclient::RegistryClient upstream_client(upstream->host_port());
    harness::seed_busybox(upstream_client);

    // What the reader types is localhost:5000 and :5001; show that, not our free ports.
    const std::vector<std::pair<std::string, std::string>> replacements = {
        {registry->host_port(), "localhost:5000"},
        {upstream->host_port(), "localhost:5001"},
        {workspace.path().string() + "/", ""},
    };

    int failures = 0;
    for (int i = 2; i < argc; ++i) {
        const fs::path program = fs::absolute(argv[i]);
        const std::string name = program.filename().string();
        const fs::path transcript = output / (name + ".transcript.jsonl");
        fs::remove(transcript);
        std::cout << "==== " << name << "\n" << std::flush;
        const harness::RunResult run = harness::run_program(
            {program.string()},
            {.environment = {{"WORKBOOK_REGISTRY", registry->host_port()},
                             {"WORKBOOK_UPSTREAM", upstream->host_port()},
                             {"WORKBOOK_VERBOSE", "1"},
                             {"WORKBOOK_TRANSCRIPT", transcript.string()}},
             .working_directory = workspace.path(),
             .merge_output = true});
        const std::string shown = harness::scrub(run.out, replacements);
        std::ofstream(output / (name + ".out")) << shown;
        std::cout << shown << std::flush;
        if (run.exit_code != 0) {
            std::cerr << "record_chapters: " << name << " failed (exit " << run.exit_code
                      << (run.timed_out ? ", timed out" : "") << ")\n";
            ++failures;
        }
    }
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const std::exception& error) {
    std::cerr << "record_chapters: " << error.what() << "\n";
    return EXIT_FAILURE;
}
