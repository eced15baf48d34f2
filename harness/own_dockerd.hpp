// A Docker daemon of the test's own: its own socket, data, state and daemon.json, so a test
// can configure it (registry-mirrors, chapter 12) without touching the machine's daemon.
#pragma once

#include "program_runner.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace harness {

class OwnDockerd {
public:
    /// Starts `dockerd --config-file <directory>/daemon.json` (holding `daemon_json`) with its
    /// data, state and socket under `directory`, as the workbook starts the machine's
    /// (--iptables=false --bridge=none), on the vfs storage driver, which works on any
    /// filesystem. Waits until `docker info` answers; throws with its log if it does not.
    OwnDockerd(const std::filesystem::path& directory, const nlohmann::json& daemon_json);
    /// Stops it (SIGTERM, then SIGKILL after 20 s).
    ~OwnDockerd();
    OwnDockerd(const OwnDockerd&) = delete;
    OwnDockerd& operator=(const OwnDockerd&) = delete;

    /// `docker -H unix://<socket> <args>`.
    RunResult docker(const std::vector<std::string>& args) const;
    /// What the daemon printed so far.
    std::string log() const;

private:
    std::filesystem::path directory_;
    std::string host_;
    std::unique_ptr<RunningProgram> daemon_;
};

}  // namespace harness
