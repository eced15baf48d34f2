// The compose engine: the top-level docker-compose.yml, one compose project per instance.
#include "compose_tools.hpp"
#include "registry_instance.hpp"
#include "workbook_paths.hpp"
#include "workspace.hpp"

#include <boost/process/search_path.hpp>

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace harness {
namespace {

// The registry names its override variables after the Go fields of its configuration, not
// after config.yml's keys; the two differ for the health checks (observed on 2.8.2:
// REGISTRY_HEALTH_FILE is ignored, REGISTRY_HEALTH_FILECHECKERS works).
std::string field_name(const std::string& prefix, const std::string& key) {
    if (prefix == "REGISTRY_HEALTH") {
        if (key == "file") return "filecheckers";
        if (key == "http") return "httpcheckers";
        if (key == "tcp") return "tcpcheckers";
    }
    return key;
}

// REGISTRY_* variables from a config patch: {"storage":{"delete":{"enabled":false}}} becomes
// REGISTRY_STORAGE_DELETE_ENABLED=false, the registry's own override scheme.
void flatten(const nlohmann::json& patch, const std::string& prefix, nlohmann::json& environment) {
    for (const auto& [key, value] : patch.items()) {
        std::string name = prefix + "_" + field_name(prefix, key);
        for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (value.is_object()) flatten(value, name, environment);
        else if (value.is_string()) environment[name] = value.get<std::string>();
        // A list (notifications.endpoints) goes as one value, in JSON: the registry reads
        // such a variable as YAML, of which JSON is a part.
        else environment[name] = value.dump();
    }
}

class ComposeRegistry final : public RegistryInstance {
public:
    ComposeRegistry(const RegistrySpec& spec, const fs::path& workdir)
        : compose_(compose_command()),
          service_(spec.host_network && spec.role == "registry" ? "registry-host-network" : spec.role),
          directory_(workdir / spec.role),
          // The mirror joins its upstream's project (mirror_of) and leaves it running.
          owns_project_(spec.role != "mirror") {
        if (service_ != "registry" && service_ != "registry-host-network" && service_ != "upstream" &&
            service_ != "mirror")
            throw std::invalid_argument("docker-compose.yml has no service '" + service_ + "'");
        if (spec.host_network && spec.role != "registry")
            throw std::invalid_argument("only the compose registry has a host-network service, not the " + spec.role);
        if (!owns_project_ && spec.compose_project.empty())
            throw std::invalid_argument(
                "a compose mirror runs in its upstream's project: start it with mirror_of(upstream)");
        require_docker_daemon();
        static std::atomic<int> counter{0};
        project_ = !spec.compose_project.empty()
                       ? spec.compose_project
                       : Workspace::prefix() + std::to_string(::getpid()) + "-" +
                             std::to_string(counter++);
        port_ = spec.port ? spec.port : free_loopback_port();
        fs::create_directories(directory_ / "storage");

        const std::string prefix = spec.role == "registry" ? "REGISTRY"
                                   : spec.role == "upstream" ? "UPSTREAM"
                                                             : "MIRROR";
        environment_ = {{"REGISTRY_IMAGE", offline_image("REGISTRY_IMAGE", "build-registry-image")},
                        {prefix + "_PORT", std::to_string(port_)},
                        {prefix + "_DATA", (directory_ / "storage").string()}};
        // The reader's registry publishes its debug address too (chapter 13).
        if (spec.role == "registry") {
            debug_port_ = free_loopback_port();
            environment_["REGISTRY_DEBUG_PORT"] = std::to_string(debug_port_);
        }
        nlohmann::json variables = nlohmann::json::object();
        flatten(spec.config_patch, "REGISTRY", variables);
        const nlohmann::json override_file = {
            {"version", "3.7"},
            {"services", {{service_, {{"environment", variables}}}}}};
        std::ofstream(directory_ / "compose-override.yml") << override_file.dump(2) << '\n';

        // --no-deps: the mirror's upstream is already up, started (and owned) by another instance.
        const std::vector<std::string> up_args{"up", "-d", "--no-deps", service_};
        // A port picked free can be taken before docker binds it: try a few, as natively.
        RunResult up = compose(up_args);
        for (int attempt = 1; up.exit_code != 0 && !spec.port && attempt < 5 &&
                              up.err.find("address already in use") != std::string::npos;
             ++attempt) {
            remove();
            port_ = free_loopback_port();
            environment_[prefix + "_PORT"] = std::to_string(port_);
            if (debug_port_) {
                debug_port_ = free_loopback_port();
                environment_["REGISTRY_DEBUG_PORT"] = std::to_string(debug_port_);
            }
            up = compose(up_args);
        }
        if (up.exit_code != 0) {
            remove();
            throw std::runtime_error("docker-compose up failed: " + up.err);
        }
        if (!wait_until_answering(url(), 30)) {
            const std::string last_log = log();
            remove();
            throw std::runtime_error("the compose registry did not answer: " + last_log);
        }
    }
    ~ComposeRegistry() override {
        log_follower_.reset();
        remove();
    }

    std::string host_port() const override { return "127.0.0.1:" + std::to_string(port_); }
    std::string log() const override {
        return compose({"logs", "--no-color", "--no-log-prefix", service_}).out;
    }
    fs::path storage_root() const override { return directory_ / "storage"; }
    std::string engine() const override { return "compose"; }
    std::string compose_project() const override { return project_; }
    std::string debug_url() const override {
        return debug_port_ ? "http://127.0.0.1:" + std::to_string(debug_port_) : std::string();
    }

    // The container's log is kept by Docker, not in a file here: `compose logs --follow`
    // copies it into one, from the first call on, for a program that reads it as it grows.
    // It follows one run of the container: a restart (stop/start) is not followed.
    fs::path log_file() const override {
        if (!log_follower_) {
            std::vector<std::string> argv = compose_;
            argv[0] = boost::process::search_path(argv[0]).string();
            argv.insert(argv.end(), {"-f", (fs::path(paths::source_dir) / "docker-compose.yml").string(),
                                     "-f", (directory_ / "compose-override.yml").string(),
                                     "-p", project_, "logs", "--follow", "--no-color",
                                     "--no-log-prefix", service_});
            fs::create_directories(directory_ / "log-follower");
            log_follower_.emplace(argv, RunOptions{.environment = environment_,
                                                   .working_directory = directory_,
                                                   .capture_directory = directory_ / "log-follower"});
            // `logs --follow` prints the log so far first. A reader that takes the file's size
            // as "now" must find that history already there: wait until the file has content
            // and has not grown for 300 ms (at most 10 s).
            const fs::path file = log_follower_->output_file();
            std::uintmax_t seen = 0;
            for (int quiet_ms = 0, waited_ms = 0; (seen == 0 || quiet_ms < 300) && waited_ms < 10000;
                 waited_ms += 50) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                std::error_code missing;
                const std::uintmax_t now = fs::file_size(file, missing);
                quiet_ms = !missing && now == seen ? quiet_ms + 50 : 0;
                if (!missing) seen = now;
            }
            if (seen == 0)
                throw std::runtime_error("docker-compose logs --follow wrote nothing for " + service_);
        }
        return log_follower_->output_file();
    }

    // stop, kill and start keep the container, so its log survives a restart.
    void stop() override { compose({"stop", service_}); }
    void kill() override { compose({"kill", "-s", "SIGKILL", service_}); }
    void start() override {
        const RunResult started = compose({"start", service_});
        if (started.exit_code != 0 || !wait_until_answering(url(), 30))
            throw std::runtime_error("the compose registry did not start again: " + started.err);
    }

    RunResult garbage_collect(const std::vector<std::string>& flags) override {
        if (wait_until_answering(url(), 0.2))
            throw std::logic_error("stop the registry before garbage-collect");
        // A one-off container of the same service: same image, environment and storage.
        std::vector<std::string> args{"run", "--rm", "--no-deps", "-T", service_, "garbage-collect"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.push_back("/etc/docker/registry/config.yml");
        return compose(args);
    }

private:
    // The whole project when it is ours; only the mirror's container when it is not.
    void remove() const {
        if (owns_project_) compose({"down", "-v", "--remove-orphans"});
        else compose({"rm", "--stop", "--force", "-v", service_});
    }

    RunResult compose(const std::vector<std::string>& args) const {
        return run_compose(compose_,
                           {fs::path(paths::source_dir) / "docker-compose.yml",
                            directory_ / "compose-override.yml"},
                           project_, args, environment_, directory_);
    }

    std::vector<std::string> compose_;
    std::string service_;
    fs::path directory_;
    std::string project_;
    unsigned short port_ = 0;
    std::map<std::string, std::string> environment_;
    bool owns_project_ = true;
    unsigned short debug_port_ = 0;
    mutable std::optional<RunningProgram> log_follower_;
};

}  // namespace

std::unique_ptr<RegistryInstance> start_compose_registry(const RegistrySpec& spec,
                                                         const fs::path& workdir) {
    return std::make_unique<ComposeRegistry>(spec, workdir);
}

}  // namespace harness
