// Reliability: the registry crashes (SIGKILL) in the middle of a push and in the middle of a
// pull. Given a registry that already holds busybox and an image of two incompressible layers
// (16 and 32 MiB), when the registry is killed while the chapter 01 program is moving the big
// layer, then the program says so in one line and exits 1, leaves nothing half-written in its
// folder, and after a restart a second run completes; the image verifies and nothing the
// registry held before is lost.
//
// The moment of the crash comes from what the test observes, not from a sleep: the registry's
// upload file (push) or the client's partial blob file (pull) has started to grow. The client
// is then paused (SIGSTOP) so the transfer is pinned mid-way while the registry is killed, and
// resumed to meet the dead connection.
#include "test_support.hpp"
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "large_image.hpp"
#include "registry_instance.hpp"

#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <catch2/catch.hpp>

#include <optional>

using namespace harness;
using namespace test_support;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t small_layer = 16 * 1024 * 1024;
constexpr std::uint64_t big_layer = 32 * 1024 * 1024;

// Two registries as chapter 01 expects them: the upstream serves the big image, the local
// registry already holds busybox (the content that must survive the crash).
struct CrashScene {
    std::unique_ptr<RegistryInstance> upstream;
    std::unique_ptr<RegistryInstance> local;
    wbclient::BuiltImage big;
    wbclient::Digest busybox;
    fs::path client_folder;

    std::string source() const { return upstream->host_port() + "/big/image:latest"; }
    std::string destination() const { return local->host_port() + "/big:latest"; }
    const wbclient::Descriptor& layer(std::size_t n) const { return big.layers.at(n).built.blob; }
};

CrashScene set_up(const Workspace& workspace, bool big_already_local) {
    auto upstream_registry = start_registry({.role = "upstream"}, workspace.path());
    auto local_registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::BuiltImage big =
        build_large_image(workspace.path() / "image", {small_layer, big_layer}, 6);
    const std::string source = upstream_registry->host_port() + "/big/image:latest";
    const std::string destination = local_registry->host_port() + "/big:latest";
    wbclient::RegistryClient upstream(upstream_registry->host_port());
    upstream.http().set_user_agent(harness_user_agent);
    wbclient::push_image(upstream, wbclient::Reference::parse(source), big);
    wbclient::RegistryClient local(local_registry->host_port());
    local.http().set_user_agent(harness_user_agent);
    const wbclient::Digest busybox = seed_busybox(local, "my-busybox", "latest");
    if (big_already_local)
        wbclient::push_image(local, wbclient::Reference::parse(destination), big);
    const fs::path client_folder = workspace.path() / "client";
    fs::create_directories(client_folder);
    return CrashScene{std::move(upstream_registry), std::move(local_registry), std::move(big),
                      busybox, client_folder};
}

fs::path repository_folder(const RegistryInstance& registry, const std::string& repository) {
    return registry.storage_root() / "docker/registry/v2/repositories" / repository;
}

std::uint64_t size_or_zero(const fs::path& file) {
    std::error_code error;
    const auto size = fs::file_size(file, error);
    return error ? 0 : size;
}

// The `data` file of an upload session of `repository` that holds at least one byte.
std::optional<fs::path> growing_upload(const RegistryInstance& registry,
                                       const std::string& repository) {
    const fs::path uploads = repository_folder(registry, repository) / "_uploads";
    std::error_code error;
    for (const auto& session : fs::directory_iterator(uploads, error))
        if (size_or_zero(session.path() / "data") > 0) return session.path() / "data";
    return std::nullopt;
}

// The client's temporary copy of `blob` in an OCI layout being staged below `folder`.
std::optional<fs::path> growing_partial_blob(const fs::path& folder,
                                             const wbclient::Descriptor& blob) {
    std::error_code error;
    for (const auto& staging : fs::directory_iterator(folder, error)) {
        const fs::path partial = staging.path() / "blobs/sha256" /
                                 (std::string(blob.digest.hex()) + ".partial");
        if (size_or_zero(partial) > 0) return partial;
    }
    return std::nullopt;
}

// Chapter 01's arguments: copy the big image to the local registry, pull it into the client's
// folder.
std::vector<std::string> chapter01_args(const CrashScene& scene) {
    return {scene.source(), scene.destination(), (scene.client_folder / "big.oci").string()};
}
std::vector<std::string> chapter01(const CrashScene& scene) {
    std::vector<std::string> argv{chapter_program("01_rehost_busybox").string()};
    for (const auto& arg : chapter01_args(scene)) argv.push_back(arg);
    return argv;
}

