// Chapter 07: given a registry and an upstream that refuses deletes, when the program deletes an
// image by tag and by digest, then the registry refused the tag (400 DIGEST_INVALID), accepted
// the digest (202) and dropped every tag, yet kept every byte on disk. Then the test plays the
// operator the program cannot be: it stops the registry, runs the garbage collector (dry run,
// real, --delete-untagged) and measures what left the disk and what the registry serves after.
#include "child_process.hpp"
#include "test_support.hpp"
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "rootfs_comparison.hpp"
#include "scripted_server.hpp"

#include "noise.hpp"

#include "wbclient/distribution/registry_client.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

using namespace harness;
namespace fs = std::filesystem;

using namespace test_support;

namespace {

// Every blob the registry stores, "sha256:<hex>" -> the size of its data file.
using BlobsOnDisk = std::map<std::string, std::uintmax_t>;

BlobsOnDisk blobs_on_disk(const RegistryInstance& registry) {
    BlobsOnDisk blobs;
    const fs::path root = registry.storage_root() / "docker/registry/v2/blobs/sha256";
    for (const auto& entry : fs::recursive_directory_iterator(root))
        if (entry.is_regular_file() && entry.path().filename() == "data")
            blobs["sha256:" + entry.path().parent_path().filename().string()] = entry.file_size();
    return blobs;
}

std::uintmax_t total_bytes(const BlobsOnDisk& blobs) {
    std::uintmax_t total = 0;
    for (const auto& [digest, size] : blobs) total += size;
    return total;
}

fs::path repository_dir(const RegistryInstance& registry, const std::string& repository) {
    return registry.storage_root() / "docker/registry/v2/repositories" / repository;
}

fs::path revision_link(const RegistryInstance& registry, const std::string& repository, const wbclient::Digest& digest) {
    return repository_dir(registry, repository) / "_manifests/revisions/sha256" / std::string(digest.hex()) / "link";
}

fs::path layer_link(const RegistryInstance& registry, const std::string& repository, const wbclient::Digest& digest) {
    return repository_dir(registry, repository) / "_layers/sha256" / std::string(digest.hex()) / "link";
}

// The first exchange at or after `from` with this method and path-and-query; its place in `index`.
const ObservedExchange* find(const std::vector<ObservedExchange>& exchanges, const std::string& method,
                             const std::string& uri, std::size_t* index = nullptr, std::size_t from = 0) {
    for (std::size_t i = from; i < exchanges.size(); ++i)
        if (exchanges[i].method == method && exchanges[i].uri == uri) {
            if (index) *index = i;
            return &exchanges[i];
        }
    return nullptr;
}

long status_of(wbclient::RegistryClient& client, const std::string& method, const std::string& repository,
               const std::string& rest) {
    wbclient::Request request{.method = method, .url = client.url(repository, rest)};
    request.headers.add("Accept", wbclient::accept_all_manifests());
    return client.http().perform(request).status;
}

std::set<std::string> digests_of(const std::vector<wbclient::Descriptor>& descriptors) {
    std::set<std::string> digests;
    for (const auto& d : descriptors) digests.insert(d.digest.str());
    return digests;
}

}  // namespace

