// Chapter 01: given an upstream serving busybox and an empty registry, when the program
// re-hosts it and pulls it back, then both registries saw exactly the requests the chapter
// describes, and the pulled layout verifies.
#include "test_support.hpp"
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "scripted_server.hpp"

#include "wbclient/image/oci_layout.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace harness;
namespace fs = std::filesystem;

using namespace test_support;

namespace {

struct Registries {
    std::unique_ptr<RegistryInstance> upstream;
    std::unique_ptr<RegistryInstance> local;
    wbclient::Digest busybox;
    std::vector<wbclient::Descriptor> blobs;  // config, then the layer

    std::string source() const { return upstream->host_port() + "/library/busybox:latest"; }
    std::string destination() const { return local->host_port() + "/my-busybox:latest"; }
};

Registries start_registries(const Workspace& workspace) {
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    auto local = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient seeder(upstream->host_port());
    const wbclient::Digest busybox = seed_busybox(seeder);
    const auto manifest = seeder.get_manifest("library/busybox", "latest");
    return {std::move(upstream), std::move(local), busybox, manifest.parsed.references()};
}

std::vector<ObservedExchange> addressed_to(const std::vector<ObservedExchange>& exchanges,
                                           const std::string& host_port) {
    std::vector<ObservedExchange> selected;
    for (const auto& e : exchanges)
        if (e.host == host_port) selected.push_back(e);
    return selected;
}

}  // namespace

