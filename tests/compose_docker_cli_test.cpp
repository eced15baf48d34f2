// The seed's literal docker commands against the compose registry: pull busybox from the
// upstream, tag, push, remove both, pull back, run. The registry's log proves each step.
#include "busybox_image.hpp"
#include "program_runner.hpp"
#include "registry_instance.hpp"
#include "workspace.hpp"

#include <catch2/catch.hpp>

using namespace harness;

namespace {

RunResult docker(std::vector<std::string> args) {
    args.insert(args.begin(), "docker");
    return run_program(args, {.timeout = std::chrono::seconds(180)});
}

}  // namespace

TEST_CASE("compose: docker pull, tag, push, image rm and pull of my-busybox, then docker run",
          "[compose]") {
    Workspace workspace("compose-docker");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "compose");
    auto registry = start_registry({.role = "registry"}, workspace.path(), "compose");
    REQUIRE(registry->engine() == "compose");
    wbclient::RegistryClient seeder(upstream->host_port());
    seed_busybox(seeder);

    const std::string source = "localhost:" + upstream->host_port().substr(10) + "/library/busybox:latest";
    const std::string mine = "localhost:" + registry->host_port().substr(10) + "/my-busybox";
    struct Cleanup {
        std::vector<std::string> images;
        ~Cleanup() {
            for (const auto& image : images) docker({"image", "rm", "-f", image});
        }
    } cleanup{{source, mine}};

    for (const auto& step : std::vector<std::vector<std::string>>{
             {"pull", source},
             {"tag", source, mine},
             {"push", mine},
             {"image", "rm", source},
             {"image", "rm", mine},
             {"pull", mine}}) {
        const RunResult result = docker(step);
        INFO("docker " << step[0] << ": " << result.out << result.err);
        REQUIRE(result.exit_code == 0);
    }
    const RunResult ran = docker({"run", "--rm", "--network", "none", mine, "echo", "hello-from-my-busybox"});
    INFO(ran.out << ran.err);
    REQUIRE(ran.exit_code == 0);
    CHECK(ran.out == "hello-from-my-busybox\n");

    // The registry saw docker push the blobs and the manifest, then pull them back.
    const auto log = registry->access_log();
    INFO(summarize(log));
    const auto by_docker = [&](const std::string& method, const std::string& prefix, long status) {
        return std::count_if(log.begin(), log.end(), [&](const ObservedExchange& e) {
            return e.method == method && e.uri.starts_with(prefix) && e.status == status &&
                   e.user_agent.starts_with("docker/");
        });
    };
    CHECK(by_docker("PUT", "/v2/my-busybox/blobs/uploads/", 201) == 2);
    CHECK(by_docker("PUT", "/v2/my-busybox/manifests/latest", 201) == 1);
    CHECK(by_docker("GET", "/v2/my-busybox/manifests/", 200) >= 1);
    CHECK(by_docker("GET", "/v2/my-busybox/blobs/sha256:", 200) == 2);
    // docker keeps images uncompressed: it pushes the same config (same image ID, same
    // diff_ids) but gzips the layer anew, so the manifest digest differs from the upstream's.
    wbclient::RegistryClient reader(registry->host_port());
    const auto pushed = reader.get_manifest("my-busybox", "latest");
    const auto original = seeder.get_manifest("library/busybox", "latest");
    CHECK(pushed.parsed.config->digest == original.parsed.config->digest);
    CHECK(pushed.parsed.layers.size() == original.parsed.layers.size());
}
