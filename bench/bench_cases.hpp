// The four cases of issue 7, each done by our library, by skopeo and by parallel curl (the
// bound), on fresh registries; plus the HEAD cost, peak RSS on a 1 GiB layer, issue 14's
// pulls through a mirror and issue 15's replicas on Ceph RGW behind nginx.
#pragma once

#include "timed_process.hpp"
#include "workload.hpp"

#include "registry_instance.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace bench {

/// The tools, in the order the table shows them.
inline const std::vector<std::string> tools = {"ours", "skopeo", "curl"};

/// All repetitions of one case by one tool.
struct Measurement {
    int case_number = 0;
    std::string case_name;
    std::string tool;
    std::uint64_t bytes = 0;
    std::vector<double> seconds;
    std::vector<long> peak_rss_kib;
};

struct HeadsResult {
    unsigned count = 0;
    double per_request_ms = 0;  ///< median over the runs
    long connections_opened = 0;
    long opened_during_heads = 0;
    std::string line;  ///< what workbook_transfer printed (median run)
    /// The same for curl, for reference: one curl given count+1 URLs (it reuses its
    /// connection) against one given 1 URL, the difference over count. Median of the runs.
    double curl_per_request_ms = 0;
    /// What the registry itself spent on each HEAD, by its log (http.response.duration),
    /// median over every HEAD of every run: the part no client can save.
    double registry_per_request_ms = 0;
};

/// Issue 14's mirror case: our verified pull of the image straight from the upstream, through a
/// mirror that has nothing yet (cold: it fetches from the upstream while it serves), and
/// through the same mirror again (cached). Report-only: the issue sets no goal.
struct MirrorResult {
    Measurement direct;
    Measurement cold;
    Measurement cached;
    std::size_t blob_count = 0;  ///< the image's config and layers
    /// Blob GETs the upstream answered (its own log) for each cold and each cached pull,
    /// counted once the mirror had stored every blob.
    std::vector<unsigned> cold_upstream_blob_gets;
    std::vector<unsigned> cached_upstream_blob_gets;
    /// Every request the upstream answered during each cached pull (the freshness check).
    std::vector<unsigned> cached_upstream_requests;
    /// Those requests of the last cached pull, "HEAD /v2/.../manifests/latest 200" and so on.
    std::vector<std::string> cached_upstream_seen;
    /// How long each cold pull's mirror went on storing blobs after our pull had ended.
    std::vector<double> store_lag_seconds;
};

/// Issue 15's replicas case: one setup's push and verified pull of the same image.
struct ReplicaSetup {
    std::string name;       ///< "filesystem", "direct", "nginx-1", ...
    std::string label;      ///< what the report's row says
    int replicas = 0;       ///< 0: one registry on the filesystem driver
    bool through_nginx = false;
    Measurement push;
    Measurement pull;
    /// Through nginx only: verified pulls of the same image from the first replica directly,
    /// each right after a pull through nginx, in the same cluster. The balancer's cost on a
    /// pull is judged against these: taken at the same moments, they see the same load, and
    /// a 0.3-second pull on 2 busy cores varies more between clusters than nginx costs.
    Measurement pull_bypassing_nginx;
    /// The OSD's resident memory after each repetition's pull, KiB (memstore keeps the data in
    /// RAM); empty for the filesystem setup.
    std::vector<long> osd_rss_kib;
    /// Requests each replica answered through nginx in the last repetition, by nginx's log
    /// ($upstream_addr), in the replicas' order.
    std::vector<unsigned> served_per_replica;
};

/// The filesystem registry, one replica directly, then nginx with 1, 2 and 3 replicas.
struct ReplicasResult {
    unsigned layers = 0;
    std::uint64_t layer_bytes = 0;
    std::vector<ReplicaSetup> setups;
    std::vector<double> ceph_startup_seconds;  ///< every cluster started, untimed by the rows
};

struct BigLayerResult {
    std::uint64_t bytes = 0;
    TimedRun push;
    TimedRun pull;
};

/// A registry of our own for one run, with its folder; both gone on destruction.
class FreshRegistry {
public:
    explicit FreshRegistry(const std::filesystem::path& directory,
                           const harness::RegistrySpec& spec = {.role = "registry"});
    ~FreshRegistry();
    FreshRegistry(const FreshRegistry&) = delete;
    FreshRegistry& operator=(const FreshRegistry&) = delete;
    std::string host_port() const { return instance_->host_port(); }
    std::string url() const { return instance_->url(); }
    /// The requests the registry finished, from its own log.
    std::vector<harness::ObservedExchange> access_log() const { return instance_->access_log(); }
    const harness::RegistryInstance& instance() const { return *instance_; }

private:
    std::filesystem::path directory_;
    std::unique_ptr<harness::RegistryInstance> instance_;
};

/// The registry at `registry` serves `image` under its tag in `repository`: a manifest naming
/// exactly its blobs, every blob at its full size. Throws naming `what` otherwise.
void check_registry_has(const std::string& registry, const std::string& repository,
                        const BenchImage& image, const std::string& what);
/// Every blob of the pulled OCI layout re-hashed; throws naming `what` unless all of `image`'s are.
void check_layout(const std::filesystem::path& layout, const BenchImage& image,
                  const std::string& what);

class BenchRunner {
public:
    /// `work` is scratch space (registries, pulled layouts, skopeo's configuration).
    BenchRunner(std::filesystem::path work, std::filesystem::path transfer_program);

    /// Cases 1-4 for `image`, `reps` times each, tools interleaved within a repetition.
    std::vector<Measurement> run_cases(const BenchImage& image, unsigned reps,
                                       bool progress);
    /// `count` HEADs on one connection, `reps` times, by workbook_transfer heads.
    HeadsResult run_heads(const BenchImage& image, unsigned count, unsigned reps);
    /// Our push and verified pull of a big image, for their peak RSS.
    BigLayerResult run_big_layer(const BenchImage& image);
    /// The mirror case, `reps` times: direct, cold (a fresh mirror, empty storage) and cached
    /// pulls interleaved within a repetition (the direct one first or last in turn), from one
    /// seeded upstream.
    MirrorResult run_mirror(const BenchImage& image, unsigned reps, bool progress);

    /// The replicas case (bench/replicas_case.cpp), `reps` times: push and verified pull of
    /// `image` on a filesystem registry, on one replica on Ceph RGW directly, and through nginx
    /// in front of 1, 2 and 3 replicas; a new Ceph cluster for every RGW setup.
    ReplicasResult run_replicas(const BenchImage& image, unsigned reps, bool progress);

private:
    std::unique_ptr<FreshRegistry> fresh_registry(
        const harness::RegistrySpec& spec = {.role = "registry"});
    std::string next_repository();
    std::filesystem::path next_folder(const std::string& what);
    TimedRun checked(const std::string& what, const std::vector<std::string>& argv);
    TimedRun ours(const std::string& what, const std::vector<std::string>& args);
    TimedRun skopeo(const std::string& what, const std::string& source,
                    const std::string& destination);
    TimedRun script(const std::string& what, const std::string& bash_script);
    void seed(const FreshRegistry& registry, const BenchImage& image,
              const std::string& repository);

    std::filesystem::path work_;
    std::filesystem::path transfer_program_;
    std::filesystem::path scratch_;
    std::filesystem::path skopeo_policy_;
    TimedOptions skopeo_options_;
    unsigned counter_ = 0;
};

}  // namespace bench
