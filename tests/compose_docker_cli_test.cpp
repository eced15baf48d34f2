// The seed's literal docker commands against the compose registry: pull busybox from the
// upstream, tag, push, remove both, pull back, run. The registry's log proves each step.
// And chapter 12's last step: a Docker daemon whose daemon.json names a mirror pulls
// `busybox` (Docker Hub's name) through it. And issue 16's promise with the daemon's own
// client: after `docker login` to chapter 10's htpasswd and token registries, chapters 01 and
// 05 run against them with nothing else (the same after `podman login` is chapter 10's test).
// And chapter 16's docker part: docker pulls and runs what buildah and our library pushed, pushes
// into a repository of its own, and the registry's log tells its conversation from the other clients'.
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "client_comparison.hpp"
#include "own_dockerd.hpp"
#include "protected_registries.hpp"
#include "stored_login.hpp"
#include "test_support.hpp"
#include "program_runner.hpp"
#include "registry_instance.hpp"
#include "workspace.hpp"

#include "wbclient/http/auth.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "wbclient/image/oci_layout.hpp"
#include "wbclient/transfer/image_transfer.hpp"

using namespace harness;
namespace fs = std::filesystem;

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

TEST_CASE("compose: registry-mirrors in daemon.json sends `docker pull busybox` through the mirror",
          "[compose][chapter12]") {
    Workspace workspace("compose-docker-mirror");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "compose");
    wbclient::RegistryClient seeder(upstream->host_port());
    const wbclient::Digest seeded = seed_busybox(seeder);
    auto mirror = start_registry(mirror_of(*upstream), workspace.path(), "compose");
    const std::size_t upstream_before = upstream->access_log().size();

    // A daemon of this test's own: the machine's daemon.json is not ours to edit. Docker
    // tries the mirror for images of Docker Hub (docker.io) only, before Docker Hub itself.
    const OwnDockerd dockerd(workspace.path() / "dockerd",
                             {{"registry-mirrors", {"http://" + mirror->host_port()}}});
    const RunResult info = dockerd.docker({"info", "--format", "{{json .RegistryConfig.Mirrors}}"});
    REQUIRE(info.exit_code == 0);
    CHECK(info.out == "[\"http://" + mirror->host_port() + "/\"]\n");

    const RunResult pulled = dockerd.docker({"pull", "busybox"});
    INFO("docker pull: " << pulled.out << pulled.err << "\nmirror saw:\n" << summarize(mirror->access_log()));
    REQUIRE(pulled.exit_code == 0);
    // Docker names what it got by Docker Hub's name and the digest the upstream has.
    CHECK_THAT(pulled.out, Catch::Contains("Digest: " + seeded.str()));
    const RunResult digests = dockerd.docker({"image", "inspect", "--format", "{{json .RepoDigests}}", "busybox"});
    CHECK(digests.out == "[\"busybox@" + seeded.str() + "\"]\n");

    // The mirror served docker (its user agent) the manifest, as docker asks for it (a HEAD by
    // tag for the digest, then a GET by digest), and both blobs...
    const auto served = mirror->access_log();
    const auto from_docker = [&](const std::string& method, const std::string& prefix) {
        return std::count_if(served.begin(), served.end(), [&](const ObservedExchange& e) {
            return e.method == method && e.uri.starts_with(prefix) && e.status == 200 &&
                   e.user_agent.starts_with("docker/");
        });
    };
    CHECK(from_docker("HEAD", "/v2/library/busybox/manifests/latest") == 1);
    CHECK(from_docker("GET", "/v2/library/busybox/manifests/" + seeded.str()) == 1);
    CHECK(from_docker("GET", "/v2/library/busybox/blobs/sha256:") == 2);
    // ...having fetched them from the upstream itself (Go's user agent, not docker's).
    const auto all = upstream->access_log();
    const std::vector<ObservedExchange> reached(all.begin() + static_cast<std::ptrdiff_t>(upstream_before), all.end());
    INFO("upstream saw:\n" << summarize(reached));
    CHECK(std::count_if(reached.begin(), reached.end(), [](const ObservedExchange& e) {
              return e.method == "GET" && e.uri.starts_with("/v2/library/busybox/blobs/sha256:") &&
                     e.user_agent.starts_with("Go-http-client/");
          }) >= 2);
    CHECK(std::none_of(reached.begin(), reached.end(),
                       [](const ObservedExchange& e) { return e.user_agent.starts_with("docker/"); }));
}