// The first run's transcript, and the environment that records it.
std::map<std::string, std::string> recording(const fs::path& transcript) {
    return {{"WORKBOOK_TRANSCRIPT", transcript.string()}, {"WORKBOOK_STALL_SECONDS", "10"}};
}

// The client's report of the crash: one line, exit 1, naming the request that failed (e.g.
// "01_rehost_busybox: PUT http://.../v2/big/blobs/uploads/...: Failed sending data to the
// peer") and how, and nothing left behind.
void check_reported_cleanly(const RunResult& result, const CrashScene& scene,
                            const std::string& failed_request) {
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    CHECK_FALSE(result.timed_out);
    CHECK(result.exit_code == 1);
    CHECK(is_one_line(result.err));
    CHECK_THAT(result.err, Catch::StartsWith("01_rehost_busybox: " + failed_request));
    // libcurl's words for a connection that died mid-transfer, as each side sees it; or, when
    // it died on a kept-alive connection, for libcurl's one retry on a fresh connection, which
    // the dead registry refuses.
    CHECK_THAT(result.err, Catch::Contains("Failed sending data to the peer") ||
                               Catch::Contains("Failure when receiving data from the peer") ||
                               Catch::Contains("Transferred a partial file") ||
                               Catch::Contains("Couldn't connect to server"));
    CHECK_FALSE(fs::exists(scene.client_folder / "big.oci"));
    CHECK_FALSE(has_partial_leftovers(scene.client_folder));
}

// After the restart: the image as pushed, pulled back by the library, every blob re-hashed;
// and busybox, pushed before the crash, still whole.
void check_nothing_lost(const CrashScene& scene, const Workspace& workspace) {
    wbclient::RegistryClient local(scene.local->host_port());
    local.http().set_user_agent(harness_user_agent);
    const fs::path big_copy = workspace.path() / "verify-big.oci";
    CHECK(wbclient::pull_to_layout(local, wbclient::Reference::parse(scene.destination()),
                                    big_copy) == scene.big.manifest_blob.digest);
    CHECK(wbclient::verify_oci_layout(big_copy) == 4);  // manifest, config, two layers
    const fs::path busybox_copy = workspace.path() / "verify-busybox.oci";
    CHECK(wbclient::pull_to_layout(
              local, wbclient::Reference::parse(scene.local->host_port() + "/my-busybox:latest"),
              busybox_copy) == scene.busybox);
    CHECK(wbclient::verify_oci_layout(busybox_copy) == 3);
    // The client's own pull, from the second run, verifies too.
    CHECK(wbclient::verify_oci_layout(scene.client_folder / "big.oci") == 4);
    // No request, before or after the crash, was answered with a server error.
    for (const auto& exchange : scene.local->access_log()) {
        INFO(exchange.method << " " << exchange.uri << " " << exchange.status << " "
                             << exchange.error_code);
        CHECK(exchange.status < 500);
    }
}

}  // namespace

