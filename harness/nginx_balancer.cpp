// nginx for one test: the template filled in, `nginx -p <dir> -c <dir>/nginx.conf -e ...` in the
// foreground (daemon off, master_process off: one process, a child like any other).
#include "nginx_balancer.hpp"

#include "child_process.hpp"
#include "registry_instance.hpp"
#include "workbook_paths.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace harness {
namespace {

void replace_all(std::string& text, const std::string& word, const std::string& value) {
    for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + value.size()))
        text.replace(at, word.size(), value);
}

}  // namespace

std::string balancer_config(const BalancerConfig& values) {
    if (values.upstreams.empty()) throw std::invalid_argument("a balancer needs at least one upstream");
    std::string servers;
    // A replica that failed once is left alone for 3 s (nginx's default is 10 s), then tried
    // again: a restarted replica is back in the rotation soon, and a test sees the failover.
    for (const auto& upstream : values.upstreams) servers += "        server " + upstream + " max_fails=1 fail_timeout=3s;\n";
    servers.pop_back();
    std::string config = read_whole_file(fs::path(paths::source_dir) / "harness/nginx-balancer.conf.in");
    if (config.empty()) throw std::runtime_error("harness/nginx-balancer.conf.in is missing");
    replace_all(config, "@DIR@", values.directory);
    replace_all(config, "@PORT@", std::to_string(values.port));
    replace_all(config, "@SERVERS@", servers);
    replace_all(config, "@ACCESS_LOG@", values.access_log);
    replace_all(config, "@ERROR_LOG@", values.error_log);
    return config;
}

NginxBalancer::NginxBalancer(const fs::path& workdir, const std::vector<std::string>& upstreams)
    // Absolute: nginx reads every path in its config relative to its prefix (-p), so a
    // relative work folder would put its logs and pid file in a folder inside itself.
    : directory_(fs::absolute(workdir / "nginx")), config_(directory_ / "nginx.conf") {
    const std::string binary = bp::search_path("nginx").string();
    if (binary.empty()) throw std::runtime_error("nginx is not installed (Debian package nginx)");
    fs::create_directories(directory_);
    const auto start = std::chrono::steady_clock::now();
    // A port picked free can be taken before nginx binds it: try a few.
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_loopback_port();
        std::ofstream(config_) << balancer_config({.directory = directory_.string(),
                                                   .port = port_,
                                                   .upstreams = upstreams,
                                                   .access_log = (directory_ / "access.log").string(),
                                                   .error_log = (directory_ / "error.log").string()});
        std::FILE* output = std::fopen((directory_ / "nginx.out").c_str(), "a");
        if (!output) throw std::runtime_error("cannot open " + (directory_ / "nginx.out").string());
        // -e: the error log before the config is read (else /var/log/nginx, not ours to write).
        nginx_ = bp::child(binary, "-p", directory_.string() + "/", "-c", config_.string(), "-e",
                           (directory_ / "error.log").string(), bp::std_in.close(), bp::std_out > output,
                           bp::std_err > output, bp::extend::on_exec_setup = DieWithParent{});
        std::fclose(output);
        if (wait_until_answering(url(), 10) && nginx_.running()) {
            startup_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            return;
        }
        end_child(nginx_, SIGKILL);
    }
    throw std::runtime_error("nginx did not start; see " + (directory_ / "error.log").string());
}

NginxBalancer::~NginxBalancer() { end_child(nginx_, SIGTERM); }

std::string NginxBalancer::access_log() const { return read_whole_file(directory_ / "access.log"); }
std::string NginxBalancer::error_log() const { return read_whole_file(directory_ / "error.log"); }

long NginxBalancer::memory_kib() const {
    std::ifstream status("/proc/" + std::to_string(nginx_.id()) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return 0;
}

}  // namespace harness
