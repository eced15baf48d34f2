// A registry for one test or one run: started fresh, observed, and always stopped.
#pragma once

#include "observed_exchange.hpp"
#include "program_runner.hpp"

#include "wbclient/model/digest.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace harness {

/// What kind of registry to start.
struct RegistrySpec {
    /// "registry" (the reader's localhost:5000), "upstream" (plays Docker Hub, :5001, and
    /// like it refuses DELETE: storage.delete.enabled is false there) or "mirror" (a
    /// pull-through cache of the upstream, :5004: see mirror_of()).
    std::string role = "registry";
    /// Merged into the generated configuration (native engine) as a JSON merge patch.
    nlohmann::json config_patch = nlohmann::json::object();
    /// Fixed loopback port, or 0 for a free one.
    unsigned short port = 0;
    /// The compose project name; empty for a unique one starting with Workspace::prefix().
    std::string compose_project;
    /// compose, role "registry" only: run docker-compose.yml's `registry-host-network` service,
    /// which shares this machine's network, so that the registry reaches servers on loopback
    /// (chapter 13's notification receiver). The native engine is on this machine anyway.
    bool host_network = false;
};

/// One running registry. Destroying it stops it and everything it started.
class RegistryInstance {
public:
    virtual ~RegistryInstance() = default;
    /// "127.0.0.1:<port>": what chapter programs take as their registry.
    virtual std::string host_port() const = 0;
    std::string url() const { return "http://" + host_port(); }
    /// The registry's own log (JSON lines on its stderr).
    virtual std::string log() const = 0;
    std::vector<ObservedExchange> access_log() const { return parse_registry_log(log()); }
    /// The file the registry writes its log to on this machine, for a program that reads it
    /// as it grows (chapter 12 reads the upstream's); empty when the engine keeps no such file.
    virtual std::filesystem::path log_file() const { return {}; }
    /// The filesystem driver's root directory on this machine.
    virtual std::filesystem::path storage_root() const = 0;
    /// Where the registry keeps a blob's bytes: docker/registry/v2/blobs/sha256/<2>/<hex>/data.
    std::filesystem::path blob_data(const wbclient::Digest& digest) const {
        const std::string hex(digest.hex());
        return storage_root() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
    }
    /// "http://127.0.0.1:<port>" of its debug address (http.debug.addr: /metrics,
    /// /debug/health, /debug/vars); "" where the engine does not publish one.
    virtual std::string debug_url() const { return {}; }
    /// Which engine runs it: "native", "compose" or "external".
    virtual std::string engine() const = 0;
    /// The compose project it runs in; empty for other engines.
    virtual std::string compose_project() const { return {}; }
    /// A clean shutdown (SIGTERM). The storage and the log are kept for start() and for
    /// inspection; everything is removed when the instance is destroyed.
    virtual void stop() = 0;
    /// Starts the registry again after stop() or kill(): same port, configuration and
    /// storage; its log goes on where it left off.
    virtual void start() = 0;
    /// A crash, not a shutdown: SIGKILL, for tests of what survives one.
    virtual void kill() = 0;
    /// Runs `docker-registry garbage-collect <flags> <config>` over this registry's storage
    /// and returns what it printed. Stop the registry first: the registry's docs warn that
    /// collecting under a running registry can delete blobs an upload is about to use.
    virtual RunResult garbage_collect(const std::vector<std::string>& flags) = 0;
};

/// A pull-through cache of `upstream` (proxy.remoteurl), with deletes enabled so that what
/// expires is removed. Registry 2.8.2 panics at start when its upstream does not answer, so
/// the native engine waits for the upstream before it starts a mirror, and refuses with one
/// line if it never answers. With a compose upstream the mirror is docker-compose.yml's
/// `mirror` service in the upstream's project, reaching it as http://upstream:5000 on the
/// project's network, as `docker compose --profile mirror up` runs it.
RegistrySpec mirror_of(const RegistryInstance& upstream);

/// Runs `docker-registry serve` once as a mirror of an upstream that is not there (a loopback
/// port nothing listens on, returned in `dead_upstream`), without waiting for it: what 2.8.2
/// does then (exit code 2 and a panic). Kept in `workdir`/mirror-without-upstream.
RunResult start_mirror_without_upstream(const std::filesystem::path& workdir, std::string& dead_upstream);

/// The engine named by WORKBOOK_ENGINE ("native" when unset). Throws with a one-line reason
/// when the engine cannot start (missing binary, no Docker daemon, ...).
std::string engine_from_environment();

/// Where a file inside a registry's storage folder is: on this machine, and as the registry
/// sees it (compose binds that folder, and only it, at /var/lib/registry). For the files a
/// registry's config names: htpasswd, certificates, a health check's file. The registry
/// ignores what is not its data. Both engines keep the storage of the registry of `role`
/// started in `workdir` in <workdir>/<role>/storage.
struct StorageFiles {
    std::filesystem::path workdir;
    std::string engine;
    std::string role = "registry";
    std::filesystem::path on_host(const std::string& relative) const {
        return workdir / role / "storage" / relative;
    }
    std::string in_registry(const std::string& relative) const {
        return engine == "compose" ? "/var/lib/registry/" + relative : on_host(relative).string();
    }
};
std::unique_ptr<RegistryInstance> start_registry(const RegistrySpec& spec,
                                                 const std::filesystem::path& workdir);
std::unique_ptr<RegistryInstance> start_registry(const RegistrySpec& spec,
                                                 const std::filesystem::path& workdir,
                                                 const std::string& engine);

/// The user agent of every request the harness itself makes (probes, seeding).
inline constexpr const char* harness_user_agent = "registry-workbook-harness/1.0";

/// Polls GET /v2/ until it answers (any HTTP status) or `seconds` pass.
bool wait_until_answering(const std::string& url, double seconds);

/// A free TCP port on 127.0.0.1, as the kernel hands one out.
unsigned short free_loopback_port();

// The engines, each in its own file.
std::unique_ptr<RegistryInstance> start_native_registry(const RegistrySpec& spec,
                                                        const std::filesystem::path& workdir);
std::unique_ptr<RegistryInstance> start_compose_registry(const RegistrySpec& spec,
                                                         const std::filesystem::path& workdir);
std::unique_ptr<RegistryInstance> connect_external_registry(const RegistrySpec& spec);

}  // namespace harness
