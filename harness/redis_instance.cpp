// Redis for a test, on two engines: Debian's redis-server as a child process (native), or the
// `redis` service of docker-compose.yml (compose), in a project a registry can join.
#include "redis_instance.hpp"

#include "child_process.hpp"
#include "compose_tools.hpp"
#include "program_runner.hpp"
#include "workbook_paths.hpp"
#include "workspace.hpp"

#include "wbclient/inspection/redis_cache.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <unistd.h>

#include <csignal>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace harness {
namespace {

// Polls PING until PONG or `seconds` pass. A published compose port accepts connections
// before Redis inside listens, so a connection alone proves nothing.
bool wait_until_pong(const std::string& host_port, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            wbclient::RedisConnection redis(wbclient::RedisAddress::parse(host_port),
                                             std::chrono::milliseconds(500));
            redis.ping();
            return true;
        } catch (const wbclient::RedisError&) {
            // not listening yet
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

class NativeRedis final : public RedisInstance {
public:
    NativeRedis(const RedisSpec& spec, const fs::path& workdir)
        : directory_(workdir / "redis"), binary_(bp::search_path("redis-server").string()) {
        if (binary_.empty()) throw std::runtime_error("redis-server is not installed (Debian package redis-server)");
        fs::create_directories(directory_);
        // A port picked free can be taken before Redis binds it: try a few.
        for (int attempt = 0; attempt < 5; ++attempt) {
            port_ = spec.port ? spec.port : free_loopback_port();
            launch();
            if (wait_until_pong(host_port(), 10)) return;
            const bool exited = !child_.running();
            end(SIGKILL);
            if (!exited || spec.port) break;
        }
        throw std::runtime_error("redis-server did not start; its log: " + (directory_ / "redis.log").string());
    }
    ~NativeRedis() override { end(SIGKILL); }

    std::string host_port() const override { return "127.0.0.1:" + std::to_string(port_); }
    std::string address_for_registry() const override { return host_port(); }
    std::string compose_project() const override { return ""; }
    std::string engine() const override { return "native"; }
    std::string log() const override { return read_whole_file(directory_ / "redis.log"); }
    void stop() override { end(SIGTERM); }
    void kill() override { end(SIGKILL); }
    void start() override {
        if (child_.valid() && child_.running()) return;
        launch();
        if (!wait_until_pong(host_port(), 10))
            throw std::runtime_error("redis-server did not start again on " + host_port());
    }

private:
    void launch() {
        std::FILE* log_file = std::fopen((directory_ / "redis.log").c_str(), "a");
        if (!log_file) throw std::runtime_error("cannot open " + (directory_ / "redis.log").string());
        // Loopback only, nothing saved (a cache), its working folder in the test's workspace;
        // the command line is kept as given (no proc title), so a leftover is recognisable.
        child_ = bp::child(binary_.string(), "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", directory_.string(), "--set-proc-title", "no",
                           bp::std_in.close(), bp::std_out > log_file, bp::std_err > log_file,
                           bp::extend::on_exec_setup = DieWithParent{});
        std::fclose(log_file);
    }

    void end(int signal) { end_child(child_, signal); }

    fs::path directory_;
    fs::path binary_;
    unsigned short port_ = 0;
    bp::child child_;
};

class ComposeRedis final : public RedisInstance {
public:
    ComposeRedis(const RedisSpec& spec, const fs::path& workdir)
        : compose_(compose_command()), directory_(workdir / "redis") {
        require_docker_daemon();
        static std::atomic<int> counter{0};
        project_ = !spec.compose_project.empty()
                       ? spec.compose_project
                       : Workspace::prefix() + "redis-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
        port_ = spec.port ? spec.port : free_loopback_port();
        fs::create_directories(directory_);
        environment_ = {{"REDIS_IMAGE", offline_image("REDIS_IMAGE", "build-redis-image")}, {"REDIS_PORT", std::to_string(port_)}};
        const RunResult up = compose({"up", "-d", "redis"});
        if (up.exit_code != 0) {
            compose({"down", "-v", "--remove-orphans"});
            throw std::runtime_error("docker-compose up redis failed: " + up.err);
        }
        if (!wait_until_pong(host_port(), 30)) {
            const std::string last_log = log();
            compose({"down", "-v", "--remove-orphans"});
            throw std::runtime_error("the compose redis did not answer: " + last_log);
        }
    }
    // Also takes down a registry that joined the project, if it is still up.
    ~ComposeRedis() override { compose({"down", "-v", "--remove-orphans"}); }

    std::string host_port() const override { return "127.0.0.1:" + std::to_string(port_); }
    std::string address_for_registry() const override { return "redis:6379"; }
    std::string compose_project() const override { return project_; }
    std::string engine() const override { return "compose"; }
    std::string log() const override { return compose({"logs", "--no-color", "--no-log-prefix", "redis"}).out; }
    // stop, kill and start keep the container, and with it its name on the project's network.
    void stop() override { compose({"stop", "redis"}); }
    void kill() override { compose({"kill", "-s", "SIGKILL", "redis"}); }
    void start() override {
        const RunResult started = compose({"start", "redis"});
        if (started.exit_code != 0 || !wait_until_pong(host_port(), 30))
            throw std::runtime_error("the compose redis did not start again: " + started.err);
    }

private:
    RunResult compose(const std::vector<std::string>& args) const {
        return run_compose(compose_, {fs::path(paths::source_dir) / "docker-compose.yml"}, project_,
                           args, environment_, directory_);
    }

    std::vector<std::string> compose_;
    fs::path directory_;
    std::string project_;
    unsigned short port_ = 0;
    std::map<std::string, std::string> environment_;
};

}  // namespace

std::unique_ptr<RedisInstance> start_redis(const fs::path& workdir, const RedisSpec& spec) {
    return start_redis(workdir, spec, engine_from_environment());
}

std::unique_ptr<RedisInstance> start_redis(const fs::path& workdir, const RedisSpec& spec, const std::string& engine) {
    if (engine == "native") return std::make_unique<NativeRedis>(spec, workdir);
    if (engine == "compose") return std::make_unique<ComposeRedis>(spec, workdir);
    throw std::invalid_argument("no Redis on the '" + engine +
                                "' engine: the harness cannot configure an external registry's cache");
}

RegistrySpec with_redis_cache(RegistrySpec spec, const RedisInstance& redis) {
    // The timeouts matter once Redis is gone: 2.8.2 tries to connect about 14 times per request
    // and, without a dial timeout, a name that no longer resolves (a stopped compose container,
    // no DNS to fall back on) costs 10 s per try, minutes per request. With these, about 3 s.
    spec.config_patch.merge_patch({{"storage", {{"cache", {{"blobdescriptor", "redis"}}}}},
                                   {"redis",
                                    {{"addr", redis.address_for_registry()},
                                     {"dialtimeout", "200ms"},
                                     {"readtimeout", "500ms"},
                                     {"writetimeout", "500ms"}}}});
    if (!redis.compose_project().empty()) spec.compose_project = redis.compose_project();
    return spec;
}

}  // namespace harness
