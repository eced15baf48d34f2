// Chapter 15: given one Ceph cluster (mon, osd on memstore, radosgw) started once for the whole
// binary, a Redis, two registry replicas on its bucket with one http.secret behind nginx, and
// a third registry on the same bucket with another secret, when the program pushes and pulls
// through nginx and then talks to the replicas one by one, then each replica's own log shows
// its share: requests through nginx on both, a chunked upload begun on one and continued on
// the other, a blob written through one read at once through the other, and the stranger
// refusing a chunk (404 BLOB_UPLOAD_INVALID, "invalid secret" in its log). Beyond the program:
// the Redis cache one replica filled answers the other (its cache-hit counter moves).
// Native only: Ceph and nginx run as this machine's processes.
#include "ceph_cluster.hpp"
#include "chapter_run.hpp"
#include "redis_instance.hpp"
#include "registry_replicas.hpp"
#include "rootfs_comparison.hpp"
#include "test_support.hpp"

#include "noise.hpp"
#include "wbclient/distribution/debug_server.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/inspection/redis_cache.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace harness;

namespace {

const std::string program = "15_scaling_out";

// One cluster and one Redis for every case: Ceph takes seconds to start, a case's replicas
// and nginx a fraction of one. Each case keeps to its own repositories.
struct SharedStore {
    Workspace workspace{"chapter15-store"};
    CephCluster ceph{workspace.path()};
    std::unique_ptr<RedisInstance> redis = start_redis(workspace.path(), {}, "native");
};

SharedStore& shared_store() {
    static SharedStore store;
    return store;
}

// What replica `index` logged for requests the program (not the harness's probes) sent.
std::vector<ObservedExchange> program_requests(const RegistryInstance& replica) {
    std::vector<ObservedExchange> requests;
    for (auto& exchange : replica.access_log())
        if (exchange.user_agent != harness_user_agent) requests.push_back(std::move(exchange));
    return requests;
}

std::size_t count(const std::vector<ObservedExchange>& exchanges, const std::string& method, const std::string& prefix) {
    return static_cast<std::size_t>(std::count_if(exchanges.begin(), exchanges.end(), [&](const ObservedExchange& e) {
        return e.method == method && e.uri.starts_with(prefix);
    }));
}

}  // namespace

