// The harness's own promises: fresh registries side by side, always stopped, observed.
#include "busybox_image.hpp"
#include "ceph_cluster.hpp"
#include "event_receiver.hpp"
#include "program_runner.hpp"
#include "redis_instance.hpp"
#include "registry_instance.hpp"
#include "registry_replicas.hpp"
#include "scripted_server.hpp"
#include "scrub.hpp"
#include "test_support.hpp"
#include "workbook_paths.hpp"
#include "workspace.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/http.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace harness;

TEST_CASE("harness: two registries run side by side, each with its own port and storage", "[harness]") {
    Workspace workspace("harness-two");
    auto first = start_registry({.role = "registry"}, workspace.path());
    auto second = start_registry({.role = "upstream"}, workspace.path());
    CHECK(first->host_port() != second->host_port());
    CHECK(first->storage_root() != second->storage_root());

    wbclient::HttpClient http;
    const auto answer = http.perform({.method = "GET", .url = first->url() + "/v2/_catalog"});
    CHECK(answer.status == 200);
    CHECK(answer.body == "{\"repositories\":[]}\n");

    // The log is the server's view: our catalog request is in it, with its status and size.
    const auto log = first->access_log();
    const auto catalog = std::find_if(log.begin(), log.end(), [](const ObservedExchange& e) {
        return e.uri == "/v2/_catalog";
    });
    REQUIRE(catalog != log.end());
    CHECK(catalog->status == 200);
    CHECK(catalog->bytes_received == answer.body.size());

    first->stop();
    CHECK_FALSE(wait_until_answering(first->url(), 0.5));
    CHECK(wait_until_answering(second->url(), 0.5));
}

