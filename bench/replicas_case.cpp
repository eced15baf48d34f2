// Issue 15's benchmark case: our push and verified pull of one image on registry replicas that
// share a Ceph RGW bucket, through nginx with 1, 2 and 3 replicas, against one replica directly
// (what the balancer costs) and one registry on the filesystem driver (what the object store
// costs), in the same run.
#include "bench_cases.hpp"

#include "ceph_cluster.hpp"
#include "registry_replicas.hpp"

#include <algorithm>
#include <iostream>
#include <optional>
#include <sstream>

namespace bench {
namespace fs = std::filesystem;

namespace {

constexpr unsigned pulls_per_push = 3;

// Requests each replica answered, by nginx's log: "<method> <uri> <status> upstream=<addr>[,
// <addr>...] upstream_status=...". The last address listed is the one that answered (nginx
// lists every replica it tried, in order).
std::vector<unsigned> served_per_replica(const std::string& access_log,
                                         const std::vector<std::string>& replicas) {
    std::vector<unsigned> served(replicas.size(), 0);
    std::istringstream lines(access_log);
    for (std::string line; std::getline(lines, line);) {
        const auto from = line.find(" upstream=");
        const auto to = line.find(" upstream_status=");
        if (from == std::string::npos || to == std::string::npos || to < from) continue;
        std::string tried = line.substr(from + 10, to - from - 10);
        if (const auto comma = tried.rfind(", "); comma != std::string::npos)
            tried = tried.substr(comma + 2);
        const auto found = std::find(replicas.begin(), replicas.end(), tried);
        if (found != replicas.end()) ++served[static_cast<std::size_t>(found - replicas.begin())];
    }
    return served;
}

ReplicaSetup setup(const std::string& name, const std::string& label, int replicas, bool nginx,
                   std::uint64_t bytes) {
    ReplicaSetup s{.name = name, .label = label, .replicas = replicas, .through_nginx = nginx};
    for (Measurement* m : {&s.push, &s.pull}) {
        m->case_number = 6;
        m->tool = "ours";
        m->bytes = bytes;
    }
    // No commas: these names are a column of results.csv.
    s.push.case_name = "replicas push " + name;
    s.pull.case_name = "replicas verified pull " + name;
    if (nginx) {
        s.pull_bypassing_nginx = s.pull;
        s.pull_bypassing_nginx.case_name = "replicas verified pull " + name + " bypassing nginx";
    }
    return s;
}

}  // namespace

ReplicasResult BenchRunner::run_replicas(const BenchImage& image, unsigned reps, bool progress) {
    ReplicasResult result;
    const std::uint64_t bytes = image.total_bytes();
    result.setups.push_back(setup("filesystem", "one registry, filesystem driver", 0, false, bytes));
    result.setups.push_back(setup("direct", "one replica on RGW, directly (no nginx)", 1, false, bytes));
    for (int n = 1; n <= 3; ++n)
        result.setups.push_back(setup("nginx-" + std::to_string(n),
                                      "nginx + " + std::to_string(n) + " replica" +
                                          (n == 1 ? "" : "s") + " on RGW",
                                      n, true, bytes));

    // One setup: a registry (or replicas and nginx) with nothing stored, our push, the check
    // that the registry serves it, our verified pull into a new folder.
    const auto run_setup = [&](ReplicaSetup& s) {
        const std::string repository = next_repository();
        // One verified pull of the pushed image from `registry`, timed, into `into`.
        const auto pull_once = [&](const std::string& registry, Measurement& into) {
            const std::string reference = registry + "/" + repository + ":" + image.tag;
            const fs::path folder = next_folder("pulled");
            const TimedRun pull = ours(s.name + " pull", {"pull", reference, folder.string()});
            check_layout(folder, image, s.name + " pull");
            fs::remove_all(folder);
            into.seconds.push_back(pull.seconds);
            into.peak_rss_kib.push_back(pull.peak_rss_kib);
            if (progress) std::cerr << " " << pull.seconds << " s";
        };
        // `bypass`: the first replica's own address when `registry` is nginx, else empty.
        const auto measure = [&](const std::string& registry, const std::string& bypass) {
            const std::string reference = registry + "/" + repository + ":" + image.tag;
            const std::string what = s.name + " push";
            const TimedRun push = ours(what, {"push", image.layout.string(), reference});
            check_registry_has(registry, repository, image, what);
            s.push.seconds.push_back(push.seconds);
            s.push.peak_rss_kib.push_back(push.peak_rss_kib);
            if (progress) std::cerr << "  replicas, " << s.label << ": push " << push.seconds << " s, pulls";
            // A verified pull of this image takes about 0.3 s, short enough for one busy moment
            // on 2 cores to halve its speed: each push is pulled several times (a cluster costs
            // seconds to start, a pull does not), and the median is over all of them.
            for (unsigned i = 0; i < pulls_per_push; ++i) {
                pull_once(registry, s.pull);
                if (!bypass.empty()) {
                    if (progress) std::cerr << " (bypassing nginx:";
                    pull_once(bypass, s.pull_bypassing_nginx);
                    if (progress) std::cerr << ")";
                }
            }
            if (progress) std::cerr << "\n";
        };
        if (s.replicas == 0) {
            const auto registry = fresh_registry({.role = "filesystem"});
            measure(registry->host_port(), "");
            return;
        }
        // A new Ceph cluster for every RGW setup, not just a new bucket: memstore keeps every
        // object in the OSD's RAM at 3 to 4.6 times its size, and a push stores the image twice
        // (the upload's multipart parts, then the server-side copy to blobs/, whose deleted
        // parts RGW's garbage collector frees only after a minute or more). Only ending the
        // OSD gives the memory back at once, and a fresh cluster also means the push finds
        // nothing already stored. About 3 s each, outside the timed transfers.
        const fs::path folder = next_folder("ceph-" + s.name);
        fs::create_directories(folder);
        {
            harness::CephCluster ceph(folder);
            result.ceph_startup_seconds.push_back(ceph.startup().total());
            // No Redis blob-descriptor cache: each setup pushes and pulls once, so a cache
            // would hold only what the same request just stored; every RGW setup is alike.
            harness::ReplicaSet set(folder, ceph.bucket(),
                                    {.replicas = s.replicas, .name_prefix = s.name});
            if (s.through_nginx)
                measure(set.balancer().host_port(), set.replica(0).host_port());
            else
                measure(set.replica(0).host_port(), "");
            s.osd_rss_kib.push_back(ceph.memory().osd);
            if (s.through_nginx)
                s.served_per_replica = served_per_replica(set.balancer().access_log(), set.host_ports());
        }
        fs::remove_all(folder);
    };

    // Forward in even repetitions, backward in odd ones (like the mirror case's direct pull),
    // so no setup always runs first or always follows the same one.
    const std::size_t count = result.setups.size();
    for (unsigned rep = 0; rep < reps; ++rep)
        for (std::size_t i = 0; i < count; ++i)
            run_setup(result.setups[rep % 2 == 0 ? i : count - 1 - i]);
    return result;
}

}  // namespace bench
