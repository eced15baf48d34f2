// Chapter 15's topology as docker-compose.yml's profile scale-out: two registry replicas and
// nginx in containers (on this machine's network), Redis, and the bucket of a native Ceph
// cluster (Ceph has no offline image: see the profile's comment). A push and a verified pull
// through the balancer, served by both replicas, the blobs in the bucket.
#include "busybox_image.hpp"
#include "ceph_cluster.hpp"
#include "compose_tools.hpp"
#include "nginx_balancer.hpp"
#include "registry_instance.hpp"
#include "workbook_paths.hpp"
#include "workspace.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <unistd.h>

using namespace harness;
namespace fs = std::filesystem;

namespace {

// The project's containers go when the test ends, passed or not.
struct Project {
    std::vector<std::string> compose = compose_command();
    std::vector<fs::path> files{fs::path(paths::source_dir) / "docker-compose.yml"};
    std::string name;
    std::map<std::string, std::string> environment;
    fs::path directory;

    RunResult run(std::vector<std::string> args) const {
        args.insert(args.begin(), {"--profile", "scale-out"});
        return run_compose(compose, files, name, args, environment, directory);
    }
    ~Project() { run({"down", "--volumes", "--remove-orphans"}); }
};

// Lines of a service's log that are the registry's own record of a request it served.
std::size_t served_requests(const std::string& log) {
    std::size_t count = 0;
    for (std::size_t at = log.find("\"response completed\""); at != std::string::npos;
         at = log.find("\"response completed\"", at + 1))
        ++count;
    return count;
}

}  // namespace

TEST_CASE("compose: profile scale-out, two replicas behind nginx on a Ceph bucket, serve one push and pull",
          "[compose][chapter15]") {
    require_docker_daemon();
    Workspace workspace("compose-scale-out");
    CephCluster ceph(workspace.path());
    const unsigned short balancer_port = free_loopback_port();
    const std::string replica_1 = "127.0.0.1:" + std::to_string(free_loopback_port());
    const std::string replica_2 = "127.0.0.1:" + std::to_string(free_loopback_port());
    // The committed harness/scale-out/nginx.conf serves the reader's ports; this one the test's.
    const fs::path config = workspace.path() / "nginx.conf";
    std::ofstream(config) << balancer_config({.directory = "/var/lib/nginx",
                                              .port = balancer_port,
                                              .upstreams = {replica_1, replica_2},
                                              .access_log = "/dev/stdout",
                                              .error_log = "/dev/stderr"});
    Project project{.name = "wbscale" + std::to_string(::getpid()),
                    .environment = {{"REGISTRY_IMAGE", offline_image("REGISTRY_IMAGE", "build-registry-image")},
                                    {"REDIS_IMAGE", offline_image("REDIS_IMAGE", "build-redis-image")},
                                    {"NGINX_IMAGE", offline_image("NGINX_IMAGE", "build-nginx-image")},
                                    {"S3_ENDPOINT", ceph.bucket().endpoint},
                                    {"S3_BUCKET", ceph.bucket().name},
                                    {"S3_ACCESS_KEY", ceph.bucket().access_key},
                                    {"S3_SECRET_KEY", ceph.bucket().secret_key},
                                    {"REPLICA_1_PORT", replica_1.substr(10)},
                                    {"REPLICA_2_PORT", replica_2.substr(10)},
                                    {"REDIS_PORT", std::to_string(free_loopback_port())},
                                    {"BALANCER_CONF", config.string()}},
                    .directory = workspace.path()};
    const RunResult up = project.run({"up", "--detach", "balancer"});
    INFO(up.out << up.err);
    REQUIRE(up.exit_code == 0);
    const std::string balancer = "127.0.0.1:" + std::to_string(balancer_port);
    const bool answering = wait_until_answering("http://" + balancer + "/v2/", 30);
    INFO(project.run({"logs", "--no-color"}).out);
    REQUIRE(answering);

    // A push and a verified pull through the balancer, as any client would do them.
    wbclient::RegistryClient client(balancer);
    const wbclient::Digest pushed = seed_busybox(client, "scale-out/busybox", "latest");
    const fs::path layout = workspace.path() / "pulled.oci";
    CHECK(wbclient::pull_to_layout(client, wbclient::Reference::parse(balancer + "/scale-out/busybox:latest"), layout) == pushed);
    CHECK(wbclient::verify_oci_layout(layout) >= 3);

    // Both replicas served some of it (nginx's round robin), each says so in its own log, and
    // nginx's log names both.
    const std::string log_1 = project.run({"logs", "--no-color", "replica-1"}).out;
    const std::string log_2 = project.run({"logs", "--no-color", "replica-2"}).out;
    CHECK(served_requests(log_1) > 0);
    CHECK(served_requests(log_2) > 0);
    const std::string nginx_log = project.run({"logs", "--no-color", "balancer"}).out;
    CHECK_THAT(nginx_log, Catch::Contains("upstream=" + replica_1));
    CHECK_THAT(nginx_log, Catch::Contains("upstream=" + replica_2));
    // The bytes are in the bucket, under the registry's root directory.
    const std::string data_key = "registry/docker/registry/v2/blobs/sha256/" + std::string(pushed.hex()).substr(0, 2) + "/" +
                                 std::string(pushed.hex()) + "/data";
    const auto stored = ceph.s3().keys("registry/docker/registry/v2/blobs/");
    CHECK(std::find(stored.begin(), stored.end(), data_key) != stored.end());
}
