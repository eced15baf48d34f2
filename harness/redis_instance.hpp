// A Redis server for one test: the registry's blob-descriptor cache (chapter 06). Started
// fresh, stoppable (to show the registry carrying on without it), and always stopped.
#pragma once

#include "registry_instance.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace harness {

struct RedisSpec {
    /// compose only: the project to start the `redis` service in; empty for a unique one
    /// starting with Workspace::prefix(). A registry must run in the same project to reach it
    /// by name: with_redis_cache() arranges that.
    std::string compose_project;
    /// Fixed loopback port, or 0 for a free one.
    unsigned short port = 0;
};

/// One running Redis. Destroying it stops it. It keeps nothing on disk (no RDB, no AOF):
/// stopped and started again, it is empty, which is all a cache may assume.
class RedisInstance {
public:
    virtual ~RedisInstance() = default;
    /// "127.0.0.1:<port>": where programs and tests on this machine reach it.
    virtual std::string host_port() const = 0;
    /// What a registry's redis.addr must say: host_port() natively, "redis:6379" on compose,
    /// where the registry container reaches the service by name on the project's network.
    virtual std::string address_for_registry() const = 0;
    /// The compose project it runs in; empty natively.
    virtual std::string compose_project() const = 0;
    /// "native" or "compose".
    virtual std::string engine() const = 0;
    /// What redis-server printed.
    virtual std::string log() const = 0;
    /// SHUTDOWN by SIGTERM; the port stays reserved for start().
    virtual void stop() = 0;
    /// SIGKILL: a crash.
    virtual void kill() = 0;
    /// Starts it again on the same port, empty.
    virtual void start() = 0;
};

/// On the engine WORKBOOK_ENGINE names (native when unset), or the one given. Throws with a
/// one-line reason if it cannot start (no redis-server, no Docker daemon, the external engine).
std::unique_ptr<RedisInstance> start_redis(const std::filesystem::path& workdir, const RedisSpec& spec = {});
std::unique_ptr<RedisInstance> start_redis(const std::filesystem::path& workdir, const RedisSpec& spec,
                                           const std::string& engine);

/// `spec` plus what makes a registry use `redis` as its blob-descriptor cache: the config
/// patch {"storage":{"cache":{"blobdescriptor":"redis"}},"redis":{"addr":...,"dialtimeout":
/// "200ms","readtimeout":"500ms","writetimeout":"500ms"}} and, on compose, Redis's compose
/// project, so that both containers share one network. Start Redis first.
RegistrySpec with_redis_cache(RegistrySpec spec, const RedisInstance& redis);

}  // namespace harness