TEST_CASE("reliability: the registry is killed in the middle of a push", "[reliability][crash]") {
    Workspace workspace("reliability-crash-push");
    CrashScene scene = set_up(workspace, false);
    const fs::path transcript = workspace.path() / "first-run.transcript.jsonl";

    // The push of the second layer has begun: the first layer is stored whole and an upload
    // session of the second already holds bytes.
    RunningProgram client(chapter01(scene), {.environment = recording(transcript), .working_directory = scene.client_folder});
    std::optional<fs::path> upload;
    const bool mid_push = poll_until(
        [&] {
            if (size_or_zero(scene.local->blob_data(scene.layer(0).digest)) != scene.layer(0).size)
                return false;
            upload = growing_upload(*scene.local, "big");
            return upload.has_value();
        },
        std::chrono::seconds(60));
    client.pause();
    scene.local->kill();
    client.resume();
    REQUIRE(mid_push);
    const RunResult first = client.wait(std::chrono::seconds(60));

    {  // The crash cut the second layer's upload mid-way.
        const std::uint64_t received = size_or_zero(*upload);
        INFO("the registry held " << received << " of " << scene.layer(1).size << " bytes");
        CHECK(received > 0);
        CHECK(received < scene.layer(1).size);
        CHECK_FALSE(fs::exists(scene.local->blob_data(scene.layer(1).digest)));
        CHECK_FALSE(fs::exists(repository_folder(*scene.local, "big") / "_manifests/tags/latest"));
        // The client's view: the blob PUT failed without an answer (status 0).
        const auto seen = read_transcript(transcript);
        INFO(summarize(seen));
        const auto puts = select(seen, "PUT", "/v2/big/blobs/uploads/");
        REQUIRE_FALSE(puts.empty());
        CHECK(puts.back().status == 0);
        CHECK_THAT(puts.back().uri, Catch::EndsWith("digest=" + scene.layer(1).digest.str()));
    }

    {  // The client reports it; a second run after the restart pushes it; nothing is lost.
        check_reported_cleanly(first, scene,
                               "PUT " + scene.local->url() + "/v2/big/blobs/uploads/");

        scene.local->start();
        // The killed session's partial upload survives the restart (purged only after a week).
        CHECK(size_or_zero(*upload) > 0);
        const std::size_t logged_before = scene.local->access_log().size();

        const ChapterRun second = run_chapter("01_rehost_busybox", chapter01_args(scene), workspace);
        INFO(second.result.out << second.result.err);
        REQUIRE(second.result.exit_code == 0);
        // It restarted the interrupted layer and kept what had been stored whole.
        CHECK_THAT(second.result.out, Catch::Contains("exists " + scene.layer(0).digest.str()));
        CHECK_THAT(second.result.out, Catch::Contains("copied " + scene.layer(1).digest.str()));
        CHECK_THAT(second.result.out,
                   Catch::Contains("Pushed manifest " + scene.big.manifest_blob.digest.str()));
        const auto after = scene.local->access_log();
        std::vector<ObservedExchange> second_run(after.begin() + logged_before, after.end());
        INFO(summarize(second_run));
        const auto put = index_of(second_run, "PUT", "/v2/big/blobs/uploads/");
        CHECK(second_run[put].status == 201);
        CHECK_THAT(second_run[put].uri, Catch::EndsWith("digest=" + scene.layer(1).digest.str()));
        CHECK(size_or_zero(scene.local->blob_data(scene.layer(1).digest)) == scene.layer(1).size);

        check_nothing_lost(scene, workspace);
    }
}

TEST_CASE("reliability: the registry is killed in the middle of a pull", "[reliability][crash]") {
    Workspace workspace("reliability-crash-pull");
    CrashScene scene = set_up(workspace, true);
    const fs::path transcript = workspace.path() / "first-run.transcript.jsonl";

    // The pull of the second layer has begun: the client's partial copy of it holds bytes.
    RunningProgram client(chapter01(scene), {.environment = recording(transcript), .working_directory = scene.client_folder});
    std::optional<fs::path> partial;
    const bool mid_pull = poll_until(
        [&] {
            partial = growing_partial_blob(scene.client_folder, scene.layer(1));
            return partial.has_value();
        },
        std::chrono::seconds(60));
    client.pause();
    const std::uint64_t received = mid_pull ? size_or_zero(*partial) : 0;
    scene.local->kill();
    client.resume();
    REQUIRE(mid_pull);
    const RunResult first = client.wait(std::chrono::seconds(60));

    {  // The crash cut the second layer's download mid-way.
        INFO("the client held " << received << " of " << scene.layer(1).size << " bytes");
        CHECK(received > 0);
        CHECK(received < scene.layer(1).size);
        const auto seen = read_transcript(transcript);
        INFO(summarize(seen));
        const auto gets = select(seen, "GET", "/v2/big/blobs/" + scene.layer(1).digest.str());
        REQUIRE(gets.size() == 1);
        CHECK(gets[0].bytes_received >= received);
        CHECK(gets[0].bytes_received < scene.layer(1).size);
        // The registry never logged that GET as completed: it died while serving it.
        for (const auto& exchange : scene.local->access_log())
            CHECK_FALSE((exchange.method == "GET" &&
                         exchange.uri == "/v2/big/blobs/" + scene.layer(1).digest.str()));
        // Serving a blob writes nothing: the registry's copy is whole.
        CHECK(size_or_zero(scene.local->blob_data(scene.layer(1).digest)) == scene.layer(1).size);
    }

    {  // The client reports it; a second run after the restart pulls it; nothing is lost.
        check_reported_cleanly(first, scene, "GET " + scene.local->url() + "/v2/big/blobs/" +
                                                 scene.layer(1).digest.str() + ": ");

        scene.local->start();
        const ChapterRun second = run_chapter("01_rehost_busybox", chapter01_args(scene), workspace);
        INFO(second.result.out << second.result.err);
        REQUIRE(second.result.exit_code == 0);
        CHECK_THAT(second.result.out, Catch::Contains("exists " + scene.layer(1).digest.str()));
        CHECK_THAT(second.result.out, Catch::Contains("pulled " + scene.layer(1).digest.str()));

        check_nothing_lost(scene, workspace);
    }
}