TEST_CASE("chapter 07: delete by tag and by digest, then garbage-collect as the operator", "[chapter07]") {
    Workspace workspace("chapter07");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    auto local = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient upstream_client(upstream->host_port());
    const wbclient::Digest busybox = seed_busybox(upstream_client);
    wbclient::RegistryClient client(local->host_port());
    client.http().set_user_agent(harness_user_agent);

    const fs::path scratch = workspace.path() / "tmp";
    fs::create_directories(scratch);
    const ChapterRun run = run_chapter("07_delete_and_garbage_collect", {local->host_port(), upstream->host_port()},
                                       workspace, {{"TMPDIR", scratch.string()}});
    INFO(run.result.out << run.result.err << "client saw:\n" << summarize(run.transcript));
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());
    CHECK(fs::is_empty(scratch));  // the layer files were removed

    // What the program pushed, as the registry serves it now.
    const auto base = client.get_manifest("gc-demo/base", "1.0");
    REQUIRE(base.parsed.layers.size() == 1);
    const wbclient::Descriptor shared = base.parsed.layers[0];
    const auto index = client.get_manifest("gc-demo/multi", "latest");
    REQUIRE(index.parsed.manifests.size() == 2);
    std::vector<wbclient::Descriptor> children_blobs;  // the children's configs and layers
    for (const auto& child : index.parsed.manifests)
        for (const auto& blob : client.get_manifest("gc-demo/multi", child.digest.str()).parsed.references())
            children_blobs.push_back(blob);
    REQUIRE(children_blobs.size() == 4);

    // The app's manifest was deleted, but its bytes are still on disk: read it from there.
    const auto delete_by_digest = select(run.transcript, "DELETE", "/v2/gc-demo/app/manifests/sha256:");
    REQUIRE(delete_by_digest.size() == 1);
    const wbclient::Digest app_digest =
        wbclient::Digest::parse(delete_by_digest[0].uri.substr(delete_by_digest[0].uri.rfind('/') + 1));
    const std::string app_hex(app_digest.hex());
    const fs::path app_data =
        local->storage_root() / "docker/registry/v2/blobs/sha256" / app_hex.substr(0, 2) / app_hex / "data";
    REQUIRE(fs::exists(app_data));
    const std::string app_bytes = harness::read_whole_file(app_data);
    CHECK(wbclient::digest_of(app_bytes) == app_digest);
    const auto app = wbclient::Manifest::parse(app_bytes, wbclient::media_type::oci_manifest);
    REQUIRE(app.layers.size() == 2);
    CHECK(app.layers[0].digest == shared.digest);  // the app is built on the base
    const wbclient::Descriptor app_config = *app.config;
    const wbclient::Descriptor app_layer = app.layers[1];

    // 1. The HTTP side, as the client saw it and as the registry logged it.
    std::size_t refused_at = 0, head_at = 0, deleted_at = 0;
    const auto by_tag = find(run.transcript, "DELETE", "/v2/gc-demo/app/manifests/latest", &refused_at);
    REQUIRE(by_tag);
    CHECK(by_tag->status == 400);
    const auto head = find(run.transcript, "HEAD", "/v2/gc-demo/app/manifests/1.0", &head_at);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->response_header("Docker-Content-Digest") == app_digest.str());
    const auto by_digest = find(run.transcript, "DELETE", "/v2/gc-demo/app/manifests/" + app_digest.str(), &deleted_at);
    REQUIRE(by_digest);
    CHECK(by_digest->status == 202);
    CHECK(refused_at < head_at);
    CHECK(head_at < deleted_at);
    const std::string tag_refusal = "DELETE " + client.url("gc-demo/app", "manifests/latest") +
                                    ": 400 Bad Request, DIGEST_INVALID (provided digest did not match uploaded content): "
                                    "registry 2.8.2 deletes a manifest by digest only, never by tag";
    CHECK_THAT(run.result.out, Catch::Contains(tag_refusal));

    const auto log = local->access_log();
    const auto logged_refusal = find(log, "DELETE", "/v2/gc-demo/app/manifests/latest");
    REQUIRE(logged_refusal);
    CHECK(logged_refusal->status == 400);
    CHECK(logged_refusal->error_code == "digest invalid");
    const auto logged_delete = find(log, "DELETE", "/v2/gc-demo/app/manifests/" + app_digest.str());
    REQUIRE(logged_delete);
    CHECK(logged_delete->status == 202);

    // Every tag went with the digest; the manifest answers 404 by tag and by digest.
    for (const std::string& reference : {std::string("1.0"), std::string("latest"), app_digest.str()}) {
        INFO(reference);
        std::size_t at = 0;
        const auto get = find(run.transcript, "GET", "/v2/gc-demo/app/manifests/" + reference, &at);
        REQUIRE(get);
        CHECK(get->status == 404);
        CHECK(at > deleted_at);
        CHECK(status_of(client, "GET", "gc-demo/app", "manifests/" + reference) == 404);
    }
    const wbclient::Request tags{.url = client.url("gc-demo/app", "tags/list")};
    CHECK(client.http().perform(tags).body == R"({"name":"gc-demo/app","tags":null})" "\n");
    // The program prints the body as it came: the null the page talks about is in the run.
    CHECK_THAT(run.result.out,
               Catch::Contains(R"(GET gc-demo/app tags/list: 200 OK, {"name":"gc-demo/app","tags":null})" "\n"));

    // Soft: the blobs the manifest named were still served after the delete.
    for (const auto& blob : {app_config, shared, app_layer}) {
        const auto blob_head =
            find(run.transcript, "HEAD", "/v2/gc-demo/app/blobs/" + blob.digest.str(), nullptr, deleted_at);
        REQUIRE(blob_head);
        CHECK(blob_head->status == 200);
        CHECK(blob_head->response_header("Content-Length") == std::to_string(blob.size));
    }
    // A blob DELETE unlinks the blob from gc-demo/app only; gc-demo/base still serves it.
    std::size_t blob_deleted_at = 0;
    const auto blob_delete =
        find(run.transcript, "DELETE", "/v2/gc-demo/app/blobs/" + shared.digest.str(), &blob_deleted_at);
    REQUIRE(blob_delete);
    CHECK(blob_delete->status == 202);
    const auto head_after =
        find(run.transcript, "HEAD", "/v2/gc-demo/app/blobs/" + shared.digest.str(), nullptr, blob_deleted_at);
    REQUIRE(head_after);
    CHECK(head_after->status == 404);
    CHECK(status_of(client, "HEAD", "gc-demo/app", "blobs/" + shared.digest.str()) == 404);
    CHECK(status_of(client, "HEAD", "gc-demo/base", "blobs/" + shared.digest.str()) == 200);
    CHECK_THAT(run.result.out, Catch::Contains("  HEAD in gc-demo/app:  404 Not Found\n  HEAD in gc-demo/base: 200, " +
                                               std::to_string(shared.size) + " bytes\n"));

    // The upstream refuses: 405 UNSUPPORTED, and busybox is still there.
    const auto refused_upstream =
        find(run.transcript, "DELETE", "/v2/library/busybox/manifests/" + busybox.str());
    REQUIRE(refused_upstream);
    CHECK(refused_upstream->host == upstream->host_port());
    CHECK(refused_upstream->status == 405);
    const auto upstream_log = upstream->access_log();
    const auto logged_405 = find(upstream_log, "DELETE", "/v2/library/busybox/manifests/" + busybox.str());
    REQUIRE(logged_405);
    CHECK(logged_405->error_code == "unsupported");
    CHECK_THAT(run.result.out, Catch::Contains("405 Method Not Allowed, UNSUPPORTED (The operation is unsupported.): "
                                               "deleting is switched off on this registry"));
    CHECK(upstream_client.get_manifest("library/busybox", "latest").digest == busybox);

    // The empty repository is still in the catalog.
    const auto repositories = wbclient::list_repositories(client, 100);
    CHECK(std::count(repositories.begin(), repositories.end(), "gc-demo/app") == 1);
    CHECK_THAT(run.result.out, Catch::Contains("  gc-demo/app: (no tags)\n  gc-demo/base: 1.0\n  gc-demo/multi: latest\n"));

    // 2. On disk, the delete removed link files only: every blob's data is still there.
    const BlobsOnDisk before = blobs_on_disk(*local);
    for (const auto& blob : {app_config, shared, app_layer}) {
        INFO(blob.digest.str());
        REQUIRE(before.contains(blob.digest.str()));
        CHECK(before.at(blob.digest.str()) == blob.size);
    }
    CHECK(before.at(app_digest.str()) == app_bytes.size());
    CHECK_FALSE(fs::exists(revision_link(*local, "gc-demo/app", app_digest)));
    CHECK_FALSE(fs::exists(repository_dir(*local, "gc-demo/app") / "_manifests/tags/latest"));
    CHECK_FALSE(fs::exists(repository_dir(*local, "gc-demo/app") / "_manifests/tags/1.0"));
    CHECK_FALSE(fs::exists(layer_link(*local, "gc-demo/app", shared.digest)));
    CHECK(fs::exists(layer_link(*local, "gc-demo/app", app_layer.digest)));
    CHECK(before.size() == 13);  // base 3, app 3, the index and its two images of 3 each
    const std::set<std::string> app_garbage = {app_digest.str(), app_config.digest.str(), app_layer.digest.str()};

    // The three images it built, unpacked by our library, are the rootfs umoci unpacks. Read
    // from the storage, before the collector runs: the app is deleted, and umoci takes one
    // image, not an index, so each of gc-demo/multi's two children is compared on its own.
    {
        const auto noise_file = [](unsigned kib, unsigned seed) {
            return Catch::Contains(wbclient::digest_of(workbook::noise(kib * 1024, seed)).str());
        };
        const auto unpacked = [&](const wbclient::Digest& manifest, const std::string& name) {
            const auto layout = layout_from_storage(*local, manifest, workspace.path() / (name + ".oci"), "image");
            return check_same_rootfs_as_umoci(layout, "image", workspace.path() / name);
        };
        const auto base_tree = unpacked(base.digest, "base");
        REQUIRE(base_tree.count("base.bin"));
        CHECK_THAT(base_tree.at("base.bin"), noise_file(64, 1));
        const auto app_tree = unpacked(app_digest, "app");
        REQUIRE(app_tree.count("app.bin"));
        CHECK_THAT(app_tree.at("app.bin"), noise_file(192, 2));
        REQUIRE(app_tree.count("base.bin"));
        CHECK(app_tree.at("base.bin") == base_tree.at("base.bin"));  // the shared layer
        for (const auto& child : index.parsed.manifests) {
            const std::string architecture = child.platform.value().architecture;
            const auto tree = unpacked(child.digest, architecture);
            REQUIRE(tree.count(architecture + ".bin"));
            CHECK_THAT(tree.at(architecture + ".bin"), noise_file(32, architecture == "amd64" ? 3 : 4));
        }
    }

    // 3. The operator: the collector refuses to share storage with a running registry.
    CHECK_THROWS_AS(local->garbage_collect({"--dry-run"}), std::logic_error);
    local->stop();

    const RunResult dry_run = local->garbage_collect({"--dry-run"});
    INFO("dry run:\n" << dry_run.out << dry_run.err);
    REQUIRE(dry_run.exit_code == 0);
    CHECK_THAT(dry_run.out, Catch::Contains("10 blobs marked, 3 blobs and 0 manifests eligible for deletion"));
    CHECK(digests_after(dry_run.out, "blob eligible for deletion: ") == app_garbage);
    CHECK(digests_after(dry_run.out, "gc-demo/base: marking blob ") ==
          std::set<std::string>{base.parsed.config->digest.str(), shared.digest.str()});
    CHECK(digests_after(dry_run.out, "gc-demo/base: marking manifest ") == std::set<std::string>{base.digest.str()});
    CHECK(digests_after(dry_run.out, "gc-demo/app: marking").empty());
    CHECK(blobs_on_disk(*local) == before);  // a dry run deletes nothing

    const RunResult collected = local->garbage_collect({});
    INFO("collected:\n" << collected.out << collected.err);
    REQUIRE(collected.exit_code == 0);
    CHECK_THAT(collected.out, Catch::Contains("10 blobs marked, 3 blobs and 0 manifests eligible for deletion"));
    CHECK(digests_after(collected.out, "blob eligible for deletion: ") == app_garbage);
    const BlobsOnDisk after = blobs_on_disk(*local);
    BlobsOnDisk expected = before;
    for (const auto& digest : app_garbage) expected.erase(digest);
    CHECK(after == expected);
    CHECK(total_bytes(before) - total_bytes(after) == app_bytes.size() + app_config.size + app_layer.size);
    CHECK(after.contains(shared.digest.str()));  // gc-demo/base:1.0 still needs it
    // The collector removes data, not links: gc-demo/app still links its lost layer.
    CHECK(fs::exists(layer_link(*local, "gc-demo/app", app_layer.digest)));

    // 4. --delete-untagged: the index's children have no tag, so they go, and the index dangles.
    const RunResult untagged = local->garbage_collect({"--delete-untagged"});
    INFO("delete-untagged:\n" << untagged.out << untagged.err);
    REQUIRE(untagged.exit_code == 0);
    CHECK_THAT(untagged.out, Catch::Contains("6 blobs marked, 4 blobs and 2 manifests eligible for deletion"));
    CHECK(digests_after(untagged.out, "manifest eligible for deletion: ") == digests_of(index.parsed.manifests));
    CHECK(digests_after(untagged.out, "blob eligible for deletion: ") == digests_of(children_blobs));
    // The index marks its children's manifests, so their bytes stay; their configs and layers go.
    CHECK(digests_after(untagged.out, "gc-demo/multi: marking blob ") == digests_of(index.parsed.manifests));
    const BlobsOnDisk untagged_after = blobs_on_disk(*local);
    expected = after;
    for (const auto& blob : children_blobs) expected.erase(blob.digest.str());
    CHECK(untagged_after == expected);
    for (const auto& child : index.parsed.manifests) {
        CHECK(untagged_after.contains(child.digest.str()));
        CHECK_FALSE(fs::exists(revision_link(*local, "gc-demo/multi", child.digest)));
    }

    // 5. Started again, the registry serves what is left, and 404s for what was collected.
    local->start();
    CHECK(status_of(client, "HEAD", "gc-demo/app", "blobs/" + app_layer.digest.str()) == 404);
    CHECK(status_of(client, "HEAD", "gc-demo/app", "blobs/" + app_config.digest.str()) == 404);
    CHECK(status_of(client, "GET", "gc-demo/base", "blobs/" + shared.digest.str()) == 200);
    CHECK(client.get_manifest("gc-demo/base", "1.0").digest == base.digest);
    // The dangling index: served, but every image it names is gone.
    CHECK(client.get_manifest("gc-demo/multi", "latest").digest == index.digest);
    for (const auto& child : index.parsed.manifests)
        CHECK(status_of(client, "GET", "gc-demo/multi", "manifests/" + child.digest.str()) == 404);
    for (const auto& blob : children_blobs)
        CHECK(status_of(client, "GET", "gc-demo/multi", "blobs/" + blob.digest.str()) == 404);
    // Empty repositories stay in the catalog, after a collection too.
    const auto still_listed = wbclient::list_repositories(client, 100);
    CHECK(still_listed == std::vector<std::string>{"gc-demo/app", "gc-demo/base", "gc-demo/multi"});
    CHECK(client.http().perform(tags).body == R"({"name":"gc-demo/app","tags":null})" "\n");

    // The reader can do it all again: the program re-uploads what the collector took.
    const ChapterRun again = run_chapter("07_delete_and_garbage_collect", {local->host_port(), upstream->host_port()},
                                         workspace, {{"TMPDIR", scratch.string()}});
    INFO(again.result.out << again.result.err);
    CHECK(again.result.exit_code == 0);
    CHECK(blobs_on_disk(*local).contains(app_layer.digest.str()));
    CHECK(client.get_manifest("gc-demo/multi", index.parsed.manifests[0].digest.str()).digest ==
          index.parsed.manifests[0].digest);
}