TEST_CASE("harness: a registry's notifications reach a server on loopback, and its debug address answers", "[harness]") {
    Workspace workspace("harness-notify");
    ScriptedServer receiver([](const std::string&, const std::string&) { return ScriptedResponse{.status = 200}; });
    // A list in the config (notifications.endpoints), and, on compose, the registry on this
    // machine's network: a container on the project's network cannot reach our loopback.
    auto registry = start_registry({.role = "registry",
                                    .config_patch = {{"notifications",
                                                      {{"endpoints",
                                                        {{{"name", "harness"},
                                                          {"url", "http://" + receiver.host_port() + "/events"},
                                                          {"timeout", "1s"},
                                                          {"threshold", 3},
                                                          {"backoff", "1s"}}}}}}},
                                    .host_network = true},
                                   workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    seed_busybox(client, "notified");
    CHECK(test_support::poll_until([&] {
        const auto requests = receiver.requests();
        return std::count(requests.begin(), requests.end(), "POST /events") >= 1;
    }, std::chrono::seconds(15)));

    REQUIRE_FALSE(registry->debug_url().empty());
    wbclient::HttpClient http;
    const auto health = http.perform({.method = "GET", .url = registry->debug_url() + "/debug/health"});
    CHECK(health.status == 200);
    CHECK(health.body == "{}");
}

TEST_CASE("harness: a native registry is stopped when its owner goes away", "[harness]") {
    Workspace workspace("harness-stop");
    std::string url;
    {
        auto registry = start_registry({}, workspace.path(), "native");
        url = registry->url();
        CHECK(wait_until_answering(url, 1));
    }
    CHECK_FALSE(wait_until_answering(url, 0.5));
}

TEST_CASE("harness: an unknown engine is a one-line error", "[harness]") {
    Workspace workspace("harness-engine");
    CHECK_THROWS_WITH(start_registry({}, workspace.path(), "podman"),
                      Catch::Contains("'podman' is not one of native, compose, external"));
}

TEST_CASE("harness: the external engine reaches a registry it did not start", "[harness]") {
    Workspace workspace("harness-external");
    auto native = start_registry({}, workspace.path(), "native");
    ::setenv("WORKBOOK_REGISTRY", native->url().c_str(), 1);
    auto external = start_registry({}, workspace.path(), "external");
    ::unsetenv("WORKBOOK_REGISTRY");
    CHECK(external->host_port() == native->host_port());
    CHECK_THROWS_WITH(external->log(), Catch::Contains("cannot read the registry's log"));
}

TEST_CASE("harness: the scripted server answers as told and remembers requests", "[harness]") {
    ScriptedServer server([](const std::string& method, const std::string& target) {
        return ScriptedResponse{.status = method == "GET" ? 418u : 200u, .body = target};
    });
    wbclient::HttpClient http;
    const auto response = http.perform({.method = "GET", .url = "http://" + server.host_port() + "/v2/x?y=1"});
    CHECK(response.status == 418);
    CHECK(response.body == "/v2/x?y=1");
    CHECK(server.requests() == std::vector<std::string>{"GET /v2/x?y=1"});
}

TEST_CASE("harness: the event receiver records what the registry POSTs, fails or hangs as told, and comes back on its port", "[harness]") {
    EventReceiver receiver;
    const std::string envelope =
        R"({"events":[{"id":"e1","timestamp":"2026-12-07T18:47:20.69372234Z","action":"push",)"
        R"("target":{"mediaType":"application/octet-stream","size":78,"digest":"sha256:c5","repository":"a/b"},)"
        R"("request":{"method":"PUT","useragent":"curl/7.88.1"}}]})";
    wbclient::HttpClient http;
    const auto post = [&] {
        wbclient::Request request{.method = "POST", .url = receiver.url(), .body = envelope};
        request.headers.add("Content-Type", "application/vnd.docker.distribution.events.v1+json");
        return http.perform(request).status;
    };
    CHECK(post() == 200);
    receiver.set_mode(EventReceiver::Mode::fail);
    CHECK(post() == 500);
    REQUIRE(receiver.events().size() == 1);  // the 500 does not count as received
    const ReceivedEvent event = receiver.events()[0];
    CHECK(event.id == "e1");
    CHECK(event.action == "push");
    CHECK(event.repository == "a/b");
    CHECK(event.size == 78);
    CHECK(event.user_agent == "curl/7.88.1");
    CHECK(event.from_repository.empty());
    CHECK(event.timestamp == "2026-12-07T18:47:20.69372234Z");
    CHECK(harness::parse_event_time(event.timestamp).time_since_epoch() % std::chrono::seconds(1) ==
          std::chrono::nanoseconds(693722340));
    CHECK_THROWS_WITH(harness::parse_event_time("yesterday"), "event timestamp 'yesterday' is not RFC 3339 in UTC");
    // GET hands back every POST, with how it was answered.
    const auto listed = nlohmann::json::parse(http.perform({.url = receiver.url()}).body);
    CHECK(listed["count"] == 2);
    REQUIRE(listed["deliveries"].size() == 2);
    CHECK(listed["deliveries"][0]["answered"] == 200);
    CHECK(listed["deliveries"][1]["answered"] == 500);
    CHECK(listed["deliveries"][0]["envelope"]["events"][0]["id"] == "e1");
    // ?from=N: only what came after the first N.
    const auto since = nlohmann::json::parse(http.perform({.url = receiver.url() + "?from=1"}).body);
    CHECK(since["count"] == 2);
    REQUIRE(since["deliveries"].size() == 1);
    CHECK(since["deliveries"][0]["answered"] == 500);
    CHECK(http.perform({.url = receiver.url() + "?from=x"}).status == 400);

    // Stopped: connection refused; started again: the same URL works.
    const std::string url = receiver.url();
    receiver.stop();
    CHECK_THROWS(post());
    receiver.start();
    receiver.set_mode(EventReceiver::Mode::accept);
    CHECK(receiver.url() == url);
    CHECK(post() == 200);
    CHECK(receiver.wait_for_events(2, std::chrono::milliseconds(100)));
    // A POST that is no envelope is kept as a delivery, and is no event.
    CHECK(http.perform({.method = "POST", .url = receiver.url(), .body = "not json"}).status == 200);
    CHECK(http.perform({.method = "POST", .url = receiver.url(), .body = R"({"events": 5})"}).status == 200);
    CHECK(receiver.deliveries().size() == 5);
    CHECK(receiver.deliveries()[3].envelope.is_null());
    CHECK(receiver.events().size() == 2);

    // Hung: the POST arrives and is never answered; a client gives up on its own clock.
    receiver.set_mode(EventReceiver::Mode::never_answer);
    wbclient::ClientOptions impatient;
    impatient.stall_timeout = std::chrono::seconds(1);
    wbclient::HttpClient waiting(impatient);
    CHECK_THROWS(waiting.perform({.method = "POST", .url = receiver.url(), .body = envelope}));
    CHECK(receiver.deliveries().size() == 6);
    CHECK(receiver.deliveries().back().answered == 0);
    CHECK(receiver.events().size() == 2);
}

TEST_CASE("harness: recorded output is scrubbed of ports, dates, UUIDs and upload state", "[harness]") {
    const std::string raw =
        "< Date: Sun, 29 Nov 2026 02:22:23 GMT\n"
        "< Location: http://127.0.0.1:41234/v2/x/blobs/uploads/"
        "b277e546-ca2f-4ec8-a86d-b53e71e97b22?_state=qexn-Hu8_xw%3D%3D\n";
    CHECK(scrub(raw, {{"127.0.0.1:41234", "localhost:5000"}}) ==
          "< Date: <date>\n"
          "< Location: http://localhost:5000/v2/x/blobs/uploads/<uuid>?_state=<state>\n");
    // HTTP/2 (chapter 10's HTTPS registry) writes header names in lower case.
    CHECK(scrub("< date: Mon, 07 Dec 2026 12:38:03 GMT\n", {}) == "< date: <date>\n");
}

TEST_CASE("harness: programs that hang are stopped at their deadline", "[harness]") {
    const RunResult result = run_program({"sleep", "30"}, {.timeout = std::chrono::seconds(1)});
    CHECK(result.timed_out);
    CHECK(result.exit_code != 0);
    CHECK(run_program({"no-such-program-anywhere"}).exit_code == 127);
}

TEST_CASE("harness: the runner measures a program's peak memory and wall time when asked", "[harness]") {
    // The shell holds 48 MB of text in a variable: its resident set passes 48 MiB at its peak.
    const std::vector<std::string> hungry{"sh", "-c", "x=$(head -c 48000000 /dev/zero | tr '\\0' a); echo ${#x}"};
    const RunResult measured = run_program(hungry, {.measure_peak_rss = true});
    INFO(measured.out << measured.err);
    REQUIRE(measured.exit_code == 0);
    CHECK(measured.out == "48000000\n");
    CHECK(measured.peak_rss_kib > 45000);
    CHECK(measured.peak_rss_kib < 400000);
    CHECK(measured.seconds > 0);
    // Not asked, not measured: 0 says "unknown", never a number from somewhere else.
    CHECK(run_program(hungry).peak_rss_kib == 0);
    // A sleep of 0.3 s takes at least that: the time is the program's wall time, start to
    // reaped. The upper bound is loose on purpose (a loaded machine starts programs slowly);
    // it catches a time taken from the deadline rather than the exit.
    const RunResult sleeper = run_program({"sleep", "0.3"}, {.measure_peak_rss = true});
    CHECK(sleeper.seconds >= 0.3);
    CHECK(sleeper.seconds < 5);
}

TEST_CASE("harness: a running program can be signalled, and the result names the signal", "[harness]") {
    RunningProgram sleeper({"/bin/sleep", "30"});
    CHECK(sleeper.running());
    sleeper.send(SIGTERM);
    const RunResult ended = sleeper.wait(std::chrono::seconds(5));
    CHECK_FALSE(ended.timed_out);
    CHECK(ended.signal == SIGTERM);
    CHECK(ended.exit_code == SIGTERM);  // Boost's convention: the signal's number
    CHECK_FALSE(sleeper.running());
    sleeper.send(SIGKILL);  // ended and reaped: nothing is sent to a pid now someone else's
    const RunResult exited = run_program({"sh", "-c", "exit 3"});
    CHECK(exited.exit_code == 3);
    CHECK(exited.signal == 0);
}

TEST_CASE("harness: a registry survives stop, kill and start, and garbage-collects while stopped",
          "[harness]") {
    Workspace workspace("harness-restart");
    auto registry = start_registry({}, workspace.path());
    wbclient::RegistryClient client(registry->host_port());
    seed_busybox(client, "kept", "latest");
    const auto before = registry->access_log().size();

    CHECK_THROWS_WITH(registry->garbage_collect({"--dry-run"}), Catch::Contains("stop the registry"));
    registry->stop();
    CHECK_FALSE(wait_until_answering(registry->url(), 0.3));
    const RunResult collected = registry->garbage_collect({"--dry-run"});
    INFO(collected.out << collected.err);
    CHECK(collected.exit_code == 0);
    // busybox: a config and a layer are referenced, hence marked; nothing is eligible.
    CHECK_THAT(collected.out, Catch::Contains("kept: marking manifest"));
    CHECK_THAT(collected.out, Catch::Contains("3 blobs marked, 0 blobs and 0 manifests eligible for deletion"));

    registry->start();
    CHECK(client.get_manifest("kept", "latest").parsed.layers.size() == 1);
    registry->kill();
    CHECK_FALSE(wait_until_answering(registry->url(), 0.3));
    registry->start();
    CHECK(client.get_manifest("kept", "latest").parsed.layers.size() == 1);
    // One log across restarts: the requests from before are still in it.
    CHECK(registry->access_log().size() > before);
}

TEST_CASE("harness: registry_up (./workbook up) serves both registries, logs live, stops on SIGTERM",
          "[harness]") {
    Workspace workspace("harness-up");
    const std::string registry_port = std::to_string(free_loopback_port());
    const std::string upstream_port = std::to_string(free_loopback_port());
    RunningProgram up({(std::filesystem::path(paths::harness_dir) / "registry_up").string(),
                       (workspace.path() / "state").string(), engine_from_environment(), registry_port,
                       upstream_port});
    const auto printed = [&] { return up.output_so_far(); };
    const auto wait_for = [&](const std::string& text) {
        for (int i = 0; i < 600 && printed().find(text) == std::string::npos; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return printed().find(text) != std::string::npos;
    };
    REQUIRE(wait_for("follows"));
    // The upstream was seeded: busybox is there to copy.
    wbclient::RegistryClient upstream("127.0.0.1:" + upstream_port);
    CHECK(upstream.get_manifest("library/busybox", "latest").parsed.layers.size() == 1);
    // A request to the registry shows up in the live log.
    const RunResult ping = run_program({chapter_program("00_run_a_registry").string(), "127.0.0.1:" + registry_port});
    CHECK(ping.exit_code == 0);
    CHECK(wait_for("GET /v2/ -> 200 (2 bytes written, registry-workbook/1.0)"));

    up.send(SIGTERM);
    const RunResult stopped = up.wait(std::chrono::seconds(120));
    CHECK_FALSE(stopped.timed_out);
    CHECK(stopped.exit_code == 0);
    CHECK_THAT(stopped.out, Catch::Contains("Stopping the registries."));
    CHECK_FALSE(wait_until_answering("http://127.0.0.1:" + registry_port, 0.3));
    CHECK_FALSE(wait_until_answering("http://127.0.0.1:" + upstream_port, 0.3));
    CHECK_FALSE(std::filesystem::exists(workspace.path() / "state" / "registry-up.pid"));
}

TEST_CASE("harness: registry_up --mirror (./workbook up --mirror) adds a pull-through cache of the upstream",
          "[harness]") {
    Workspace workspace("harness-up-mirror");
    const std::string registry_port = std::to_string(free_loopback_port());
    const std::string upstream_port = std::to_string(free_loopback_port());
    const std::string mirror = "127.0.0.1:" + std::to_string(free_loopback_port());
    RunningProgram up({(std::filesystem::path(paths::harness_dir) / "registry_up").string(), "--mirror",
                       (workspace.path() / "state").string(), engine_from_environment(), registry_port,
                       upstream_port, mirror.substr(mirror.find(':') + 1)});
    REQUIRE(test_support::poll_until([&] { return up.output_so_far().find("follows") != std::string::npos; },
                                     std::chrono::seconds(120)));
    CHECK_THAT(up.output_so_far(), Catch::Contains("mirror    http://localhost:" + mirror.substr(mirror.find(':') + 1) +
                                                   "  (a pull-through cache of the upstream"));
    // busybox, which only the upstream was seeded with, comes through the mirror...
    wbclient::RegistryClient client(mirror);
    CHECK(client.get_manifest("library/busybox", "latest").parsed.layers.size() == 1);
    // ...and it is a mirror, not a registry of its own: a push is refused.
    wbclient::HttpClient http;
    CHECK(http.perform({.method = "POST", .url = "http://" + mirror + "/v2/library/busybox/blobs/uploads/"}).status == 405);

    up.send(SIGTERM);
    const RunResult stopped = up.wait(std::chrono::seconds(120));
    INFO(stopped.out << stopped.err);
    CHECK_FALSE(stopped.timed_out);
    CHECK(stopped.exit_code == 0);
    CHECK_FALSE(wait_until_answering("http://" + mirror, 0.3));
}

TEST_CASE("harness: registry_up opens its ports only when ready: the first answer already finds busybox",
          "[harness]") {
    Workspace workspace("harness-up-ready");
    const std::string registry = "127.0.0.1:" + std::to_string(free_loopback_port());
    const std::string upstream = "127.0.0.1:" + std::to_string(free_loopback_port());
    RunningProgram up({(std::filesystem::path(paths::harness_dir) / "registry_up").string(),
                       (workspace.path() / "state").string(), engine_from_environment(),
                       registry.substr(registry.find(':') + 1), upstream.substr(upstream.find(':') + 1)});
    // What a script does: wait until /v2/ answers on a port, then use the registries at once.
    wbclient::HttpClient http;
    const auto busybox_status = [&] {
        wbclient::Request head{.method = "HEAD", .url = "http://" + upstream + "/v2/library/busybox/manifests/latest"};
        head.headers.add("Accept", "application/vnd.docker.distribution.manifest.v2+json");
        return http.perform(head).status;
    };
    bool upstream_answered = false, registry_answered = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!(upstream_answered && registry_answered) && up.running() &&
           std::chrono::steady_clock::now() < deadline) {
        if (!upstream_answered && wait_until_answering("http://" + upstream, 0.001)) {
            upstream_answered = true;
            CHECK(busybox_status() == 200);
        }
        if (!registry_answered && wait_until_answering("http://" + registry, 0.001)) {
            registry_answered = true;
            CHECK(busybox_status() == 200);
        }
    }
    CHECK(upstream_answered);
    CHECK(registry_answered);
    // A clean stop (SIGTERM), so a compose run takes its containers down too.
    up.send(SIGTERM);
    const RunResult stopped = up.wait(std::chrono::seconds(120));
    INFO(stopped.out << stopped.err);
    CHECK_FALSE(stopped.timed_out);
    CHECK(stopped.exit_code == 0);
}

TEST_CASE("harness: registry_up prints its usage for --help and takes no option for its state folder",
          "[harness]") {
    Workspace workspace("harness-up-usage");
    const std::string up = (std::filesystem::path(paths::harness_dir) / "registry_up").string();
    const RunResult help = run_program({up, "--help"}, {.working_directory = workspace.path()});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::StartsWith("usage: registry_up [--mirror] <state-dir>"));
    // Before, "--bogus" became a state folder named "--bogus" and two registries started.
    const RunResult bogus =
        run_program({up, "--bogus"}, {.working_directory = workspace.path(), .timeout = std::chrono::seconds(10)});
    CHECK_FALSE(bogus.timed_out);
    CHECK(bogus.exit_code == 1);
    CHECK_THAT(bogus.err, Catch::StartsWith("usage: registry_up [--mirror] <state-dir>"));
    CHECK(std::filesystem::is_empty(workspace.path()));
}

