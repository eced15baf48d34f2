// Runs after every other test (a CTest fixture cleanup), and once more at the end of each
// stage of `./workbook test`: nothing a test of this checkout started is still running, and
// no workspace folder is left. Anything found is reported, cleaned up, and fails this test.
#include "program_runner.hpp"
#include "workspace.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace harness;

namespace {

std::string command_line(const fs::path& process) {
    std::ifstream in(process / "cmdline", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    for (auto& c : text)
        if (c == '\0') c = ' ';
    return text;
}

std::string listed(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += item + "\n";
    return text;
}

}  // namespace

TEST_CASE("after the suite: no registry, redis, ceph or nginx process a test started is still running", "[harness]") {
    const char* const daemons[] = {"docker-registry serve", "redis-server", "ceph-mon", "ceph-osd", "radosgw", "nginx"};
    std::vector<std::string> leftovers;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const std::string command = command_line(entry.path());
        // Chapter 15's daemons name their folder in the workspace on the command line too:
        // ceph.conf (ceph-mon, ceph-osd, radosgw) and nginx.conf.
        const bool ours = std::any_of(std::begin(daemons), std::end(daemons), [&](const char* daemon) {
            return command.find(daemon) != std::string::npos;
        });
        if (ours && command.find(Workspace::prefix()) != std::string::npos) {
            leftovers.push_back(name + ": " + command);
            ::kill(std::stoi(name), SIGKILL);
        }
    }
    INFO("left running:\n" << listed(leftovers));
    CHECK(leftovers.empty());
}

TEST_CASE("after the suite: no workspace folder a test made is left", "[harness]") {
    std::vector<std::string> leftovers;
    for (const auto& entry : fs::directory_iterator(fs::temp_directory_path()))
        if (entry.path().filename().string().starts_with(Workspace::prefix())) {
            leftovers.push_back(entry.path().string());
            std::error_code ignored;
            fs::remove_all(entry.path(), ignored);
        }
    INFO("left behind:\n" << listed(leftovers));
    CHECK(leftovers.empty());
}

TEST_CASE("after the suite: no compose project a test started is still up", "[harness]") {
    const RunResult docker = run_program({"docker", "ps", "-a", "--format", "{{.Label \"com.docker.compose.project\"}}"});
    if (docker.exit_code == 127) {
        // No docker CLI on this machine: no compose project can have been started.
        SUCCEED("docker is not installed");
        return;
    }
    if (docker.exit_code != 0 && run_program({"docker", "info"}).exit_code != 0) {
        // The CLI is there but no daemon answers (the state `./workbook test` leaves behind):
        // no container runs, so no compose project can be up. Native runs need no daemon.
        SUCCEED("no Docker daemon answers: " << docker.err);
        return;
    }
    REQUIRE(docker.exit_code == 0);
    std::vector<std::string> projects;
    std::istringstream lines(docker.out);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with(Workspace::prefix()) &&
            std::find(projects.begin(), projects.end(), line) == projects.end())
            projects.push_back(line);
    for (const auto& project : projects) {
        const RunResult ids = run_program({"docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + project});
        std::istringstream id_lines(ids.out);
        for (std::string id; std::getline(id_lines, id);) run_program({"docker", "rm", "-f", "-v", id});
    }
    INFO("compose projects left up:\n" << listed(projects));
    CHECK(projects.empty());
}