TEST_CASE("chapter 15: through nginx the replicas share the work; uploads and reads cross replicas with one secret, not two",
          "[chapter15][native-only]") {
    SharedStore& store = shared_store();
    Workspace workspace("chapter15-program");
    ReplicaSet replicas(workspace.path(), store.ceph.bucket(), {.replicas = 2, .redis = store.redis.get()});
    // The same bucket, another secret.
    RegistrySpec stranger_spec = on_s3({.role = "stranger"}, store.ceph.bucket());
    stranger_spec.config_patch.merge_patch({{"http", {{"secret", "not-the-replicas-secret"}}}});
    auto stranger = start_registry(stranger_spec, workspace.path(), "native");

    const ChapterRun run = run_chapter(program,
                                       {"--replica", replicas.replica(0).host_port(), "--replica", replicas.replica(1).host_port(),
                                        "--stranger", stranger->host_port(), replicas.balancer().host_port()},
                                       workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    const auto first = program_requests(replicas.replica(0));
    const auto second = program_requests(replicas.replica(1));
    INFO("replica-1:\n" << summarize(first) << "replica-2:\n" << summarize(second));

    {  // pushes and pulls through nginx land on both replicas, and the image comes back whole
        for (const auto* log : {&first, &second}) {
            CHECK(count(*log, "PUT", "/v2/scaling/demo/blobs/uploads/") + count(*log, "POST", "/v2/scaling/demo/blobs/uploads/") > 0);
            CHECK(count(*log, "GET", "/v2/scaling/demo/blobs/sha256:") > 0);
        }
        CHECK(count(first, "PUT", "/v2/scaling/demo/manifests/v1") + count(second, "PUT", "/v2/scaling/demo/manifests/v1") == 1);
        CHECK_THAT(run.result.out, Catch::Contains("same manifest") && Catch::Contains("answered by 2 replica(s)"));
        // nginx's own log agrees: both upstreams served the program.
        const std::string access = replicas.balancer().access_log();
        CHECK_THAT(access, Catch::Contains("upstream=" + replicas.replica(0).host_port()) &&
                               Catch::Contains("upstream=" + replicas.replica(1).host_port()));
    }

    {  // a chunked upload opened on replica-1 takes a chunk on replica-2 and is finished on replica-1
        CHECK(count(first, "POST", "/v2/scaling/chunks/blobs/uploads/") == 1);
        CHECK(count(first, "PATCH", "/v2/scaling/chunks/blobs/uploads/") == 1);
        CHECK(count(second, "PATCH", "/v2/scaling/chunks/blobs/uploads/") == 1);
        CHECK(count(second, "POST", "/v2/scaling/chunks/") == 0);
        const auto finished = std::find_if(first.begin(), first.end(), [](const ObservedExchange& e) {
            return e.method == "PUT" && e.uri.starts_with("/v2/scaling/chunks/blobs/uploads/");
        });
        REQUIRE(finished != first.end());
        CHECK(finished->status == 201);
        // The blob is whole: 5 MiB, its digest as the program computed it.
        const wbclient::Digest whole = wbclient::digest_of(workbook::noise(3 * 1024 * 1024, 154) + workbook::noise(2 * 1024 * 1024, 155));
        wbclient::RegistryClient direct(replicas.replica(1).host_port());
        CHECK(direct.blob_size("scaling/chunks", whole) == 5u * 1024 * 1024);
    }

    {  // a blob written through replica-1 is read at once through replica-2
        CHECK(count(first, "PUT", "/v2/scaling/fresh/blobs/uploads/") == 1);
        CHECK(count(second, "PUT", "/v2/scaling/fresh/") == 0);
        const auto reads = select(second, "GET", "/v2/scaling/fresh/blobs/sha256:");
        REQUIRE(reads.size() == 1);
        CHECK(reads.front().status == 200);
        CHECK(reads.front().bytes_received == 512 * 1024);
        CHECK_THAT(run.result.out, Catch::Contains("HEAD on replica-2: 200, 524288 bytes; GET on replica-2: the same bytes"));
    }

    {  // a registry on the same bucket with another http.secret refuses the chunk: 404 BLOB_UPLOAD_INVALID, invalid secret
        const auto refused = select(program_requests(*stranger), "PATCH", "/v2/scaling/stranger/blobs/uploads/");
        REQUIRE(refused.size() == 1);
        CHECK(refused.front().status == 404);
        CHECK_THAT(stranger->log(), Catch::Contains("invalid secret"));
        CHECK_THAT(run.result.out, Catch::Contains("PATCH on the stranger: 404") && Catch::Contains("BLOB_UPLOAD_INVALID"));
    }

    {  // the image it pushed through nginx, unpacked by our library, is the rootfs umoci unpacks
        // (pulled after the logs above were read, so they hold the program's requests only)
        const auto layout = test_support::copy_to_layout(replicas.balancer().host_port() + "/scaling/demo:v1",
                                                         workspace.path() / "demo.layout", "v1");
        const auto tree = test_support::check_same_rootfs_as_umoci(layout, "v1", workspace.path() / "unpacked");
        const std::vector<std::pair<std::string, unsigned>> files = {{"one.bin", 151}, {"two.bin", 152}, {"three.bin", 153}};
        for (const auto& [file, seed] : files) {
            REQUIRE(tree.count(file));
            CHECK_THAT(tree.at(file), Catch::Contains(wbclient::digest_of(workbook::noise(1024 * 1024, seed)).str()));
        }
    }
}

TEST_CASE("chapter 15: the blob descriptor one replica put in Redis answers the other replica's HEAD", "[chapter15][native-only]") {
    SharedStore& store = shared_store();
    Workspace workspace("chapter15-cache");
    ReplicaSet replicas(workspace.path(), store.ceph.bucket(), {.replicas = 2, .redis = store.redis.get()});
    wbclient::RegistryClient first(replicas.replica(0).host_port());
    wbclient::RegistryClient second(replicas.replica(1).host_port());
    wbclient::HttpClient debug_http;
    const std::string bytes = workbook::noise(64 * 1024, 157);
    const wbclient::Digest digest = wbclient::digest_of(bytes);

    first.push_blob("scaling/cached", bytes);
    // replica-1 wrote the descriptor on commit: the key is there before replica-2 asks.
    wbclient::RedisConnection redis(wbclient::RedisAddress::parse(store.redis->host_port()));
    CHECK_FALSE(redis.keys("blobs::" + digest.str()).empty());
    const auto before = wbclient::fetch_metrics(debug_http, replicas.replica(1).debug_url());
    CHECK(second.blob_size("scaling/cached", digest) == bytes.size());
    const auto after = wbclient::fetch_metrics(debug_http, replicas.replica(1).debug_url());
    const auto moved = [&](const char* type) {
        return after.sum("registry_storage_cache_total", {{"type", type}}) - before.sum("registry_storage_cache_total", {{"type", type}});
    };
    CHECK(moved("Request") >= 1);
    CHECK(moved("Hit") >= 1);
    CHECK(moved("Miss") == 0);
}

TEST_CASE("chapter 15: bad input is one line and exit code 1", "[chapter15][native-only]") {
    Workspace workspace("chapter15-bad");
    struct Case { std::vector<std::string> args; std::string expected; };
    const std::vector<Case> cases = {
        {{"--replicas", "127.0.0.1:1"}, "unexpected argument '--replicas'"},
        {{"127.0.0.1:1", "127.0.0.1:2"}, "unexpected argument '127.0.0.1:2'"},
        {{"--replica"}, "unexpected argument '--replica'"},
        // Nothing listens there: the first request fails, with the address in the line.
        {{"127.0.0.1:1"}, "127.0.0.1:1"},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace);
        INFO(c.args.front());
        test_support::check_refused(program, run.result, c.expected);
    }
}
