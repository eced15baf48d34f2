// What every compose-run service of the harness needs: the compose command this machine has,
// a Docker daemon, an image that works offline, and one way to call compose for a project.
#pragma once

#include "program_runner.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace harness {

/// docker-compose (v1, Debian's) or the v2 plugin, whichever this machine has; throws if none.
std::vector<std::string> compose_command();

/// Throws with what to do when no Docker daemon answers.
void require_docker_daemon();

/// The image named by the environment variable `variable` (REGISTRY_IMAGE, REDIS_IMAGE), else
/// the one harness/<build_script> builds from Debian's binary: nothing can be pulled offline.
std::string offline_image(const std::string& variable, const std::string& build_script);

/// `<compose> -f <file>... -p <project> <args>` with `environment`, in `directory`.
RunResult run_compose(const std::vector<std::string>& compose,
                      const std::vector<std::filesystem::path>& files, const std::string& project,
                      const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& environment,
                      const std::filesystem::path& directory);

}  // namespace harness