TEST_CASE("chapter 01: re-host busybox, clear the cache, pull it back", "[chapter01]") {
    Workspace workspace("chapter01");
    const Registries registries = start_registries(workspace);

    const ChapterRun run =
        run_chapter("01_rehost_busybox",
                    {registries.source(), registries.destination(), "my-busybox.oci"}, workspace);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK_THAT(run.result.out, Catch::Contains("Pushed manifest " + registries.busybox.str()));
    CHECK_THAT(run.result.out, Catch::Contains("3 blobs verified"));

    const auto to_local = addressed_to(run.transcript, registries.local->host_port());
    const auto to_upstream = addressed_to(run.transcript, registries.upstream->host_port());
    INFO("client saw:\n" << summarize(run.transcript));

    SECTION("the client: per blob HEAD 404, POST 202, PUT 201; the manifest PUT keeps its digest") {
        for (const auto& blob : registries.blobs) {
            const std::string blob_path = "/v2/my-busybox/blobs/" + blob.digest.str();
            const auto head = index_of(to_local, "HEAD", blob_path);
            CHECK(to_local[head].status == 404);
            const auto post = index_of(to_local, "POST", "/v2/my-busybox/blobs/uploads/", head);
            CHECK(to_local[post].status == 202);
            const auto put = index_of(to_local, "PUT", "/v2/my-busybox/blobs/uploads/", post);
            CHECK(to_local[put].status == 201);
            CHECK_THAT(to_local[put].uri, Catch::EndsWith("digest=" + blob.digest.str()));
            CHECK(to_local[put].bytes_sent == blob.size);
            CHECK(to_local[put].response_header("Docker-Content-Digest") == blob.digest.str());
            // The PUT went to the newest Location the POST handed out.
            const auto location = to_local[post].response_header("Location");
            REQUIRE(location);
            CHECK_THAT(*location, Catch::EndsWith(to_local[put].uri.substr(0, to_local[put].uri.find("&digest="))));
        }
        const auto manifest_put = index_of(to_local, "PUT", "/v2/my-busybox/manifests/latest");
        CHECK(to_local[manifest_put].status == 201);
        CHECK(to_local[manifest_put].response_header("Docker-Content-Digest") ==
              registries.busybox.str());
        for (const auto& e : select(to_upstream, "", "/v2/library/busybox/"))
            CHECK(e.status == 200);
    }

    SECTION("the client: the pull is a manifest GET 200 then each blob GET 200, after the push") {
        const auto manifest_put = index_of(to_local, "PUT", "/v2/my-busybox/manifests/latest");
        const auto manifest_get = index_of(to_local, "GET", "/v2/my-busybox/manifests/latest", manifest_put);
        CHECK(to_local[manifest_get].status == 200);
        CHECK(to_local[manifest_get].response_header("Docker-Content-Digest") == registries.busybox.str());
        for (const auto& blob : registries.blobs) {
            const auto get = index_of(to_local, "GET", "/v2/my-busybox/blobs/" + blob.digest.str(), manifest_get);
            CHECK(to_local[get].status == 200);
            CHECK(to_local[get].bytes_received == blob.size);
        }
    }

    SECTION("the servers: both access logs agree with the client") {
        const auto local_log = registries.local->access_log();
        INFO("registry logged:\n" << summarize(local_log));
        for (const auto& blob : registries.blobs) {
            const auto head = index_of(local_log, "HEAD", "/v2/my-busybox/blobs/" + blob.digest.str());
            CHECK(local_log[head].status == 404);
            const auto put = index_of(local_log, "PUT", "/v2/my-busybox/blobs/uploads/", head);
            CHECK(local_log[put].status == 201);
            const auto get = index_of(local_log, "GET", "/v2/my-busybox/blobs/" + blob.digest.str(), put);
            CHECK(local_log[get].status == 200);
            CHECK(local_log[get].bytes_received == blob.size);
        }
        CHECK(select(local_log, "PUT", "/v2/my-busybox/blobs/uploads/").size() == registries.blobs.size());
        const auto manifest_put = index_of(local_log, "PUT", "/v2/my-busybox/manifests/latest");
        CHECK(local_log[manifest_put].status == 201);

        auto upstream_log = registries.upstream->access_log();
        std::erase_if(upstream_log, [](const ObservedExchange& e) { return e.user_agent == harness_user_agent; });
        INFO("upstream logged:\n" << summarize(upstream_log));
        const auto manifest_get = index_of(upstream_log, "GET", "/v2/library/busybox/manifests/latest");
        CHECK(upstream_log[manifest_get].status == 200);
        for (const auto& blob : registries.blobs) {
            const auto get = index_of(upstream_log, "GET", "/v2/library/busybox/blobs/" + blob.digest.str());
            CHECK(upstream_log[get].status == 200);
            CHECK(upstream_log[get].bytes_received == blob.size);
        }
        // The program never wrote to the upstream (only the harness's seeding did).
        CHECK(select(upstream_log, "PUT").empty());
        CHECK(select(upstream_log, "POST").empty());
    }

    SECTION("the layout: every blob on disk verifies and index.json names the manifest") {
        const fs::path layout = workspace.path() / "my-busybox.oci";
        CHECK(wbclient::verify_oci_layout(layout) == 3);
        std::ifstream index(layout / "index.json");
        const auto json = nlohmann::json::parse(index);
        CHECK(json["manifests"][0]["digest"] == registries.busybox.str());
        CHECK(json["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "latest");
        CHECK_FALSE(has_partial_leftovers(workspace.path()));
    }
}

TEST_CASE("chapter 01: a second run finds every blob in place and uploads nothing", "[chapter01]") {
    Workspace workspace("chapter01-again");
    const Registries registries = start_registries(workspace);
    const std::vector<std::string> args{registries.source(), registries.destination(), "my-busybox.oci"};
    REQUIRE(run_chapter("01_rehost_busybox", args, workspace).result.exit_code == 0);
    const auto uploads_before = select(registries.local->access_log(), "PUT", "/v2/my-busybox/blobs/uploads/").size();

    const ChapterRun again = run_chapter("01_rehost_busybox", args, workspace);
    INFO(again.result.out << again.result.err);
    REQUIRE(again.result.exit_code == 0);
    CHECK_THAT(again.result.out, Catch::Contains("Removed the local copy my-busybox.oci"));
    for (const auto& blob : registries.blobs) {
        const auto heads = select(again.transcript, "HEAD", "/v2/my-busybox/blobs/" + blob.digest.str());
        REQUIRE(heads.size() == 1);
        CHECK(heads.front().status == 200);
    }
    CHECK(select(again.transcript, "POST").empty());
    CHECK(select(registries.local->access_log(), "PUT", "/v2/my-busybox/blobs/uploads/").size() == uploads_before);
}

TEST_CASE("chapter 01: a tampered blob in the registry's storage fails the pull and leaves no layout",
          "[chapter01]") {
    Workspace workspace("chapter01-tamper");
    const Registries registries = start_registries(workspace);
    const std::vector<std::string> args{registries.source(), registries.destination(), "my-busybox.oci"};
    REQUIRE(run_chapter("01_rehost_busybox", args, workspace).result.exit_code == 0);

    // Flip one byte of the layer's data file in the local registry's storage.
    REQUIRE_FALSE(registries.blobs.empty());
    const auto& layer = registries.blobs.back();
    flip_byte(registries.local->blob_data(layer.digest), 100);

    const ChapterRun run = run_chapter("01_rehost_busybox", args, workspace);
    INFO(run.result.out << run.result.err);
    CHECK(run.result.exit_code == 1);
    CHECK(is_one_line(run.result.err));
    CHECK_THAT(run.result.err, Catch::Contains("blob " + layer.digest.str() + " arrived with digest sha256:"));
    CHECK_FALSE(fs::exists(workspace.path() / "my-busybox.oci"));
    CHECK_FALSE(has_partial_leftovers(workspace.path()));
}

TEST_CASE("chapter 01: bad input gets a one-line error, a non-zero exit and no layout", "[chapter01]") {
    Workspace workspace("chapter01-bad");
    const Registries registries = start_registries(workspace);
    ScriptedServer broken([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 500,
                                .headers = {{"Content-Type", "application/json"}},
                                .body = R"({"errors":[{"code":"UNKNOWN","message":"storage is on fire"}]})"};
    });
    const std::string nobody_listens = "127.0.0.1:" + std::to_string(free_loopback_port());
    fs::create_directories(workspace.path() / "precious");
    std::ofstream(workspace.path() / "precious" / "notes.txt") << "not an OCI layout\n";

    struct Case {
        std::vector<std::string> args;
        std::string expected;
        std::string layout = "out.oci";
    };
    const std::string up = registries.upstream->host_port();
    const std::string local = registries.local->host_port();
    const std::vector<Case> cases = {
        {{up + "/library/BusyBox:latest", local + "/x"}, "name component 'BusyBox' must be lower-case"},
        {{up + "/library/busybox:latest", local + "/a..b"}, "name component 'a..b'"},
        {{up + "/library/busybox@sha256:abc", local + "/x"}, "invalid digest 'sha256:abc'"},
        {{up + "/library/busybox:no-such-tag", local + "/x"}, "404 Not Found, MANIFEST_UNKNOWN"},
        {{up + "/library/nothing-here:latest", local + "/x"}, "MANIFEST_UNKNOWN"},
        {{nobody_listens + "/library/busybox:latest", local + "/x"}, "Couldn't connect to server"},
        {{up + "/library/busybox:latest", nobody_listens + "/x"}, "Couldn't connect to server"},
        {{broken.host_port() + "/library/busybox:latest", local + "/x"}, "500 Internal Server Error, UNKNOWN (storage is on fire)"},
        // A HEAD answer has no body, so only the status can explain it.
        {{up + "/library/busybox:latest", broken.host_port() + "/x"}, "/v2/x/blobs/sha256:"},
        {{up + "/library/busybox:latest", local + "/x"}, "precious exists and is not an OCI layout", "precious"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = c.args;
        args.push_back(c.layout);
        const ChapterRun run = run_chapter("01_rehost_busybox", args, workspace);
        INFO(c.args[0] << " -> " << c.args[1] << ": " << run.result.err);
        check_refused("01_rehost_busybox", run.result, c.expected);
        CHECK_FALSE(fs::exists(workspace.path() / "out.oci"));
        CHECK_FALSE(has_partial_leftovers(workspace.path()));
    }
    // The folder that was not a layout was left alone.
    CHECK(fs::exists(workspace.path() / "precious" / "notes.txt"));
}
