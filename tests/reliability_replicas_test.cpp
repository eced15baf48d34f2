// Replicas on shared object storage under faults (chapter 15), nothing lost: a replica killed
// while it receives a push through nginx (the client's retry, with nginx failing over to the
// live replica, finishes it and every blob verifies; the killed upload's multipart parts stay
// in the bucket until a lifecycle rule removes them); radosgw restarted in the middle of a pull
// (a clean failure and no layout, then a whole pull); Redis gone (the replicas answer from
// storage, each request in well under the 10 s a missing dial timeout would cost). And the
// operator's trap: garbage collection while Redis still caches the deleted blobs, then the
// procedure that avoids it (collect with the replicas stopped or read-only, then FLUSHDB).
// One Ceph cluster for the binary, as in chapter 15's test.
#include "ceph_cluster.hpp"
#include "redis_instance.hpp"
#include "registry_replicas.hpp"
#include "test_support.hpp"

#include "noise.hpp"
#include "wbclient/distribution/manifests.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/layer_builder.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/inspection/redis_cache.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>
#include <memory>

using namespace harness;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct SharedStore {
    Workspace workspace{"replicas-store"};
    CephCluster ceph{workspace.path()};
};

SharedStore& shared_store() {
    static SharedStore store;
    return store;
}

// Bytes the process has read so far (sockets included): /proc/<pid>/io's rchar.
long long bytes_read_by(int pid) {
    std::ifstream io("/proc/" + std::to_string(pid) + "/io");
    for (std::string line; std::getline(io, line);)
        if (line.starts_with("rchar:")) return std::stoll(line.substr(6));
    return 0;
}

wbclient::ImageLayer noise_layer(const fs::path& folder, const std::string& file, std::uint64_t bytes, unsigned seed) {
    wbclient::LayerBuilder layer;
    layer.add_file(file, workbook::noise(bytes, seed));
    return {layer.write(folder / (file + ".tar.gz")), "ADD " + file + " /"};
}

}  // namespace

