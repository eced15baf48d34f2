// Chapter 15's topology on top of a shared bucket and a shared Redis: N docker-registry
// replicas on the s3 storage driver, with the same http.secret, behind one nginx.
#pragma once

#include "nginx_balancer.hpp"
#include "redis_instance.hpp"
#include "registry_instance.hpp"
#include "s3_client.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace harness {

/// `spec` with its storage moved to `bucket` (storage.s3, rootdirectory /registry) and
/// storage.redirect.disable: true, so blobs come through the replica (and the balancer), not
/// as pre-signed URLs of the object store that clients outside could not reach.
RegistrySpec on_s3(RegistrySpec spec, const S3Bucket& bucket);

/// The secret every replica of a ReplicaSet shares: upload state (the _state token in
/// upload Locations) is signed with it, so any replica can continue any upload.
inline constexpr const char* replica_secret = "registry-workbook-replicas-share-this";

struct ReplicaSetSpec {
    int replicas = 2;
    /// Blob-descriptor cache; null for none (each replica then asks storage every time).
    const RedisInstance* redis = nullptr;
    /// Roles, hence folders, are "<name_prefix>-1", "-2", ... in the workdir.
    std::string name_prefix = "replica";
};

class ReplicaSet {
public:
    /// Starts the replicas, then nginx in front of them; throws with a one-line reason.
    ReplicaSet(const std::filesystem::path& workdir, const S3Bucket& bucket, const ReplicaSetSpec& spec = {});
    /// nginx first, then the replicas.
    ~ReplicaSet();

    std::size_t size() const { return replicas_.size(); }
    RegistryInstance& replica(std::size_t index) { return *replicas_.at(index); }
    const RegistryInstance& replica(std::size_t index) const { return *replicas_.at(index); }
    /// "127.0.0.1:<port>" of each replica, in order.
    std::vector<std::string> host_ports() const;
    NginxBalancer& balancer() { return *balancer_; }
    const NginxBalancer& balancer() const { return *balancer_; }
    /// Seconds from the first replica's start to nginx answering.
    double startup_seconds() const { return startup_seconds_; }
    /// Resident memory of each replica's process, KiB, in order (0 for one not running).
    std::vector<long> replica_memory_kib() const;
    /// The process id of replica `index`'s `docker-registry serve`, 0 if it is not running:
    /// for a test that watches its /proc/<pid>/io to see which replica is receiving a body.
    int replica_pid(std::size_t index) const;

private:
    std::vector<std::unique_ptr<RegistryInstance>> replicas_;
    std::unique_ptr<NginxBalancer> balancer_;
    double startup_seconds_ = 0;
};

}  // namespace harness