TEST_CASE("harness: Ceph (mon, osd, radosgw), registry replicas on its bucket and nginx start, serve, and leave nothing behind",
          "[harness][native-only]") {
    std::string workspace_path;
    {
        Workspace workspace("harness-replicas");
        workspace_path = workspace.path().string();
        CephCluster ceph(workspace.path());
        INFO("start-up: mon " << ceph.startup().mon << " s, osd " << ceph.startup().osd << " s, rgw "
                              << ceph.startup().rgw << " s, bucket " << ceph.startup().bucket << " s");
        CHECK(ceph.startup().total() < 30);
        CHECK(ceph.memory().mon > 0);
        CHECK(ceph.memory().osd > 0);
        CHECK(ceph.memory().rgw > 0);
        // The bucket exists and is empty: S3 answers our signed request.
        CHECK(ceph.s3().request("GET", "", "").status == 200);
        CHECK(ceph.s3().incomplete_uploads().empty());

        auto redis = start_redis(workspace.path(), {}, "native");
        ReplicaSet replicas(workspace.path(), ceph.bucket(), {.replicas = 2, .redis = redis.get()});
        REQUIRE(replicas.size() == 2);
        INFO("replicas and nginx up in " << replicas.startup_seconds() << " s (nginx " << replicas.balancer().startup_seconds()
             << " s); RSS KiB: mon " << ceph.memory().mon << ", osd " << ceph.memory().osd << ", rgw " << ceph.memory().rgw
             << ", replicas " << replicas.replica_memory_kib().front() << " and " << replicas.replica_memory_kib().back()
             << ", nginx " << replicas.balancer().memory_kib());
        for (long kib : replicas.replica_memory_kib()) CHECK(kib > 0);
        CHECK(replicas.balancer().memory_kib() > 0);

        // A blob pushed through nginx is stored in the bucket, and each replica serves it.
        wbclient::RegistryClient through_nginx(replicas.balancer().host_port());
        const std::string bytes = "one blob for every replica\n";
        through_nginx.push_blob("harness/replicas", bytes);
        const auto digest = wbclient::digest_of(bytes);
        for (std::size_t i = 0; i < replicas.size(); ++i) {
            wbclient::RegistryClient direct(replicas.replica(i).host_port());
            CHECK(direct.blob_size("harness/replicas", digest) == bytes.size());
        }
        const std::string data_key = "registry/docker/registry/v2/blobs/sha256/" + std::string(digest.hex()).substr(0, 2) +
                                     "/" + std::string(digest.hex()) + "/data";
        const auto stored = ceph.s3().keys("registry/docker/registry/v2/blobs/");
        CHECK(std::find(stored.begin(), stored.end(), data_key) != stored.end());
        // nginx logged which replica answered, and round robin used both.
        const std::string access = replicas.balancer().access_log();
        CHECK_THAT(access, Catch::Contains("upstream=" + replicas.replica(0).host_port()));
        CHECK_THAT(access, Catch::Contains("upstream=" + replicas.replica(1).host_port()));

        // radosgw restarts on its port with the data kept (the OSD holds it).
        ceph.stop_rgw();
        ceph.start_rgw();
        const auto kept = ceph.s3().keys("registry/");
        CHECK(std::find(kept.begin(), kept.end(), data_key) != kept.end());
    }
    // Every daemon is gone, not even a zombie: nothing names the workspace any more.
    std::vector<std::string> left;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        const std::string command((std::istreambuf_iterator<char>(in)), {});
        if (command.find(workspace_path) != std::string::npos) left.push_back(name);
    }
    CHECK(left.empty());
    CHECK_FALSE(std::filesystem::exists(workspace_path));
}

TEST_CASE("harness: docker-compose.yml's balancer config is the template the native balancer uses, filled in for the "
          "reader's ports",
          "[harness]") {
    const std::string committed =
        test_support::read_existing_file(std::filesystem::path(paths::source_dir) / "harness/scale-out/nginx.conf");
    CHECK(committed == balancer_config({.directory = "/var/lib/nginx",
                                        .port = 5010,
                                        .upstreams = {"127.0.0.1:5011", "127.0.0.1:5012"},
                                        .access_log = "/dev/stdout",
                                        .error_log = "/dev/stderr"}));
}
