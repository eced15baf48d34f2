// Chapter 14: given a registry 2.8.2, when the program pushes an image, an SBOM and a signature
// about it and a signature of the SBOM, then it asked the referrers API first (404, plain text,
// logged by no handler), kept the referrers in the `sha256-<hex>` tags itself (the manifest PUTs
// came back without OCI-Subject), and every artifact's manifest names its subject. Other clients
// (skopeo, chapter 02's program) see the referrers tag as an ordinary image index. The race of
// two writers lost one descriptor and the program's retry put it back. After the image is
// deleted, the garbage collector takes the image's bytes and leaves the artifacts and the tag;
// with --delete-untagged it takes the artifacts and leaves the tag naming nothing.
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "rootfs_comparison.hpp"
#include "test_support.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/model/artifact.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <sstream>

using namespace harness;
namespace fs = std::filesystem;
using namespace test_support;

namespace {

const std::string program = "14_artifacts_and_referrers";
const std::string repository = "referrers-demo/app";
const std::string signature_type = "application/vnd.example.signature.v1+json";

long status_of(wbclient::RegistryClient& client, const std::string& repository, const std::string& rest) {
    wbclient::Request request{.url = client.url(repository, rest)};
    request.headers.add("Accept", wbclient::accept_all_manifests());
    return client.http().perform(request).status;
}

// The registry's access log (Apache's combined format, one line per request, on its stdout): the
// one place a request that no route matched is logged. The native engine writes it to
// <workdir>/registry/access.log; docker compose interleaves stdout with the JSON log.
std::string access_lines(const RegistryInstance& registry, const Workspace& workspace) {
    if (registry.engine() != "native") return registry.log();
    return read_existing_file(workspace.path() / "registry" / "access.log");
}

// The digest the registry gave the manifest PUT to `uri` in the transcript.
wbclient::Digest put_digest(const std::vector<ObservedExchange>& transcript, const std::string& uri) {
    const std::size_t at = index_of(transcript, "PUT", uri);
    REQUIRE(transcript[at].status == 201);
    return wbclient::Digest::parse(transcript[at].response_header("Docker-Content-Digest").value_or(""));
}

}  // namespace