TEST_CASE("replicas: a replica killed while it receives a push through nginx; the retry finishes it, every blob verifies",
          "[reliability]") {
    SharedStore& store = shared_store();
    Workspace workspace("replicas-kill");
    auto redis = start_redis(workspace.path(), {}, "native");
    ReplicaSet replicas(workspace.path(), store.ceph.bucket(), {.replicas = 2, .redis = redis.get(), .name_prefix = "kill"});
    wbclient::RegistryClient client(replicas.balancer().host_port());
    const std::string repository = "faults/killed";
    const std::string blob = workbook::noise(48u << 20, 1501);
    const wbclient::Digest digest = wbclient::digest_of(blob);

    // Streamed from memory; once 24 MiB are out, the replica that has read the most since the
    // push began (the one receiving the body) is SIGKILLed.
    const long long before[2] = {bytes_read_by(replicas.replica_pid(0)), bytes_read_by(replicas.replica_pid(1))};
    std::size_t offset = 0;
    int killed = -1;
    const auto source = [&](char* buffer, std::size_t capacity) -> std::size_t {
        if (killed < 0 && offset >= (24u << 20)) {
            const long long grew[2] = {bytes_read_by(replicas.replica_pid(0)) - before[0],
                                       bytes_read_by(replicas.replica_pid(1)) - before[1]};
            killed = grew[0] > grew[1] ? 0 : 1;
            replicas.replica(static_cast<std::size_t>(killed)).kill();
        }
        const std::size_t n = std::min(capacity, blob.size() - offset);
        std::copy_n(blob.data() + offset, n, buffer);
        offset += n;
        return n;
    };
    CHECK_THROWS(client.push_blob(repository, digest, blob.size(), source));
    REQUIRE(killed >= 0);
    const std::string dead = replicas.replica(static_cast<std::size_t>(killed)).host_port();
    const std::string alive = replicas.replica(static_cast<std::size_t>(1 - killed)).host_port();
    INFO("killed " << dead << "; nginx:\n" << replicas.balancer().access_log());
    // nginx could not send a body already streamed to the dead replica again: 502 to the client.
    // (nginx logs a request when it has finished with it, which can be after the client gave up.)
    CHECK(poll_until([&] { return replicas.balancer().access_log().find(" 502 upstream=" + dead) != std::string::npos; },
                     std::chrono::seconds(5)));

    // The client's retry: a new push of the same blob. nginx's proxy_next_upstream finds the
    // dead replica refusing connections and passes each request on to the live one.
    offset = 0;
    const auto retried = Clock::now();
    client.push_blob(repository, digest, blob.size(), source);
    const double retry_seconds = std::chrono::duration<double>(Clock::now() - retried).count();
    INFO("the retry took " << retry_seconds << " s");
    CHECK(retry_seconds < 30);
    const wbclient::BuiltImage image = wbclient::assemble_image({}, {noise_layer(workspace.path(), "after.bin", 1u << 20, 1502)});
    const auto reference = wbclient::Reference::parse(replicas.balancer().host_port() + "/faults/image:v1");
    wbclient::push_image(client, reference, image);
    // nginx left the dead replica alone for fail_timeout (3 s) after the 502; then it tries it
    // again, finds the connection refused and passes the request on: one log line, two upstreams.
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
    const std::string failover = "upstream=" + dead + ", " + alive;
    for (int i = 0; i < 10 && replicas.balancer().access_log().find(failover) == std::string::npos; ++i) {
        CHECK(client.blob_size(repository, digest) == blob.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    CHECK_THAT(replicas.balancer().access_log(), Catch::Contains(failover));

    // Every blob verifies: the big one byte for byte, the image through a verified pull.
    std::string fetched;
    client.fetch_blob(repository, wbclient::descriptor_of("application/octet-stream", blob),
                      [&](const char* data, std::size_t size) { fetched.append(data, size); });
    CHECK(wbclient::digest_of(fetched) == digest);
    wbclient::pull_to_layout(client, reference, workspace.path() / "pulled");
    CHECK(wbclient::verify_oci_layout(workspace.path() / "pulled") == 3);

    // What the killed push left behind in the bucket: a multipart upload nobody completes. The
    // registry never aborts it; a lifecycle rule does (one "day" is 5 s in this cluster's
    // rgw lc debug interval).
    const S3Client s3 = store.ceph.s3();
    const auto incomplete = s3.incomplete_uploads();
    REQUIRE_FALSE(incomplete.empty());
    CHECK_THAT(incomplete.front().key, Catch::Contains("/_uploads/") && Catch::EndsWith("/data"));
    s3.abort_incomplete_uploads_after(1);
    CHECK_THAT(s3.lifecycle(), Catch::Contains("AbortIncompleteMultipartUpload"));
    CHECK(poll_until(
        [&] {
            store.ceph.admin({"lc", "process"});
            return s3.incomplete_uploads().empty();
        },
        std::chrono::seconds(40)));
    // The rule touched nothing else: the pushed blob is still whole.
    CHECK(client.blob_size(repository, digest) == blob.size());
    s3.request("DELETE", "", "lifecycle=");
}

TEST_CASE("replicas: radosgw restarted in the middle of a pull; a clean failure and no layout, then a whole pull",
          "[reliability]") {
    SharedStore& store = shared_store();
    Workspace workspace("replicas-rgw");
    ReplicaSet replicas(workspace.path(), store.ceph.bucket(), {.replicas = 2, .name_prefix = "rgw"});
    wbclient::ClientOptions options;
    options.stall_timeout = std::chrono::seconds(10);
    wbclient::RegistryClient client(replicas.balancer().host_port(), options);
    const wbclient::BuiltImage image = wbclient::assemble_image(
        {}, {noise_layer(workspace.path(), "a.bin", 8u << 20, 1511), noise_layer(workspace.path(), "b.bin", 8u << 20, 1512)});
    const auto reference = wbclient::Reference::parse(replicas.balancer().host_port() + "/faults/rgw:v1");
    wbclient::push_image(client, reference, image);

    // The first blob arrives; radosgw goes down before the next one is asked for.
    const fs::path layout = workspace.path() / "interrupted";
    bool stopped = false;
    const auto started = Clock::now();
    try {
        wbclient::pull_to_layout(client, reference, layout, [&](const wbclient::BlobEvent&) {
            if (!stopped) store.ceph.stop_rgw();
            stopped = true;
        });
        FAIL("the pull went through while radosgw was down");
    } catch (const std::exception& error) {
        INFO(error.what());
        CHECK(is_one_line(std::string(error.what()) + "\n"));
    }
    const double failed_after = std::chrono::duration<double>(Clock::now() - started).count();
    store.ceph.start_rgw();
    CHECK(stopped);
    INFO("the pull failed " << failed_after << " s after it began");
    CHECK(failed_after < 30);
    // Nothing half-pulled: the layout appears only when every blob verified.
    CHECK_FALSE(fs::exists(layout));

    wbclient::pull_to_layout(client, reference, workspace.path() / "whole");
    CHECK(wbclient::verify_oci_layout(workspace.path() / "whole") == 4);
}

TEST_CASE("replicas: with Redis gone the replicas answer from storage, each request in seconds, not tens", "[reliability]") {
    SharedStore& store = shared_store();
    Workspace workspace("replicas-redis");
    auto redis = start_redis(workspace.path(), {}, "native");
    ReplicaSet replicas(workspace.path(), store.ceph.bucket(), {.replicas = 2, .redis = redis.get(), .name_prefix = "redis"});
    wbclient::RegistryClient client(replicas.balancer().host_port());
    const std::string blob = workbook::noise(256 * 1024, 1521);
    const wbclient::Digest digest = wbclient::digest_of(blob);
    client.push_blob("faults/redis", blob);

    redis->kill();
    // Both replicas, through nginx, twice each: HEAD and GET of a cached blob, a new push.
    for (int round = 0; round < 4; ++round) {
        const auto start = Clock::now();
        CHECK(client.blob_size("faults/redis", digest) == blob.size());
        std::string fetched;
        client.fetch_blob("faults/redis", wbclient::descriptor_of("application/octet-stream", blob),
                          [&](const char* data, std::size_t size) { fetched.append(data, size); });
        CHECK(fetched == blob);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        INFO("round " << round << ": " << seconds << " s");
        CHECK(seconds < 8);
    }
    const auto start = Clock::now();
    client.push_blob("faults/redis", workbook::noise(64 * 1024, 1522 ));
    CHECK(std::chrono::duration<double>(Clock::now() - start).count() < 15);
    // Back again, and used again.
    redis->start();
    CHECK(client.blob_size("faults/redis", digest) == blob.size());
}

TEST_CASE("replicas: garbage collection on the shared bucket while Redis still caches the deleted blobs; then the procedure",
          "[reliability]") {
    SharedStore& store = shared_store();
    Workspace workspace("replicas-gc");
    auto redis = start_redis(workspace.path(), {}, "native");
    ReplicaSet replicas(workspace.path(), store.ceph.bucket(), {.replicas = 2, .redis = redis.get(), .name_prefix = "gc"});
    wbclient::RegistryClient client(replicas.balancer().host_port());
    // A repository of its own in a bucket other cases share: the collection below only
    // finds this image unreferenced (the other cases' images keep their tags).
    const wbclient::BuiltImage image = wbclient::assemble_image({}, {noise_layer(workspace.path(), "gc.bin", 256 * 1024, 1531)});
    const auto reference = wbclient::Reference::parse(replicas.balancer().host_port() + "/faults/gc:v1");
    const wbclient::Digest manifest = wbclient::push_image(client, reference, image);
    const wbclient::Digest layer = image.layers.front().built.blob.digest;
    wbclient::delete_manifest(client, "faults/gc", manifest);

    // Collected with every replica stopped (the registries' own advice), Redis left as it is.
    for (std::size_t i = 0; i < replicas.size(); ++i) replicas.replica(i).stop();
    const RunResult gc = replicas.replica(0).garbage_collect({});
    INFO(gc.out << gc.err);
    REQUIRE(gc.exit_code == 0);
    CHECK_THAT(gc.out, Catch::Contains("blob eligible for deletion: " + layer.str()));
    for (std::size_t i = 0; i < replicas.size(); ++i) replicas.replica(i).start();

    // The trap: the cache still says the layer is there, so a re-push skips it and the
    // manifest is accepted, but the pull finds no bytes.
    CHECK(client.blob_size("faults/gc", layer) == image.layers.front().built.blob.size);
    std::vector<wbclient::BlobAction> actions;
    wbclient::push_image(client, reference, image, [&](const wbclient::BlobEvent& event) { actions.push_back(event.action); });
    CHECK(std::count(actions.begin(), actions.end(), wbclient::BlobAction::already_there) >= 1);
    CHECK_THROWS(wbclient::pull_to_layout(client, reference, workspace.path() / "broken"));
    CHECK_FALSE(fs::exists(workspace.path() / "broken"));

    // The procedure: FLUSHDB after collecting (the replicas kept read-only or stopped until
    // then); the cache now misses, the storage says 404, the push sends the layer again.
    wbclient::RedisConnection(wbclient::RedisAddress::parse(redis->host_port())).command({"FLUSHDB"});
    CHECK_FALSE(client.blob_size("faults/gc", layer).has_value());
    actions.clear();
    wbclient::push_image(client, reference, image, [&](const wbclient::BlobEvent& event) { actions.push_back(event.action); });
    CHECK(std::count(actions.begin(), actions.end(), wbclient::BlobAction::uploaded) >= 1);
    wbclient::pull_to_layout(client, reference, workspace.path() / "whole");
    CHECK(wbclient::verify_oci_layout(workspace.path() / "whole") == 3);
}
