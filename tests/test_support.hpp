// What several chapter tests need beyond the harness: reading files, finding an exchange in
// order, and checking that nothing half-written was left behind.
#pragma once

#include "chapter_run.hpp"
#include "observed_exchange.hpp"
#include "poll_until.hpp"
#include "program_runner.hpp"
#include "registry_instance.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

/// The digests `docker-registry garbage-collect` printed after `marker`, e.g. "blob eligible
/// for deletion: " (chapters 07 and 14 read the collector's own output).
inline std::set<std::string> digests_after(const std::string& out, const std::string& marker) {
    std::set<std::string> digests;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (const auto at = line.find(marker); at != std::string::npos) {
            std::string digest = line.substr(at + marker.size());
            digests.insert(digest.substr(0, digest.find_last_not_of(' ') + 1));
        }
    return digests;
}

/// The file's bytes; the test fails if it cannot be opened.
inline std::string read_existing_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Flips one bit of the byte at `offset` (the letter case of ASCII: JSON stays JSON) in place,
/// the way a failing disk or a tamperer would; flipping it again restores the file.
inline void flip_byte(const std::filesystem::path& file, std::size_t offset) {
    std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(io);
    io.seekg(static_cast<std::streamoff>(offset));
    char byte = 0;
    REQUIRE(io.get(byte));
    io.seekp(static_cast<std::streamoff>(offset));
    REQUIRE(io.put(static_cast<char>(byte ^ 0x20)));
}

/// The harness's one polling loop (harness/poll_until.hpp), for tests that act at the moment
/// they observe something.
using harness::poll_until;

/// True if any ".partial" file or folder is left anywhere below `directory`.
inline bool has_partial_leftovers(const std::filesystem::path& directory) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(directory))
        if (entry.path().filename().string().find(".partial") != std::string::npos) return true;
    return false;
}

/// The index of the first `method` exchange at or after `from` whose URI starts with
/// `prefix`; fails the test, listing what was seen, if there is none.
inline std::size_t index_of(const std::vector<harness::ObservedExchange>& exchanges,
                            const std::string& method, const std::string& prefix,
                            std::size_t from = 0) {
    for (std::size_t i = from; i < exchanges.size(); ++i)
        if (exchanges[i].method == method && exchanges[i].uri.starts_with(prefix)) return i;
    FAIL("no " << method << " " << prefix << " after #" << from << " in\n"
               << harness::summarize(exchanges));
    return 0;
}

/// What every chapter promises for bad input: the program ends in time with exit code 1 and
/// one line on stderr, "<program>: " and then what was wrong (`expected`). The caller's INFO
/// names the case; its own checks (nothing written, nothing left) follow the call.
inline void check_refused(const std::string& program, const harness::RunResult& result,
                          const std::string& expected) {
    CHECK(result.exit_code == 1);
    CHECK_FALSE(result.timed_out);
    CHECK(harness::is_one_line(result.err));
    CHECK_THAT(result.err, Catch::StartsWith(program + ": ") && Catch::Contains(expected));
}

// Registry 2.8 logs a refused request as "error authorizing context: <why>", and never as
// "response completed": the harness's access_log() does not see 401s at all. The reasons, in
// the order logged.
inline std::vector<std::string> auth_refusals(const harness::RegistryInstance& registry) {
    std::vector<std::string> why;
    std::istringstream lines(registry.log());
    const std::string prefix = "error authorizing context: ";
    for (std::string line; std::getline(lines, line);) {
        const auto json = nlohmann::json::parse(line, nullptr, false);
        if (json.is_object() && json.value("msg", "").starts_with(prefix))
            why.push_back(json["msg"].get<std::string>().substr(prefix.size()));
    }
    return why;
}

}  // namespace test_support
