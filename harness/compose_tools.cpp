#include "compose_tools.hpp"

#include "workbook_paths.hpp"

#include <cstdlib>
#include <stdexcept>

namespace fs = std::filesystem;

namespace harness {

std::vector<std::string> compose_command() {
    if (run_program({"docker-compose", "version"}).exit_code == 0) return {"docker-compose"};
    if (run_program({"docker", "compose", "version"}).exit_code == 0) return {"docker", "compose"};
    throw std::runtime_error(
        "the compose engine needs docker-compose (Debian package docker-compose) or docker compose");
}

void require_docker_daemon() {
    if (run_program({"docker", "info"}).exit_code != 0)
        throw std::runtime_error(
            "the compose engine needs a running Docker daemon: start one with "
            "'dockerd --iptables=false --bridge=none &' (Debian package docker.io)");
}

std::string offline_image(const std::string& variable, const std::string& build_script) {
    if (const char* image = std::getenv(variable.c_str()); image && *image) return image;
    const RunResult built = run_program({(fs::path(paths::source_dir) / "harness" / build_script).string()});
    if (built.exit_code != 0)
        throw std::runtime_error("cannot build an image with harness/" + build_script + ": " + built.err);
    return built.out.substr(0, built.out.find('\n'));
}

RunResult run_compose(const std::vector<std::string>& compose, const std::vector<fs::path>& files,
                      const std::string& project, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& environment,
                      const fs::path& directory) {
    std::vector<std::string> argv = compose;
    for (const auto& file : files) argv.insert(argv.end(), {"-f", file.string()});
    argv.insert(argv.end(), {"-p", project});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, {.environment = environment,
                              .working_directory = directory,
                              .timeout = std::chrono::seconds(120)});
}

}  // namespace harness