TEST_CASE("chapter 07: one-line errors that explain registry 2.8.2's answers to DELETE", "[chapter07]") {
    Workspace workspace("chapter07-errors");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    auto local = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient upstream_client(upstream->host_port());
    const wbclient::Digest busybox = seed_busybox(upstream_client);
    wbclient::RegistryClient client(local->host_port());
    const wbclient::Digest pushed = seed_busybox(client, "errors/busybox", "latest");
    const wbclient::Digest zeros = wbclient::Digest::parse("sha256:" + std::string(64, '0'));

    // A tag, refused: the explanation says to resolve it first.
    const wbclient::Request by_tag{.method = "DELETE", .url = client.url("errors/busybox", "manifests/latest")};
    const wbclient::Response refused = client.http().perform(by_tag);
    CHECK(refused.status == 400);
    const wbclient::RegistryError tag_refusal(by_tag, refused, wbclient::explain_delete_refusal(by_tag, refused));
    CHECK(tag_refusal.code() == "DIGEST_INVALID");
    CHECK(is_one_line(std::string(tag_refusal.what()) + "\n"));
    CHECK_THAT(tag_refusal.what(), Catch::EndsWith("registry 2.8.2 deletes a manifest by digest only, never by tag: "
                                                   "HEAD 'latest' for its Docker-Content-Digest and DELETE that"));

    struct Case {
        std::string name;
        std::function<void()> attempt;
        long status;
        std::string code;
        std::string explanation;
    };
    const std::vector<Case> cases = {
        {"an unknown manifest", [&] { wbclient::delete_manifest(client, "errors/busybox", zeros); }, 404,
         "MANIFEST_UNKNOWN", "the repository has no manifest with this digest"},
        {"an unknown blob", [&] { wbclient::delete_blob(client, "errors/busybox", zeros); }, 404, "BLOB_UNKNOWN",
         "the repository has no link to this blob"},
        {"a manifest on the upstream", [&] { wbclient::delete_manifest(upstream_client, "library/busybox", busybox); },
         405, "UNSUPPORTED", "deleting is switched off on this registry (storage.delete.enabled is false"},
        {"a blob on the upstream",
         [&] {
             const auto config = upstream_client.get_manifest("library/busybox", "latest").parsed.config;
             wbclient::delete_blob(upstream_client, "library/busybox", config->digest);
         },
         405, "UNSUPPORTED", "deleting is switched off on this registry"},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        try {
            c.attempt();
            FAIL("the registry accepted the DELETE");
        } catch (const wbclient::RegistryError& refusal) {
            CHECK(refusal.status() == c.status);
            CHECK(refusal.code() == c.code);
            CHECK(is_one_line(std::string(refusal.what()) + "\n"));
            CHECK_THAT(refusal.what(), Catch::StartsWith("DELETE http://") && Catch::Contains(c.code) &&
                                           Catch::Contains(c.explanation));
        }
    }

    // A tag that does not exist: HEAD's 404 has no body, so the library says what it means.
    try {
        wbclient::delete_manifest(client, "errors/busybox", "no-such-tag");
        FAIL("deleted a tag that does not exist");
    } catch (const wbclient::RegistryError& error) {
        FAIL("a bare RegistryError: " << error.what());
    } catch (const std::runtime_error& error) {
        CHECK_THAT(error.what(), Catch::Contains("/manifests/no-such-tag: 404 Not Found: there is no tag "
                                                 "'no-such-tag' in errors/busybox to delete"));
    }
    // A digest is deleted as it is; the upstream's busybox survived every attempt.
    CHECK(wbclient::delete_manifest(client, "errors/busybox", pushed.str()) == pushed);
    CHECK(status_of(client, "GET", "errors/busybox", "manifests/latest") == 404);
    CHECK(upstream_client.get_manifest("library/busybox", "latest").digest == busybox);
}