TEST_CASE("compose: the mirror service panics while its upstream is down and restart: on-failure brings it back",
          "[compose][chapter12]") {
    Workspace workspace("compose-mirror-restart");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "compose");
    auto mirror = start_registry(mirror_of(*upstream), workspace.path(), "compose");
    const RunResult found = docker({"ps", "--quiet", "--filter", "label=com.docker.compose.project=" + mirror->compose_project(),
                                    "--filter", "label=com.docker.compose.service=mirror"});
    REQUIRE(found.exit_code == 0);
    const std::string container = found.out.substr(0, found.out.find('\n'));
    REQUIRE_FALSE(container.empty());
    const auto restarts = [&] {
        const RunResult count = docker({"inspect", "--format", "{{.RestartCount}}", container});
        return count.exit_code == 0 ? std::stoi(count.out) : -1;
    };
    REQUIRE(restarts() == 0);

    // What a reboot without the upstream does: the mirror starts, asks http://upstream:5000/v2/,
    // gets no answer (on the compose network, the name no longer resolves) and panics.
    upstream->stop();
    REQUIRE(docker({"restart", container}).exit_code == 0);
    CHECK(test_support::poll_until([&] { return restarts() >= 1; }, std::chrono::seconds(90)));
    CHECK_THAT(mirror->log(), Catch::Contains("panic: Get \"http://upstream:5000/v2/\""));
    CHECK_FALSE(wait_until_answering(mirror->url(), 0.5));

    // docker-compose.yml's restart: on-failure keeps starting it; once the upstream answers,
    // the next start serves.
    upstream->start();
    CHECK(wait_until_answering(mirror->url(), 90));
    wbclient::RegistryClient seeder(upstream->host_port());
    seed_busybox(seeder);
    wbclient::RegistryClient client(mirror->host_port());
    CHECK(client.get_manifest("library/busybox", "latest").parsed.layers.size() == 1);
}

TEST_CASE("compose: after `docker login` to the htpasswd and token registries, chapters 01 and 05 run "
          "against them with nothing else",
          "[compose][chapter10]") {
    Workspace workspace("compose-docker-login");
    auto open = start_registry({.role = "registry"}, workspace.path() / "open", "compose");
    wbclient::RegistryClient seeder(open->host_port());
    seed_busybox(seeder, "my-busybox", "latest");
    ProtectedRegistries registries = start_protected_registries(workspace.path() / "protected", "compose");
    std::filesystem::remove(registries.auth_file);  // the harness's own login file: docker writes ours
    // docker's files under a HOME of their own, outside the workspace searched for secrets below.
    const Workspace login("compose-docker-login-home");
    const auto environment = stored_login::isolated_environment(login.path());
    const std::filesystem::path config = login.path() / "home/.docker/config.json";
    auto with_password = environment;
    with_password["LOGIN_PASSWORD"] = registries.password;
    const auto shell = [&](const std::string& command) {
        return run_program({"sh", "-c", command},
                           {.environment = with_password, .timeout = std::chrono::seconds(180), .merge_output = true});
    };

    std::string outputs;
    for (const RegistryInstance* registry : {registries.basic.get(), registries.token.get()}) {
        const std::string host = registry->host_port();
        const RunResult logged_in = shell("printf %s \"$LOGIN_PASSWORD\" | docker login -u " + registries.user +
                                          " --password-stdin " + host);
        INFO(logged_in.out);
        REQUIRE(logged_in.exit_code == 0);
        CHECK_THAT(logged_in.out, Catch::Contains("Login Succeeded"));
        outputs += logged_in.out;
        // Without a credential helper docker keeps the password base64-encoded in config.json.
        const auto stored = nlohmann::json::parse(test_support::read_existing_file(config));
        CHECK(stored["auths"][host]["auth"] ==
              wbclient::basic_authorization({registries.user, registries.password}).substr(6));
        outputs += stored_login::run_chapters_01_and_05(workspace, open->host_port(), *registry, environment, config);
        REQUIRE(shell("docker logout " + host).exit_code == 0);
    }
    CHECK(nlohmann::json::parse(test_support::read_existing_file(config))["auths"].empty());
    for (const std::string& secret : {registries.password,
                                     wbclient::basic_authorization({registries.user, registries.password}).substr(6)}) {
        CHECK(outputs.find(secret) == std::string::npos);
        for (const RegistryInstance* registry : {open.get(), registries.basic.get(), registries.token.get()})
            CHECK(registry->log().find(secret) == std::string::npos);
        for (const auto& entry : std::filesystem::recursive_directory_iterator(workspace.path()))
            if (entry.is_regular_file()) {
                INFO(entry.path());
                CHECK(test_support::read_existing_file(entry.path()).find(secret) == std::string::npos);
            }
    }
}

