// nginx as the load balancer in front of registry replicas (chapter 15): its config written
// from harness/nginx-balancer.conf.in, on a free loopback port, stopped on destruction.
#pragma once

#include <boost/process/child.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace harness {

/// What harness/nginx-balancer.conf.in is filled in with.
struct BalancerConfig {
    std::string directory;                 ///< its pid file and temporary files
    unsigned short port = 0;               ///< listens on 127.0.0.1:port
    std::vector<std::string> upstreams;    ///< "127.0.0.1:<port>" of each replica
    std::string access_log, error_log;     ///< files (or /dev/stdout, /dev/stderr in a container)
};

/// The balancer's nginx.conf: the template filled in. Throws if the template is missing.
std::string balancer_config(const BalancerConfig& values);

class NginxBalancer {
public:
    /// Balances round-robin over `upstreams` ("127.0.0.1:<port>" each), in `workdir`/nginx.
    /// Throws with a one-line reason if nginx is missing or does not start.
    NginxBalancer(const std::filesystem::path& workdir, const std::vector<std::string>& upstreams);
    ~NginxBalancer();
    NginxBalancer(const NginxBalancer&) = delete;
    NginxBalancer& operator=(const NginxBalancer&) = delete;

    std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string url() const { return "http://" + host_port(); }
    /// One line per request: method, URI, status, the replica(s) tried and their statuses.
    std::string access_log() const;
    std::string error_log() const;
    const std::filesystem::path& config_file() const { return config_; }
    /// Resident memory, KiB.
    long memory_kib() const;
    /// How long start-up took, seconds.
    double startup_seconds() const { return startup_seconds_; }

private:
    std::filesystem::path directory_;
    std::filesystem::path config_;
    unsigned short port_ = 0;
    double startup_seconds_ = 0;
    boost::process::child nginx_;
};

}  // namespace harness