TEST_CASE("chapter 14: artifacts, the referrers API probe, the fallback tag, the race, delete and collect",
          "[chapter14]") {
    Workspace workspace("chapter14");
    auto local = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient client(local->host_port());
    client.http().set_user_agent(harness_user_agent);
    const fs::path scratch = workspace.path() / "tmp";
    fs::create_directories(scratch);

    const ChapterRun run = run_chapter(program, {local->host_port()}, workspace, {{"TMPDIR", scratch.string()}});
    INFO(run.result.out << run.result.err << "client saw:\n" << summarize(run.transcript));
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());
    CHECK(fs::is_empty(scratch));

    const wbclient::Digest image = put_digest(run.transcript, "/v2/" + repository + "/manifests/1.0");
    const std::string image_tag = wbclient::referrers_tag(image);

    // 1. The referrers API first: 404 with a plain-text body, with and without the filter.
    const std::string probe = "/v2/" + repository + "/referrers/" + image.str();
    const std::size_t probed = index_of(run.transcript, "GET", probe);
    CHECK(run.transcript[probed].uri == probe);
    CHECK(run.transcript[probed].status == 404);
    CHECK(run.transcript[probed].response_header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(run.transcript[probed].bytes_received == std::string("404 page not found\n").size());
    const std::size_t filtered = index_of(run.transcript, "GET", probe + "?artifactType=", probed + 1);
    CHECK(run.transcript[filtered].uri == probe + "?artifactType=application%2fvnd.example.signature.v1%2bjson");
    CHECK(run.transcript[filtered].status == 404);
    CHECK_THAT(run.result.out, Catch::Contains("GET " + probe + "\n  404 Not Found\n  Content-Type: text/plain; "
                                               "charset=utf-8\n") &&
                                   Catch::Contains("  body: \"404 page not found\\n\"\n") &&
                                   Catch::Contains("A 404 here means: no referrers API."));
    // No route matched, so no handler wrote a "response completed" line; the access log has it.
    const auto logged = local->access_log();
    CHECK(std::none_of(logged.begin(), logged.end(), [](const auto& e) { return e.uri.find("/referrers/") != std::string::npos; }));
    CHECK_THAT(access_lines(*local, workspace), Catch::Contains("\"GET " + probe + " HTTP/1.1\" 404 19 ") &&
                                 Catch::Contains("\"GET " + probe + "?artifactType=application%2fvnd.example."
                                                 "signature.v1%2bjson HTTP/1.1\" 404 19 "));

    // 2. The artifacts' manifests went by digest, came back without OCI-Subject, and name their subject.
    const wbclient::FetchedManifest tag = client.get_manifest(repository, image_tag);
    CHECK(tag.media_type == wbclient::media_type::oci_index);
    REQUIRE(tag.parsed.manifests.size() == 4);  // SBOM, signature, and the race's two
    std::set<std::string> artifact_puts;
    for (const auto& put : select(run.transcript, "PUT", "/v2/" + repository + "/manifests/sha256:")) {
        CHECK(put.status == 201);
        CHECK_FALSE(put.response_header("OCI-Subject"));
        artifact_puts.insert(put.uri.substr(put.uri.rfind('/') + 1));
    }
    CHECK(artifact_puts.size() == 5);  // the tag's four and the SBOM's signature
    const auto& sbom = tag.parsed.manifests[0];
    CHECK(sbom.artifact_type == "application/spdx+json");
    for (const auto& referrer : tag.parsed.manifests) {
        INFO(referrer.digest.str());
        CHECK(artifact_puts.contains(referrer.digest.str()));
        const wbclient::FetchedManifest artifact = client.get_manifest(repository, referrer.digest.str());
        REQUIRE(artifact.parsed.subject);
        CHECK(artifact.parsed.subject->digest == image);
        CHECK(artifact.parsed.artifact_type == referrer.artifact_type);
        CHECK(artifact.parsed.config->media_type == wbclient::media_type::oci_empty);
        CHECK(artifact.parsed.config->digest == wbclient::digest_of("{}"));
        CHECK(referrer.size == artifact.bytes.size());
    }
    // The signature of the SBOM: in the SBOM's own tag, its subject the SBOM.
    const wbclient::FetchedManifest sbom_tag = client.get_manifest(repository, wbclient::referrers_tag(sbom.digest));
    REQUIRE(sbom_tag.parsed.manifests.size() == 1);
    CHECK(sbom_tag.parsed.manifests[0].artifact_type == signature_type);
    CHECK(client.get_manifest(repository, sbom_tag.parsed.manifests[0].digest.str()).parsed.subject->digest ==
          sbom.digest);
    // The registry's side: each tag PUT, and the artifacts' manifests, 201.
    const auto tag_puts = std::count_if(logged.begin(), logged.end(), [&](const auto& e) {
        return e.method == "PUT" && e.uri == "/v2/" + repository + "/manifests/" + image_tag && e.status == 201;
    });
    CHECK(tag_puts == 5);  // SBOM, signature, the two racing writers, the retry
    for (const auto& referrer : tag.parsed.manifests)
        CHECK(std::any_of(logged.begin(), logged.end(), [&](const auto& e) {
            return e.method == "PUT" && e.uri == "/v2/" + repository + "/manifests/" + referrer.digest.str() &&
                   e.status == 201;
        }));

    // 3. The race: two PUTs of the tag from two connections, one descriptor lost, then put back.
    CHECK_THAT(run.result.out, Catch::Contains(", 3 referrers\n") &&
                                   Catch::Contains("Writer 1's descriptor is lost. Writer 1 checks: the tag holds ") &&
                                   Catch::Contains(": noticed.\nWriter 1 starts over with add_referrer: 1 attempt, "));
    // The lost one is back: the index names four distinct artifacts.
    std::set<std::string> named;
    for (const auto& referrer : tag.parsed.manifests) named.insert(referrer.digest.str());
    CHECK(named.size() == 4);

    // 4. The delete: image gone, artifacts and tags stay.
    CHECK(status_of(client, repository, "manifests/" + image.str()) == 404);
    CHECK(status_of(client, repository, "manifests/" + image_tag) == 200);
    CHECK(wbclient::list_tags(client, repository) ==
          std::vector<std::string>{wbclient::referrers_tag(sbom.digest), image_tag});

    // 4b. The image it pushed, unpacked by our library, is the rootfs umoci unpacks. The program
    // deleted it, but until step 6 collects them the storage still holds its manifest and blobs.
    // The artifacts are not unpacked: an artifact's config is the empty descriptor ({}) and its
    // layers are JSON documents (an SBOM, a signature), not tar archives: there is no rootfs to
    // compare, and umoci 0.4.7 refuses one ("config blob is not correct mediatype").
    {
        const auto layout = layout_from_storage(*local, image, workspace.path() / "subject.oci", "1.0");
        const auto tree = check_same_rootfs_as_umoci(layout, "1.0", workspace.path() / "unpacked");
        REQUIRE(tree.count("hello.txt"));
        CHECK_THAT(tree.at("hello.txt"), Catch::Contains(wbclient::digest_of("Hello from chapter 14.\n").str()));
    }

    // 5. Other clients see an ordinary index: skopeo's raw bytes are the tag's bytes.
    const RunResult skopeo = run_program({"skopeo", "inspect", "--raw", "--tls-verify=false",
                                          "docker://" + local->host_port() + "/" + repository + ":" + image_tag},
                                         {.timeout = std::chrono::seconds(60)});
    INFO("skopeo: " << skopeo.out << skopeo.err);
    CHECK(skopeo.exit_code == 0);
    CHECK(skopeo.out == tag.bytes);
    // Chapter 02's program answers for it what it answers for any image index.
    wbclient::Descriptor busybox_entry{.media_type = std::string(wbclient::media_type::docker_manifest),
                                       .digest = seed_busybox(client, "ordinary/index", "busybox"),
                                       .size = client.get_manifest("ordinary/index", "busybox").bytes.size()};
    client.put_manifest("ordinary/index", "multi", wbclient::media_type::oci_index,
                        wbclient::referrers_index({busybox_entry}));
    std::set<std::string> answers;
    for (const std::string& reference : {repository + ":" + image_tag, std::string("ordinary/index:multi")}) {
        const RunResult anatomy =
            run_program({chapter_program("02_anatomy_of_an_image").string(), local->host_port() + "/" + reference});
        INFO(reference << ": " << anatomy.out << anatomy.err);
        CHECK(anatomy.exit_code == 1);
        CHECK(is_one_line(anatomy.err));
        // An index is read as a client reads one: the entry for this machine's platform. A
        // referrers index names artifacts, which have no platform, so there is none to take.
        CHECK_THAT(anatomy.err, Catch::Contains("the index has no image for linux/"));
        CHECK_THAT(anatomy.err, Catch::Contains("only for (none)"));
        answers.insert(anatomy.err.substr(anatomy.err.find(": ") + 2, anatomy.err.find(", only for") - anatomy.err.find(": ") - 2));
    }
    CHECK(answers.size() == 1);  // the same answer for the fallback tag as for an ordinary index

    // 6. The operator's garbage collection: the image's three blobs go, the artifacts stay.
    const wbclient::Descriptor sbom_layer = client.get_manifest(repository, sbom.digest.str()).parsed.layers.at(0);
    local->stop();
    const RunResult collected = local->garbage_collect({});
    INFO("collected:\n" << collected.out << collected.err);
    REQUIRE(collected.exit_code == 0);
    CHECK_THAT(collected.out, Catch::Contains("3 blobs and 0 manifests eligible for deletion"));
    const auto gone = digests_after(collected.out, "blob eligible for deletion: ");
    CHECK(gone.contains(image.str()));
    CHECK_FALSE(gone.contains(sbom.digest.str()));
    CHECK(digests_after(collected.out, repository + ": marking manifest ").contains(sbom.digest.str()));
    CHECK_FALSE(digests_after(collected.out, repository + ": marking manifest ").contains(image.str()));
    // --delete-untagged: the artifacts have no tag of their own, so they go (and the tag dangles).
    const RunResult untagged = local->garbage_collect({"--delete-untagged"});
    INFO("delete-untagged:\n" << untagged.out << untagged.err);
    REQUIRE(untagged.exit_code == 0);
    const auto untagged_manifests = digests_after(untagged.out, "manifest eligible for deletion: ");
    for (const auto& referrer : tag.parsed.manifests) CHECK(untagged_manifests.contains(referrer.digest.str()));
    CHECK(untagged_manifests.contains(sbom_tag.parsed.manifests[0].digest.str()));
    CHECK_FALSE(untagged_manifests.contains(tag.digest.str()));
    local->start();
    CHECK(client.get_manifest(repository, image_tag).digest == tag.digest);
    for (const auto& referrer : tag.parsed.manifests) CHECK(status_of(client, repository, "manifests/" + referrer.digest.str()) == 404);
    CHECK(status_of(client, repository, "blobs/" + sbom_layer.digest.str()) == 404);
    CHECK(status_of(client, repository, "referrers/" + image.str()) == 404);
}

