// A pull-through cache (chapter 12): a registry whose proxy.remoteurl is the upstream, and what
// registry 2.8.2 does when it is started before its upstream answers.
#include "registry_instance.hpp"

#include <boost/process/search_path.hpp>

#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace harness {

RegistrySpec mirror_of(const RegistryInstance& upstream) {
    // Deletes stay enabled (the base config's and the compose service's): without them 2.8.2
    // cannot remove what expires ("operation unsupported") and keeps it for ever.
    if (upstream.engine() == "compose")
        // The container cannot reach the upstream's port on this machine's loopback; it
        // reaches the upstream's container by its service name.
        return {.role = "mirror",
                .config_patch = {{"proxy", {{"remoteurl", "http://upstream:5000"}}}},
                .compose_project = upstream.compose_project()};
    return {.role = "mirror", .config_patch = {{"proxy", {{"remoteurl", upstream.url()}}}}};
}

RunResult start_mirror_without_upstream(const fs::path& workdir, std::string& dead_upstream) {
    const fs::path binary = boost::process::search_path("docker-registry").string();
    if (binary.empty()) throw std::runtime_error("docker-registry is not installed (Debian package docker-registry)");
    const fs::path directory = workdir / "mirror-without-upstream";
    fs::create_directories(directory / "storage");
    // A port the kernel just handed out and nobody listens on: connecting is refused at once.
    dead_upstream = "127.0.0.1:" + std::to_string(free_loopback_port());
    const nlohmann::json config = {
        {"version", "0.1"},
        {"log", {{"level", "info"}, {"formatter", "json"}}},
        {"storage", {{"filesystem", {{"rootdirectory", (directory / "storage").string()}}}}},
        {"http", {{"addr", "127.0.0.1:" + std::to_string(free_loopback_port())},
                  {"secret", "registry-workbook-shared-secret"}}},
        {"proxy", {{"remoteurl", "http://" + dead_upstream}}},
    };
    std::ofstream(directory / "config.yml") << config.dump(2) << '\n';
    // It should end by itself at once; the timeout only guards against a registry that serves.
    return run_program({binary.string(), "serve", (directory / "config.yml").string()},
                       {.timeout = std::chrono::seconds(20)});
}

}  // namespace harness
