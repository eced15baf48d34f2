// The native engine: Debian's docker-registry binary, one process per instance.
#include "child_process.hpp"
#include "program_runner.hpp"
#include "registry_instance.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <sys/prctl.h>
#include <csignal>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace harness {
namespace {

nlohmann::json base_config(const fs::path& storage, unsigned short port,
                           unsigned short debug_port) {
    return {
        {"version", "0.1"},
        {"log", {{"level", "info"}, {"formatter", "json"}}},
        {"storage",
         {{"filesystem", {{"rootdirectory", storage.string()}}},
          // As Debian's config.yml and the registry:2 image (and our compose image) have it.
          {"cache", {{"blobdescriptor", "inmemory"}}},
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
        : directory_(workdir / spec.role), binary_(bp::search_path("docker-registry").string()) {
        if (binary_.empty())
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
            // As configured, so a spec that moves or drops the debug address is followed.
            const auto debug = config["http"].value("debug", nlohmann::json::object());
            const std::string debug_addr = debug.is_object() ? debug.value("addr", "") : "";
            debug_url_ = debug_addr.empty() ? ""
                         : debug_addr.front() == ':' ? "http://127.0.0.1" + debug_addr  // every interface
                                                     : "http://" + debug_addr;
            upstream_url_ = config.contains("proxy") ? config["proxy"].value("remoteurl", "") : "";
            // JSON is YAML: the registry reads this file as its config.yml.
            std::ofstream(config_file()) << config.dump(2) << '\n';
            wait_for_upstream();
            launch();
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
    std::string log() const override { return read_whole_file(directory_ / "registry.log"); }
    fs::path storage_root() const override { return directory_ / "storage"; }
    fs::path log_file() const override { return directory_ / "registry.log"; }
    std::string debug_url() const override { return debug_url_; }
    std::string engine() const override { return "native"; }

    void stop() override { end(SIGTERM); }
    void kill() override { end(SIGKILL); }

    void start() override {
        if (child_.valid() && child_.running()) return;
        wait_for_upstream();
        launch();
        if (!wait_until_answering(url(), 10))
            throw std::runtime_error("docker-registry did not start again on " + host_port());
    }

    RunResult garbage_collect(const std::vector<std::string>& flags) override {
        if (child_.valid() && child_.running())
            throw std::logic_error("stop the registry before garbage-collect");
        std::vector<std::string> argv{binary_.string(), "garbage-collect"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.push_back(config_file().string());
        return run_program(argv, {.timeout = std::chrono::seconds(300)});
    }

private:
    fs::path config_file() const { return directory_ / "config.yml"; }

    // A mirror's upstream must answer before the mirror starts: 2.8.2 asks it GET /v2/ in
    // NewApp and panics (exit 2) when that fails.
    void wait_for_upstream() const {
        if (!upstream_url_.empty() && !wait_until_answering(upstream_url_, 10))
            throw std::runtime_error("the mirror's upstream " + upstream_url_ +
                                     " does not answer; registry 2.8.2 would panic at start");
    }

    // Appends to the logs, so a restarted registry's log continues the first one's.
    void launch() {
        std::FILE* access_log = std::fopen((directory_ / "access.log").c_str(), "a");
        std::FILE* registry_log = std::fopen((directory_ / "registry.log").c_str(), "a");
        if (!access_log || !registry_log) {
            if (access_log) std::fclose(access_log);
            if (registry_log) std::fclose(registry_log);
            throw std::runtime_error("cannot open the registry's log files in " + directory_.string());
        }
        // Without AWS_CA_BUNDLE, which these machines set: 2.8.2's s3 driver panics at start
        // when it is set (LoadCustomCABundleError, "transport unsupported type"); the other
        // drivers never read it.
        bp::environment environment = boost::this_process::environment();
        environment.erase("AWS_CA_BUNDLE");
        child_ = bp::child(binary_.string(), "serve", config_file().string(), environment, bp::std_in.close(),
                           bp::std_out > access_log, bp::std_err > registry_log,
                           bp::extend::on_exec_setup = DieWithParent{});
        std::fclose(access_log);
        std::fclose(registry_log);
    }

    void end(int signal) { end_child(child_, signal); }

    fs::path directory_;
    fs::path binary_;
    std::string upstream_url_;  // proxy.remoteurl, for a mirror
    std::string debug_url_;     // http.debug.addr as a URL, "" without one
    unsigned short port_ = 0;
    bp::child child_;
};

}  // namespace

std::unique_ptr<RegistryInstance> start_native_registry(const RegistrySpec& spec,
                                                        const fs::path& workdir) {
    return std::make_unique<NativeRegistry>(spec, workdir);
}

}  // namespace harness