TEST_CASE("chapter 14: bad input fails with one line and writes nothing", "[chapter14]") {
    Workspace workspace("chapter14-bad-input");
    auto local = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient client(local->host_port());
    client.http().set_user_agent(harness_user_agent);
    const fs::path scratch = workspace.path() / "tmp";
    fs::create_directories(scratch);
    const std::string host = local->host_port();

    // The program's image, found by a good run elsewhere; its referrers tag in bad/app holds an image.
    const ChapterRun good = run_chapter(program, {host, "good/app"}, workspace, {{"TMPDIR", scratch.string()}});
    REQUIRE(good.result.exit_code == 0);
    const wbclient::Digest image = put_digest(good.transcript, "/v2/good/app/manifests/1.0");
    const wbclient::Digest squatter = seed_busybox(client, "bad/app", wbclient::referrers_tag(image));
    // Run again, it finds its artifacts listed and resets the race, as the page says.
    const ChapterRun again = run_chapter(program, {host, "good/app"}, workspace, {{"TMPDIR", scratch.string()}});
    INFO(again.result.out << again.result.err);
    CHECK(again.result.exit_code == 0);
    CHECK_THAT(again.result.out, Catch::Contains("(An earlier run left the race's referrers in the tag: written back "
                                                 "without them.)\n") &&
                                     Catch::Contains("Writer 1's descriptor is lost."));
    CHECK(client.get_manifest("good/app", wbclient::referrers_tag(image)).parsed.manifests.size() == 4);
    const std::string zeros = "sha256:" + std::string(64, '0');

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"--subject", zeros, host, "good/app"},
         "the subject " + zeros + " is no manifest of good/app (HEAD answered 404)"},
        {{"--subject", "sha512:abc", host}, "unsupported digest algorithm 'sha512' (only sha256)"},
        {{"--referrers", "sha512-" + std::string(128, 'a'), host}, "is for sha512 digests"},
        {{"--referrers", "latest", host}, "'latest' is no referrers tag: it should be sha256-<64 hex>"},
        {{"--referrers", "sha256-XYZ", host}, "is not sha256- and 64 lower-case hex characters"},
        {{"--referrers", wbclient::referrers_tag(image), host, "bad/app"},
         "bad/app:" + wbclient::referrers_tag(image) + " holds a application/vnd.docker.distribution.manifest.v2+json, "
         "not the OCI image index of referrers"},
        {{host, "bad/app"}, "refusing to overwrite it"},
        {{"127.0.0.1:" + std::to_string(free_loopback_port())}, "Couldn't connect to server"},
        {{"--referrers"}, "--referrers needs a value"},
        {{"a", "b", "c"}, "usage: 14_artifacts_and_referrers"},
    };
    for (const Case& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace, {{"TMPDIR", scratch.string()}});
        INFO(c.args[0] << " ...: " << run.result.out << run.result.err);
        check_refused(program, run.result, c.expected);
        CHECK(fs::is_empty(scratch));
    }
    // Nothing was written where the input was bad: the squatter keeps its tag, the bad subject got no tag.
    CHECK(client.get_manifest("bad/app", wbclient::referrers_tag(image)).digest == squatter);
    CHECK(status_of(client, "good/app", "manifests/sha256-" + std::string(64, '0')) == 404);
    // The only PUT of that tag is the squatter's: the program read it, and refused to write.
    const auto logged = local->access_log();
    const std::string squatted = "/v2/bad/app/manifests/" + wbclient::referrers_tag(image);
    CHECK(std::count_if(logged.begin(), logged.end(), [&](const auto& e) {
              return e.method == "PUT" && e.uri == squatted;
          }) == 1);
    CHECK(std::count_if(logged.begin(), logged.end(), [&](const auto& e) {
              return e.method == "GET" && e.uri == squatted && e.user_agent != harness_user_agent;
          }) == 2);
}