TEST_CASE("chapter 07: bad input fails with one line and leaves no layer files", "[chapter07]") {
    Workspace workspace("chapter07-bad-input");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    auto local = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient upstream_client(upstream->host_port());
    seed_busybox(upstream_client);
    // An "upstream" that deletes when asked, and one without busybox.
    auto permissive = start_registry({.role = "registry"}, workspace.path() / "permissive");
    wbclient::RegistryClient permissive_client(permissive->host_port());
    const wbclient::Digest doomed = seed_busybox(permissive_client);
    auto empty = start_registry({.role = "upstream"}, workspace.path() / "empty");
    ScriptedServer broken([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 500,
                                .headers = {{"Content-Type", "application/json"}},
                                .body = R"({"errors":[{"code":"UNKNOWN","message":"storage is on fire"}]})"};
    });
    const std::string nobody_listens = "127.0.0.1:" + std::to_string(free_loopback_port());
    const std::string up = upstream->host_port();
    const fs::path scratch = workspace.path() / "tmp";
    fs::create_directories(scratch);

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{nobody_listens, up}, "Couldn't connect to server"},
        {{broken.host_port(), up}, "500 Internal Server Error"},
        {{"localhost:99999", up}, "port '99999' is not a number from 1 to 65535"},
        {{local->host_port(), nobody_listens}, "Couldn't connect to server"},
        {{local->host_port(), empty->host_port()}, "/v2/library/busybox/manifests/latest: 404 Not Found"},
        {{local->host_port(), permissive->host_port()},
         "the upstream deleted library/busybox@" + doomed.str() + "; it should refuse"},
    };
    for (const auto& c : cases) {
        const ChapterRun run =
            run_chapter("07_delete_and_garbage_collect", c.args, workspace, {{"TMPDIR", scratch.string()}});
        INFO(c.args[0] << " " << c.args[1] << ": " << run.result.out << run.result.err);
        check_refused("07_delete_and_garbage_collect", run.result, c.expected);
        CHECK(fs::is_empty(scratch));
    }

    const RunResult usage =
        run_program({chapter_program("07_delete_and_garbage_collect").string(), "a", "b", "c"});
    CHECK(usage.exit_code == 1);
    CHECK(is_one_line(usage.err));
    CHECK_THAT(usage.err, Catch::StartsWith("usage: ") && Catch::Contains("[registry [upstream]]"));
}