TEST_CASE("compose: chapter 16's docker: pull and run what buildah and our library pushed, push, manifest inspect",
          "[compose][chapter16]") {
    Workspace workspace("compose-docker-clients");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "compose");
    auto registry = start_registry({.role = "registry"}, workspace.path(), "compose");
    wbclient::RegistryClient seeder(upstream->host_port());
    seed_busybox(seeder);
    // The chapter's program first: skopeo, buildah, podman and our library fill their repositories.
    const ChapterRun chapter = run_chapter("16_other_clients", {}, workspace,
                                           {{"WORKBOOK_REGISTRY", registry->host_port()}, {"WORKBOOK_UPSTREAM", upstream->host_port()}},
                                           std::chrono::seconds(240));
    INFO(chapter.result.out << chapter.result.err);
    REQUIRE(chapter.result.exit_code == 0);
    const std::size_t skip = registry->access_log().size();

    // localhost, not 127.0.0.1: the daemon talks plain HTTP to localhost registries only.
    const std::string at = "localhost:" + registry->host_port().substr(10);
    const std::string built = at + "/buildah/hello:latest";
    const std::string ours = at + "/workbook/busybox:latest";
    const std::string mine = at + "/docker/hello:latest";
    struct Cleanup {
        std::vector<std::string> images;
        ~Cleanup() {
            for (const auto& image : images) docker({"image", "rm", "-f", image});
        }
    } cleanup{{built, ours, mine}};
    for (const auto& step : std::vector<std::vector<std::string>>{
             {"pull", built}, {"pull", ours}, {"tag", built, mine}, {"push", mine}}) {
        const RunResult result = docker(step);
        INFO("docker " << step[0] << ": " << result.out << result.err);
        REQUIRE(result.exit_code == 0);
    }
    const RunResult ran_buildah = docker({"run", "--rm", "--network", "none", built});
    INFO(ran_buildah.out << ran_buildah.err);
    CHECK(ran_buildah.out == "built by buildah\n");
    const RunResult ran_ours = docker({"run", "--rm", "--network", "none", ours, "echo", "pulled-by-docker"});
    CHECK(ran_ours.out == "pulled-by-docker\n");
    const RunResult inspected = docker({"manifest", "inspect", "--insecure", mine});
    INFO(inspected.out << inspected.err);
    REQUIRE(inspected.exit_code == 0);
    const auto manifest_json = nlohmann::json::parse(inspected.out);
    CHECK(manifest_json.at("layers").size() == 2);

    // What docker pushed, our library pulls and verifies; docker's manifest names the same layers.
    wbclient::RegistryClient reader(registry->host_port());
    const auto pushed = reader.get_manifest("docker/hello", "latest");
    const auto original = reader.get_manifest("buildah/hello", "latest");
    CHECK(pushed.parsed.layers.size() == original.parsed.layers.size());
    const fs::path layout = workspace.path() / "docker-hello.oci";
    CHECK(wbclient::pull_to_layout(reader, wbclient::Reference::parse(registry->host_port() + "/docker/hello:latest"), layout) ==
          wbclient::digest_of(pushed.bytes));
    CHECK(wbclient::verify_oci_layout(layout) == 4);

    const auto all = registry->access_log();
    const std::vector<ObservedExchange> log(all.begin() + static_cast<std::ptrdiff_t>(skip), all.end());
    INFO(summarize(log));
    const auto rows = compare_clients(log, {harness_user_agent, "registry-workbook/1.0"});
    const auto docker_row = std::find_if(rows.begin(), rows.end(), [](const ClientConversation& row) { return row.name == "docker"; });
    REQUIRE(docker_row != rows.end());
    CHECK(docker_row->pushed_to == std::set<std::string>{"docker/hello"});
    CHECK(docker_row->repositories.contains("buildah/hello"));
    CHECK(docker_row->repositories.contains("workbook/busybox"));
    CHECK(docker_row->blob_gets >= 3);  // buildah's config and layer, our busybox's config at least
    // docker asks before it sends: the layers it pulled from buildah/hello are mounted or found.
    CHECK(docker_row->heads_before_upload + docker_row->mounts >= 1);
}
