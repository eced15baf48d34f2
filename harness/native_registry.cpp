// The native engine: Debian's docker-registry binary, one process per instance.
#include "registry_instance.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <sys/prctl.h>
#include <csignal>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace harness {
namespace {

// Dies with its parent: a test killed by a timeout leaves no registry behind.
struct DieWithParent {
    template <class Executor>
    void operator()(Executor&) const {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    }
};

std::string read_whole(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

nlohmann::json base_config(const fs::path& storage, unsigned short port,
                           unsigned short debug_port) {
    return {
        {"version", "0.1"},
        {"log", {{"level", "info"}, {"formatter", "json"}}},
        {"storage",
         {{"filesystem", {{"rootdirectory", storage.string()}}},
          {"delete", {{"enabled", true}}}}},
        {"http",
         {{"addr", "127.0.0.1:" + std::to_string(port)},
          {"secret", "registry-workbook-shared-secret"},
          {"headers", {{"X-Content-Type-Options", {"nosniff"}}}},
          {"debug",
           {{"addr", "127.0.0.1:" + std::to_string(debug_port)},
            {"prometheus", {{"enabled", true}, {"path", "/metrics"}}}}}}},
    };
}

class NativeRegistry final : public RegistryInstance {
public:
    NativeRegistry(const RegistrySpec& spec, const fs::path& workdir)
        : directory_(workdir / spec.role) {
        const fs::path binary = bp::search_path("docker-registry").string();
        if (binary.empty())
            throw std::runtime_error(
                "docker-registry is not installed (Debian package docker-registry)");
        fs::create_directories(directory_ / "storage");
        // A port picked free can be taken before the registry binds it: try a few.
        for (int attempt = 0; attempt < 5; ++attempt) {
            port_ = spec.port ? spec.port : free_loopback_port();
            const unsigned short debug_port = free_loopback_port();
            nlohmann::json config = base_config(directory_ / "storage", port_, debug_port);
            // Like Docker Hub, the upstream does not let clients delete through the API.
            if (spec.role == "upstream") config["storage"]["delete"]["enabled"] = false;
            config.merge_patch(spec.config_patch);
            // JSON is YAML: the registry reads this file as its config.yml.
            std::ofstream(directory_ / "config.yml") << config.dump(2) << '\n';
            child_ = bp::child(binary.string(), "serve", (directory_ / "config.yml").string(),
                               bp::std_in.close(),
                               bp::std_out > (directory_ / "access.log").string(),
                               bp::std_err > (directory_ / "registry.log").string(),
                               bp::extend::on_exec_setup = DieWithParent{});
            if (wait_until_answering(url(), 10)) return;
            const bool exited = !child_.running();
            stop();
            if (!exited || spec.port) break;
        }
        throw std::runtime_error("docker-registry did not start; its log: " +
                                 (directory_ / "registry.log").string());
    }
    ~NativeRegistry() override { stop(); }

    std::string host_port() const override { return "127.0.0.1:" + std::to_string(port_); }
    std::string log() const override { return read_whole(directory_ / "registry.log"); }
    fs::path storage_root() const override { return directory_ / "storage"; }
    std::string engine() const override { return "native"; }

    void stop() override {
        if (!child_.valid() || !child_.running()) return;
        ::kill(child_.id(), SIGTERM);
        for (int i = 0; i < 250 && child_.running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (child_.running()) child_.terminate();
        std::error_code ignored;
        child_.wait(ignored);
    }

private:
    fs::path directory_;
    unsigned short port_ = 0;
    bp::child child_;
};

}  // namespace

std::unique_ptr<RegistryInstance> start_native_registry(const RegistrySpec& spec,
                                                        const fs::path& workdir) {
    return std::make_unique<NativeRegistry>(spec, workdir);
}

}  // namespace harness
