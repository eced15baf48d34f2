// Replicas are native registries (harness/native_registry.cpp) with a config patch: the s3
// driver on the shared bucket, the shared Redis, the shared secret. nginx comes last, once
// every replica answers, so its first requests find them all.
#include "registry_replicas.hpp"

#include <chrono>
#include <fstream>

namespace fs = std::filesystem;

namespace harness {
namespace {

// The `docker-registry serve` whose command line names `config`, 0 if none runs.
int registry_pid(const fs::path& config) {
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        const std::string command((std::istreambuf_iterator<char>(in)), {});
        if (command.find("serve") != std::string::npos && command.find(config.string()) != std::string::npos)
            return std::stoi(name);
    }
    return 0;
}

long resident_kib(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; pid && std::getline(status, line);)
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return 0;
}

fs::path config_of(const RegistryInstance& replica) { return replica.log_file().parent_path() / "config.yml"; }

}  // namespace

RegistrySpec on_s3(RegistrySpec spec, const S3Bucket& bucket) {
    spec.config_patch.merge_patch(
        {{"storage",
          {{"s3",
            {{"region", bucket.region},
             // 2.8.2 has no forcepathstyle: a regionendpoint is what makes it path-style
             {"regionendpoint", bucket.endpoint},
             {"bucket", bucket.name},
             {"accesskey", bucket.access_key},
             {"secretkey", bucket.secret_key},
             {"secure", false},
             {"v4auth", true},
             {"chunksize", 10485760},
             {"rootdirectory", "/registry"}}},
           {"redirect", {{"disable", true}}}}}});
    // One driver only: null in the patch removes the harness's filesystem section. Set, not
    // merged, since merging a null into the patch would just drop it.
    spec.config_patch["storage"]["filesystem"] = nullptr;
    return spec;
}

ReplicaSet::ReplicaSet(const fs::path& workdir, const S3Bucket& bucket, const ReplicaSetSpec& spec) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= spec.replicas; ++i) {
        RegistrySpec replica{.role = spec.name_prefix + "-" + std::to_string(i)};
        replica = on_s3(replica, bucket);
        replica.config_patch.merge_patch({{"http", {{"secret", replica_secret}}}});
        if (spec.redis) replica = with_redis_cache(replica, *spec.redis);
        replicas_.push_back(start_registry(replica, workdir, "native"));
    }
    balancer_ = std::make_unique<NginxBalancer>(workdir, host_ports());
    startup_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ReplicaSet::~ReplicaSet() {
    balancer_.reset();
    replicas_.clear();
}

std::vector<std::string> ReplicaSet::host_ports() const {
    std::vector<std::string> addresses;
    for (const auto& replica : replicas_) addresses.push_back(replica->host_port());
    return addresses;
}

std::vector<long> ReplicaSet::replica_memory_kib() const {
    std::vector<long> memory;
    for (const auto& replica : replicas_) memory.push_back(resident_kib(registry_pid(config_of(*replica))));
    return memory;
}

int ReplicaSet::replica_pid(std::size_t index) const { return registry_pid(config_of(*replicas_.at(index))); }

}  // namespace harness
