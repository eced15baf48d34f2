#include "own_dockerd.hpp"

#include <boost/process/search_path.hpp>

#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace harness {

OwnDockerd::OwnDockerd(const fs::path& directory, const nlohmann::json& daemon_json)
    : directory_(directory), host_("unix://" + (directory / "docker.sock").string()) {
    const std::string dockerd = boost::process::search_path("dockerd").string();
    if (dockerd.empty()) throw std::runtime_error("dockerd is not installed (Debian package docker.io)");
    fs::create_directories(directory_);
    std::ofstream(directory_ / "daemon.json") << daemon_json.dump(2) << '\n';
    daemon_ = std::make_unique<RunningProgram>(
        std::vector<std::string>{dockerd, "--config-file", (directory_ / "daemon.json").string(),
                                 "--host", host_, "--data-root", (directory_ / "data").string(),
                                 "--exec-root", (directory_ / "exec").string(), "--pidfile",
                                 (directory_ / "dockerd.pid").string(), "--iptables=false",
                                 "--bridge=none", "--storage-driver", "vfs"},
        RunOptions{.working_directory = directory_, .merge_output = true,
                   .capture_directory = directory_});
    for (int i = 0; i < 120; ++i) {
        if (docker({"info"}).exit_code == 0) return;
        if (!daemon_->running()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    const std::string printed = log();
    daemon_.reset();
    throw std::runtime_error("dockerd did not start: " + printed.substr(printed.size() > 2000 ? printed.size() - 2000 : 0));
}

OwnDockerd::~OwnDockerd() {
    if (!daemon_) return;
    daemon_->send(SIGTERM);
    // wait() kills it if it has not stopped by then. It throws only for a sanitizer report,
    // which dockerd (not built by us) cannot make; a destructor must not throw anyway.
    try {
        daemon_->wait(std::chrono::seconds(20));
    } catch (const std::exception&) {
    }
}

RunResult OwnDockerd::docker(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"docker", "--host", host_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, {.timeout = std::chrono::seconds(180)});
}

std::string OwnDockerd::log() const { return daemon_ ? daemon_->output_so_far() : std::string(); }

}  // namespace harness
